import { Aws, Fn, Tags, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterPolicy, queue, queueAlarm, RULE_RETRY, samId } from './common';

/**
 * Properties of a member account: the parameters of templates/member-role.yaml and
 * templates/member-forwarder.yaml, with the same defaults.
 */
export interface PeerwireMemberProps {
  /** The hub's account (its HubAccountId output). */
  readonly hubAccountId: string;
  /** The hub's ExternalId (may be a token). */
  readonly externalId: string;
  /**
   * During an ExternalId rotation only: the new ExternalId, accepted as well (may be a token; a
   * token counts as set). @default '' (only externalId)
   */
  readonly nextExternalId?: string;
  /** The hub bus (the hub's HubBusArn output). */
  readonly hubBusArn: string;
  /** The member role's name; the hub's memberRoleName must be the same. @default 'peerwire-member' */
  readonly memberRoleName?: string;
  /** The hub's functionRolePath: only the hub account's roles under it may assume the role. @default '/peerwire/' */
  readonly hubRolePath?: string;
  /** Exactly these hub roles may assume the role, instead of every role under hubRolePath. @default [] */
  readonly hubRoleArns?: string[];
  /** Organization id; the caller must also belong to it. @default '' */
  readonly orgId?: string;
  /** VPCs (ARNs, wildcards allowed) peerwire may change; none = the role only reads. @default [] */
  readonly managedVpcArns?: string[];
  /**
   * VPCs of the account, as `<vpc-id>@<region>` (wildcards allowed), that peerwire may associate
   * with a peer account's private hosted zone (route53:VPCs); none = no association. @default []
   */
  readonly zoneAssociationVpcs?: string[];
  /** Flow-log groups (name pattern) peerwire diagnose may read. @default '/peerwire/flow-logs/*' */
  readonly flowLogGroupNamePattern?: string;
  /** This account's private hosted zones (ARNs) peerwire may share with peer VPCs; none = it shares none. @default [] */
  readonly hostedZoneArns?: string[];
  /** SNS topic of the forwarder's dead-letter alarm. @default '' (no action) */
  readonly alarmTopicArn?: string;
  /** Create the member role (once per account: IAM is global). @default true */
  readonly role?: boolean;
  /** Create the event forwarder (in every region peerwire manages). @default true */
  readonly forwarder?: boolean;
  /** Tags on every resource. @default none */
  readonly tags?: Record<string, string>;
}

/** The prefix of every forwarder's dead-letter alarm name (the hub's rule matches it). */
export const FORWARDER_ALARM_PREFIX = 'peerwire-forwarder-';

/**
 * The route53:VPCs values of `<vpc-id>@<region>` entries, `VPCId=<vpc-id>,VPCRegion=<region>`,
 * computed exactly as member-role.yaml does it with Join and Split (an entry without `@` gives
 * `VPCId=<entry>`, which matches no request).
 */
export function route53Vpcs(entries: string[]): string[] {
  const joined = entries.join(';').split('@').join(',VPCRegion=').split(';').join(';VPCId=');
  return `VPCId=${joined}`.split(';');
}

const READ_NETWORK = [
  'ec2:DescribeVpcPeeringConnections',
  'ec2:DescribeVpcs',
  'ec2:DescribeVpcAttribute',
  'ec2:DescribeRouteTables',
  'ec2:DescribeSubnets',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeNetworkAcls',
  'ec2:DescribeManagedPrefixLists',
];

const NETWORK_CHANGES = [
  'CreateSubnet',
  'CreateRouteTable',
  'AssociateRouteTable',
  'ReplaceRouteTableAssociation',
  'DisassociateRouteTable',
  'DeleteRoute',
  'ReplaceRoute',
  'RevokeSecurityGroupIngress',
  'RevokeSecurityGroupEgress',
  'ModifySecurityGroupRules',
  'ModifyVpcPeeringConnectionOptions',
  'AssociateVpcCidrBlock',
  'DisassociateVpcCidrBlock',
];

/**
 * One member account, as templates/member-role.yaml (the role the hub assumes, read-only until
 * VPCs are named) and templates/member-forwarder.yaml (this account's own EC2 and RDS events,
 * not peerwire's own changes, forwarded to the hub bus).
 */
export class PeerwireMember extends Construct {
  public readonly memberRole?: iam.CfnRole;
  public readonly forwarderRole?: iam.CfnRole;

  constructor(scope: Construct, id: string, props: PeerwireMemberProps) {
    super(scope, id);
    const memberRoleName = props.memberRoleName ?? 'peerwire-member';
    const hubRolePath = props.hubRolePath ?? '/peerwire/';
    const hubRoleArns = (props.hubRoleArns ?? []).filter((a) => a !== '');
    const orgId = props.orgId ?? '';
    const managed = (props.managedVpcArns ?? []).filter((a) => a !== '');
    const zones = (props.hostedZoneArns ?? []).filter((a) => a !== '');
    const zoneVpcs = (props.zoneAssociationVpcs ?? []).filter((a) => a !== '');
    const flowLogGroups = props.flowLogGroupNamePattern ?? '/peerwire/flow-logs/*';
    const alarmTopicArn = props.alarmTopicArn ?? '';
    for (const [name, value] of Object.entries({
      memberRoleName,
      hubRolePath,
      orgId,
      alarmTopicArn,
      hubRoleArns,
      managed,
      zones,
      zoneVpcs,
      flowLogGroups,
    })) {
      const values = Array.isArray(value) ? value : [value];
      if (values.some((v) => Token.isUnresolved(v))) {
        throw new Error(`PeerwireMember: ${name} must be known at synthesis`);
      }
    }
    if (props.role ?? true) {
      this.memberRole = this.buildMemberRole(props, { memberRoleName, hubRolePath, hubRoleArns, orgId, managed, zones, zoneVpcs, flowLogGroups });
    }
    if (props.forwarder ?? true) {
      this.forwarderRole = this.buildForwarder(props.hubBusArn, memberRoleName, alarmTopicArn);
    }
    for (const [key, value] of Object.entries(props.tags ?? {})) {
      Tags.of(this).add(key, value);
    }
  }

  private buildMemberRole(
    props: PeerwireMemberProps,
    o: {
      memberRoleName: string;
      hubRolePath: string;
      hubRoleArns: string[];
      orgId: string;
      managed: string[];
      zones: string[];
      zoneVpcs: string[];
      flowLogGroups: string;
    },
  ): iam.CfnRole {
    const account = Aws.ACCOUNT_ID;
    const partition = Aws.PARTITION;
    const peering = `arn:${partition}:ec2:*:${account}:vpc-peering-connection/*`;
    // Zone ARNs have no account: a role only ever reaches its own account's zones.
    const anyZone = `arn:${partition}:route53:::hostedzone/*`;
    // During a rotation both ExternalIds (several values of one key are ORed; member-role.yaml).
    const nextExternalId = props.nextExternalId ?? '';
    const stringEquals: Record<string, string | string[]> = {
      'sts:ExternalId': nextExternalId !== '' ? [props.externalId, nextExternalId] : props.externalId,
    };
    if (o.orgId !== '') {
      stringEquals['aws:PrincipalOrgID'] = o.orgId;
    }
    const policies: iam.CfnRole.PolicyProperty[] = [
      {
        policyName: 'peerwire-member-read',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Sid: 'ReadNetwork', Effect: 'Allow', Action: READ_NETWORK, Resource: '*' },
            {
              Sid: 'ReadDatabases',
              Effect: 'Allow',
              Action: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters', 'rds:DescribeDBSubnetGroups'],
              Resource: ['db', 'cluster', 'subgrp'].map((kind) => `arn:${partition}:rds:*:${account}:${kind}:*`),
            },
            {
              Sid: 'ReadNetworkQuotas',
              Effect: 'Allow',
              Action: 'servicequotas:GetServiceQuota',
              Resource: ['L-93826ACB', 'L-0EA8095F'].map((code) => `arn:${partition}:servicequotas:*:${account}:vpc/${code}`),
            },
            // peerwire diagnose's Traffic layer: the flow logs of the VPCs and their records.
            { Sid: 'ReadFlowLogs', Effect: 'Allow', Action: 'ec2:DescribeFlowLogs', Resource: '*' },
            {
              Sid: 'ReadFlowLogRecords',
              Effect: 'Allow',
              Action: 'logs:FilterLogEvents',
              Resource: `arn:${partition}:logs:*:${account}:log-group:${o.flowLogGroups}:*`,
            },
            // Private hosted zones a rule names (their VPCs, peerwire's tags) and their records.
            {
              Sid: 'ReadHostedZones',
              Effect: 'Allow',
              Action: ['route53:GetHostedZone', 'route53:ListTagsForResources', 'route53:ListResourceRecordSets'],
              Resource: anyZone,
            },
          ],
        },
      },
    ];
    if (o.managed.length > 0) {
      const vpcs = o.managed;
      policies.push({
        policyName: 'peerwire-member-write',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AcceptOrRejectIntoManagedVpcs',
              Effect: 'Allow',
              Action: ['ec2:AcceptVpcPeeringConnection', 'ec2:RejectVpcPeeringConnection'],
              Resource: peering,
              Condition: { ArnLike: { 'ec2:AccepterVpc': vpcs } },
            },
            { Sid: 'AcceptWithManagedVpcs', Effect: 'Allow', Action: 'ec2:AcceptVpcPeeringConnection', Resource: vpcs },
            {
              Sid: 'RollBackAcceptIntoManagedVpcs',
              Effect: 'Allow',
              Action: 'ec2:DeleteVpcPeeringConnection',
              Resource: peering,
              Condition: { ArnLike: { 'ec2:AccepterVpc': vpcs } },
            },
            {
              Sid: 'MarkRollBackIntoManagedVpcs',
              Effect: 'Allow',
              Action: 'ec2:CreateTags',
              Resource: peering,
              Condition: {
                ArnLike: { 'ec2:AccepterVpc': vpcs },
                'ForAllValues:StringEquals': { 'aws:TagKeys': ['peerwire:rollback'] },
              },
            },
            {
              Sid: 'PeeringOptionsAsAccepter',
              Effect: 'Allow',
              Action: 'ec2:ModifyVpcPeeringConnectionOptions',
              Resource: peering,
              Condition: { ArnLike: { 'ec2:AccepterVpc': vpcs } },
            },
            {
              Sid: 'PeeringOptionsAsRequester',
              Effect: 'Allow',
              Action: 'ec2:ModifyVpcPeeringConnectionOptions',
              Resource: peering,
              Condition: { ArnLike: { 'ec2:RequesterVpc': vpcs } },
            },
            {
              Sid: 'RoutesInManagedVpcs',
              Effect: 'Allow',
              Action: ['ec2:CreateRoute', 'ec2:ReplaceRoute', 'ec2:DeleteRoute'],
              Resource: `arn:${partition}:ec2:*:${account}:route-table/*`,
              Condition: { ArnLike: { 'ec2:Vpc': vpcs } },
            },
            {
              Sid: 'RouteTargetPeeringAsAccepter',
              Effect: 'Allow',
              Action: ['ec2:CreateRoute', 'ec2:ReplaceRoute'],
              Resource: peering,
              Condition: { ArnLike: { 'ec2:AccepterVpc': vpcs } },
            },
            {
              Sid: 'RouteTargetPeeringAsRequester',
              Effect: 'Allow',
              Action: ['ec2:CreateRoute', 'ec2:ReplaceRoute'],
              Resource: peering,
              Condition: { ArnLike: { 'ec2:RequesterVpc': vpcs } },
            },
            {
              Sid: 'SecurityGroupRulesInManagedVpcs',
              Effect: 'Allow',
              Action: [
                'ec2:AuthorizeSecurityGroupIngress',
                'ec2:AuthorizeSecurityGroupEgress',
                'ec2:RevokeSecurityGroupIngress',
                'ec2:RevokeSecurityGroupEgress',
                'ec2:UpdateSecurityGroupRuleDescriptionsIngress',
                'ec2:UpdateSecurityGroupRuleDescriptionsEgress',
              ],
              Resource: `arn:${partition}:ec2:*:${account}:security-group/*`,
              Condition: { ArnLike: { 'ec2:Vpc': vpcs } },
            },
            {
              Sid: 'SecurityGroupRuleResources',
              Effect: 'Allow',
              Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress'],
              Resource: `arn:${partition}:ec2:*:${account}:security-group-rule/*`,
            },
            { Sid: 'VpcDnsAttributesOfManagedVpcs', Effect: 'Allow', Action: 'ec2:ModifyVpcAttribute', Resource: vpcs },
          ],
        },
      });
    }
    if (o.zoneVpcs.length > 0) {
      // A peer account's zone, with exactly the listed VPCs of this account (route53:VPCs; see
      // member-role.yaml).
      policies.push({
        policyName: 'peerwire-member-zone-associations',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AssociateManagedVpcsWithZones',
              Effect: 'Allow',
              Action: ['route53:AssociateVPCWithHostedZone', 'route53:DisassociateVPCFromHostedZone'],
              Resource: anyZone,
              Condition: {
                'ForAllValues:StringLike': { 'route53:VPCs': route53Vpcs(o.zoneVpcs) },
                'Null': { 'route53:VPCs': 'false' },
              },
            },
          ],
        },
      });
    }
    if (o.zones.length > 0) {
      policies.push({
        policyName: 'peerwire-member-zones',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'ShareListedHostedZones',
              Effect: 'Allow',
              Action: [
                'route53:ChangeTagsForResource',
                'route53:CreateVPCAssociationAuthorization',
                'route53:DeleteVPCAssociationAuthorization',
              ],
              Resource: o.zones,
            },
          ],
        },
      });
    }
    return samId(
      new iam.CfnRole(this, 'MemberRole', {
        roleName: o.memberRoleName,
        description: 'Assumed by the peerwire hub functions (with an ExternalId) to accept, wire, repair and clean up VPC peerings.',
        maxSessionDuration: 3600,
        assumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'PeerwireHubFunctionsOnly',
              Effect: 'Allow',
              Principal: { AWS: `arn:${partition}:iam::${props.hubAccountId}:root` },
              Action: 'sts:AssumeRole',
              Condition: {
                StringEquals: stringEquals,
                ArnLike: {
                  'aws:PrincipalArn':
                    o.hubRoleArns.length > 0 ? o.hubRoleArns : [`arn:${partition}:iam::${props.hubAccountId}:role${o.hubRolePath}*`],
                },
              },
            },
          ],
        },
        policies,
      }),
      'MemberRole',
    );
  }

  private buildForwarder(hubBusArn: string, memberRoleName: string, alarmTopicArn: string): iam.CfnRole {
    const role = samId(
      new iam.CfnRole(this, 'ForwarderRole', {
        description: "Lets EventBridge put this account's peerwire-relevant events on the peerwire hub bus.",
        assumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
            },
          ],
        },
        policies: [
          {
            policyName: 'put-on-peerwire-hub-bus',
            policyDocument: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: hubBusArn }],
            },
          },
        ],
      }),
      'ForwarderRole',
    );
    const dlq: sqs.Queue = queue(this, 'ForwarderDeadLetterQueue');
    // Named peerwire-forwarder-<stack>: the hub's NotifyMemberForwarderDeadLetters takes alarms by
    // that prefix.
    const alarm = queueAlarm(
      this,
      'ForwarderDeadLetterAlarm',
      'peerwire forwarder - events that could not be put on the hub bus are waiting in the dead-letter queue.',
      dlq,
      alarmTopicArn !== '' ? [alarmTopicArn] : undefined,
      Fn.join('', [FORWARDER_ALARM_PREFIX, Aws.STACK_NAME]),
    );
    const notPeerwire = {
      $or: [
        {
          userIdentity: {
            arn: [{ 'anything-but': { prefix: `arn:${Aws.PARTITION}:sts::${Aws.ACCOUNT_ID}:assumed-role/${memberRoleName}/` } }],
          },
        },
        { userIdentity: { arn: [{ exists: false }] } },
      ],
    };
    const rule = (id: string, description: string, pattern: Record<string, unknown>) =>
      samId(
        new events.CfnRule(this, id, {
          description,
          eventBusName: 'default',
          state: 'ENABLED',
          eventPattern: { account: [Aws.ACCOUNT_ID], ...pattern },
          targets: [
            {
              id: 'peerwire-hub',
              arn: hubBusArn,
              roleArn: role.attrArn,
              retryPolicy: RULE_RETRY,
              deadLetterConfig: { arn: dlq.queueArn },
            },
          ],
        }),
        id,
      );
    const cloudTrail = (source: string, eventSource: string, names: string[], extra: Record<string, unknown> = {}) => ({
      'source': [source],
      'detail-type': ['AWS API Call via CloudTrail'],
      'detail': { eventSource: [eventSource], eventName: names, errorCode: [{ exists: false }], ...extra },
    });
    const rules = [
      rule(
        'ForwardEc2PeeringLifecycle',
        'VPC peering requests, accepts, deletes and rejects in this account, forwarded to the peerwire hub bus.',
        cloudTrail('aws.ec2', 'ec2.amazonaws.com', [
          'CreateVpcPeeringConnection',
          'AcceptVpcPeeringConnection',
          'DeleteVpcPeeringConnection',
          'RejectVpcPeeringConnection',
        ]),
      ),
      rule(
        'ForwardEc2NetworkChanges',
        'Subnet, route, route-table, security-group, peering-option and CIDR changes not made by peerwire, forwarded to the peerwire hub bus.',
        cloudTrail('aws.ec2', 'ec2.amazonaws.com', NETWORK_CHANGES, notPeerwire),
      ),
      rule(
        'ForwardRdsSubnetGroupChanges',
        'DB subnet group changes not made by peerwire, forwarded to the peerwire hub bus.',
        cloudTrail('aws.rds', 'rds.amazonaws.com', ['ModifyDBSubnetGroup'], notPeerwire),
      ),
      rule(
        'ForwardRds',
        'RDS instance and cluster failovers and configuration changes, forwarded to the peerwire hub bus.',
        {
          'source': ['aws.rds'],
          'detail-type': ['RDS DB Instance Event', 'RDS DB Cluster Event'],
          'detail': { EventCategories: ['failover', 'configuration change'] },
        },
      ),
      // The dead-letter alarm's state changes: the hub notifies, whatever region this is.
      rule('ForwardDeadLetterAlarm', "State changes of this forwarder's dead-letter alarm, forwarded to the peerwire hub bus.", {
        'source': ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        'detail': { alarmName: [alarm.ref] },
      }),
    ];
    deadLetterPolicy(
      this,
      'ForwarderDeadLetterQueuePolicy',
      'UndeliverableForwardedEvents',
      dlq,
      rules.map((r) => r.attrArn),
    );
    return role;
  }
}
