import * as path from 'path';
import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, Tags, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { BundlingOptions, RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import { deadLetterPolicy, queue, queueAlarm, RULE_RETRY, samId, SCHEDULE_RETRY } from './common';
import { dashboardBody } from './dashboard';
import {
  MEMBER_FORWARDER_ALARMS,
  MEMBER_SOURCES,
  memberAccountsOutput,
  memberForwarderAlarms,
  memberForwarderAlarmsTopicStatement,
} from './member-alarms';
import { notifications } from './notifications';

/** The four binaries under functions/. */
export type PeerwireBinary = 'peering-request' | 'peering-wiring' | 'drift-recheck' | 'peering-cleanup';

/**
 * Properties of the peerwire hub: every parameter of template.yaml, with the same defaults,
 * plus `alarmTopic`, `removalPolicy`, `tags`, and how to get the functions' code.
 *
 * Strings and lists must be known at synthesis (they decide which resources exist), except
 * `externalId`, which may be a token (a NoEcho CfnParameter's value, for instance).
 */
export interface PeerwireHubProps {
  /** ExternalId the member roles require on AssumeRole (the same value in every member stack). */
  readonly externalId: string;
  /** SSM parameter holding the policy. @default '/peerwire/policy' */
  readonly policyParameterName?: string;
  /** Customer managed key of a SecureString policy (kms:Decrypt via SSM only). @default '' (none) */
  readonly policyKmsKeyArn?: string;
  /** Name of the member role in every member account. @default 'peerwire-member' */
  readonly memberRoleName?: string;
  /** IAM path of the functions' roles (member roles trust the hub's roles under it). @default '/peerwire/' */
  readonly functionRolePath?: string;
  /** Role peering-request assumes to read AWS Organizations (requester_ous). @default '' (disabled) */
  readonly organizationsRoleArn?: string;
  /** Name of the hub event bus. @default 'peerwire-hub' */
  readonly hubBusName?: string;
  /** Organization id: its accounts may forward aws.ec2/aws.rds events; member roles only in it. @default '' */
  readonly orgId?: string;
  /** Accounts that may forward (and, without orgId, whose member roles may be assumed). @default [] */
  readonly memberAccountIds?: string[];
  /** Hub-account principals that may put peerwire.approval events; everyone else is denied. @default [] (nobody) */
  readonly approverPrincipalArns?: string[];
  /** Outcome bus (this account and region) instead of the hub bus. @default '' (the hub bus) */
  readonly outcomeBusArn?: string;
  /** Sweep schedule of peering-request, peering-wiring, peering-cleanup. @default 'rate(15 minutes)' */
  readonly sweepRate?: string;
  /** drift-recheck's full sweep. @default 'rate(1 hour)' */
  readonly driftSweepRate?: string;
  /** Reserved concurrency of each function; 0 or -1 = unreserved. @default -1 */
  readonly reservedConcurrency?: number;
  /** Retention of the functions' log groups, in days. @default 30 */
  readonly logRetentionDays?: number;
  /** SNS topic ARN for alarms and notifications. @default '' (a topic is created) */
  readonly alarmTopicArn?: string;
  /** Address subscribed to the alert topic. @default '' (none) */
  readonly alertEmail?: string;
  /** The alert topic as a construct (instead of alarmTopicArn). @default - alarmTopicArn, else a created topic */
  readonly alarmTopic?: sns.ITopic;
  /** What happens to the ledger table when it leaves the stack. @default RemovalPolicy.RETAIN (as the SAM template) */
  readonly removalPolicy?: RemovalPolicy;
  /** Tags on every resource of the hub. @default none */
  readonly tags?: Record<string, string>;
  /**
   * Prebuilt code instead of building the Rust binaries with cargo-lambda: one `lambda.Code`
   * for all four functions (e.g. a stub `bootstrap` in tests), or one per binary.
   * @default - cargo-lambda-cdk RustFunction builds functions/<binary> of `source`
   */
  readonly code?: lambda.Code | Partial<Record<PeerwireBinary, lambda.Code>>;
  /** The peerwire repository (with Cargo.toml and functions/), for RustFunction. @default the repository this package sits in */
  readonly source?: string;
  /**
   * The Cargo manifest RustFunction builds each binary from. The default, functions/<binary>,
   * needs cargo-lambda installed (it finds the workspace above); for cargo-lambda's Docker
   * image pass the workspace's Cargo.toml, which it mounts whole.
   * @default (binary) => <source>/functions/<binary>/Cargo.toml
   */
  readonly manifestPath?: (binary: PeerwireBinary) => string;
  /** cargo-lambda-cdk bundling options (architecture is always arm64). @default none */
  readonly bundling?: BundlingOptions;
}

interface RuleSpec {
  readonly name: string;
  readonly pattern: Record<string, unknown>;
}

interface FunctionSpec {
  /** Prefix of the SAM logical ids: PeeringRequest → PeeringRequestFunction, PeeringRequestLogGroup... */
  readonly prefix: string;
  readonly binary: PeerwireBinary;
  readonly description: string;
  readonly timeout: number;
  readonly rules: RuleSpec[];
  readonly sweep: 'sweep' | 'drift';
  readonly sweepDescription: string;
}

const cloudTrail = (source: string, eventSource: string, names: string[]) => ({
  'source': [source],
  'detail-type': ['AWS API Call via CloudTrail'],
  'detail': {
    eventSource: [eventSource],
    eventName: names,
    errorCode: [{ exists: false }],
  },
});

/** The four functions and their triggers, as in template.yaml. */
export const FUNCTIONS: FunctionSpec[] = [
  {
    prefix: 'PeeringRequest',
    binary: 'peering-request',
    description: 'Accept, reject or hold VPC peering requests by policy.',
    timeout: 120,
    rules: [
      { name: 'PeeringRequested', pattern: cloudTrail('aws.ec2', 'ec2.amazonaws.com', ['CreateVpcPeeringConnection']) },
      {
        name: 'ApprovalDecided',
        pattern: { 'source': ['peerwire.approval'], 'detail-type': ['Peering Approval Granted', 'Peering Approval Denied'] },
      },
    ],
    sweep: 'sweep',
    sweepDescription: "Sweep pending peering requests in the policy's accepter accounts.",
  },
  {
    prefix: 'PeeringWiring',
    binary: 'peering-wiring',
    description: 'Wire active VPC peerings on both sides (routes, security-group rules, DNS).',
    timeout: 120,
    rules: [
      { name: 'PeeringAcceptedCloudTrail', pattern: cloudTrail('aws.ec2', 'ec2.amazonaws.com', ['AcceptVpcPeeringConnection']) },
      { name: 'PeeringAcceptedByPeerwire', pattern: { 'source': ['peerwire'], 'detail-type': ['Peering Request Accepted'] } },
    ],
    sweep: 'sweep',
    sweepDescription: "Re-check the wiring of every active peering in the policy's accepter accounts.",
  },
  {
    prefix: 'DriftRecheck',
    binary: 'drift-recheck',
    description: 'Re-check and repair the wiring of peerings after route, security-group, subnet, CIDR or RDS changes.',
    timeout: 300,
    rules: [
      {
        name: 'NetworkChanged',
        pattern: cloudTrail('aws.ec2', 'ec2.amazonaws.com', [
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
        ]),
      },
      {
        name: 'DbInstanceFailover',
        pattern: {
          'source': ['aws.rds'],
          'detail-type': ['RDS DB Instance Event'],
          'detail': {
            EventID: ['RDS-EVENT-0013', 'RDS-EVENT-0015', 'RDS-EVENT-0049', 'RDS-EVENT-0050', 'RDS-EVENT-0051', 'RDS-EVENT-0065'],
          },
        },
      },
      {
        name: 'DbInstanceConfigurationChange',
        pattern: { 'source': ['aws.rds'], 'detail-type': ['RDS DB Instance Event'], 'detail': { EventCategories: ['configuration change'] } },
      },
      {
        name: 'DbClusterFailover',
        pattern: {
          'source': ['aws.rds'],
          'detail-type': ['RDS DB Cluster Event'],
          'detail': { EventID: ['RDS-EVENT-0069', 'RDS-EVENT-0070', 'RDS-EVENT-0071', 'RDS-EVENT-0072', 'RDS-EVENT-0073'] },
        },
      },
      { name: 'DbSubnetGroupChanged', pattern: cloudTrail('aws.rds', 'rds.amazonaws.com', ['ModifyDBSubnetGroup']) },
    ],
    sweep: 'drift',
    sweepDescription: 'Full drift sweep of every active peering the policy covers.',
  },
  {
    prefix: 'PeeringCleanup',
    binary: 'peering-cleanup',
    description: "Remove the routes and peerwire's security-group rules of deleted, rejected, expired or failed peerings.",
    timeout: 120,
    rules: [
      {
        name: 'PeeringGone',
        pattern: cloudTrail('aws.ec2', 'ec2.amazonaws.com', ['DeleteVpcPeeringConnection', 'RejectVpcPeeringConnection']),
      },
    ],
    sweep: 'sweep',
    sweepDescription: "Clean up after every deleted, rejected, expired or failed peering of the policy's accepter accounts.",
  },
];

const LAMBDA_RUNTIME = 'provided.al2023';

/**
 * The peerwire hub, equal to template.yaml after the SAM transform (tests/parity.test.ts
 * compares them resource by resource): the four functions, the hub bus and its policy, a rule
 * per trigger with its DLQ, retry policy and alarms, on-failure destinations, log groups, the
 * ledger table, the alert topic and notifications, function alarms, the dashboard.
 */
export class PeerwireHub extends Construct {
  public readonly hubBus: events.CfnEventBus;
  public readonly functions: Record<PeerwireBinary, lambda.Function>;
  public readonly functionRoles: Record<PeerwireBinary, iam.Role>;
  public readonly ledgerTable: dynamodb.CfnTable;
  /** The alert topic's ARN (given or created). */
  public readonly alertTopicArn: string;
  public readonly dashboard: cloudwatch.CfnDashboard;

  constructor(scope: Construct, id: string, props: PeerwireHubProps) {
    super(scope, id);
    const p = {
      policyParameterName: props.policyParameterName ?? '/peerwire/policy',
      policyKmsKeyArn: props.policyKmsKeyArn ?? '',
      memberRoleName: props.memberRoleName ?? 'peerwire-member',
      functionRolePath: props.functionRolePath ?? '/peerwire/',
      organizationsRoleArn: props.organizationsRoleArn ?? '',
      hubBusName: props.hubBusName ?? 'peerwire-hub',
      orgId: props.orgId ?? '',
      memberAccountIds: (props.memberAccountIds ?? []).filter((a) => a !== ''),
      approverPrincipalArns: (props.approverPrincipalArns ?? []).filter((a) => a !== ''),
      outcomeBusArn: props.outcomeBusArn ?? '',
      sweepRate: props.sweepRate ?? 'rate(15 minutes)',
      driftSweepRate: props.driftSweepRate ?? 'rate(1 hour)',
      reservedConcurrency: props.reservedConcurrency ?? -1,
      logRetentionDays: props.logRetentionDays ?? 30,
      alertEmail: props.alertEmail ?? '',
    };
    for (const [name, value] of Object.entries(p)) {
      const values = Array.isArray(value) ? value : [value];
      if (values.some((v) => typeof v === 'string' && Token.isUnresolved(v))) {
        throw new Error(`PeerwireHub: ${name} must be known at synthesis (only externalId may be a token)`);
      }
    }
    const stackId = Fn.select(2, Fn.split('/', Aws.STACK_ID));

    // The hub bus and its policy --------------------------------------------------------------
    this.hubBus = samId(new events.CfnEventBus(this, 'HubBus', { name: p.hubBusName }), 'HubBus');
    const busArn = this.hubBus.attrArn;
    const outcomesToHubBus = p.outcomeBusArn === '';
    const outcomeBus = outcomesToHubBus ? busArn : p.outcomeBusArn;

    // The ledger ------------------------------------------------------------------------------
    this.ledgerTable = samId(
      new dynamodb.CfnTable(this, 'LedgerTable', {
        billingMode: 'PAY_PER_REQUEST',
        attributeDefinitions: [{ attributeName: 'pk', attributeType: 'S' }],
        keySchema: [{ attributeName: 'pk', keyType: 'HASH' }],
        timeToLiveSpecification: { attributeName: 'expires_at', enabled: true },
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      }),
      'LedgerTable',
    );
    this.ledgerTable.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN);

    // The alert topic -------------------------------------------------------------------------
    let alertTopic: sns.CfnTopic | undefined;
    if (props.alarmTopic) {
      this.alertTopicArn = props.alarmTopic.topicArn;
    } else if ((props.alarmTopicArn ?? '') !== '') {
      this.alertTopicArn = props.alarmTopicArn!;
    } else {
      alertTopic = samId(new sns.CfnTopic(this, 'AlertTopic', { displayName: 'peerwire alerts' }), 'AlertTopic');
      this.alertTopicArn = alertTopic.ref;
    }
    const alarmActions = [this.alertTopicArn];

    // The four functions ----------------------------------------------------------------------
    const functions: Partial<Record<PeerwireBinary, lambda.Function>> = {};
    const roles: Partial<Record<PeerwireBinary, iam.Role>> = {};
    for (const spec of FUNCTIONS) {
      const built = this.buildFunction(spec, props, p, { busArn, outcomeBus, alarmActions });
      functions[spec.binary] = built.fn;
      roles[spec.binary] = built.role;
    }
    this.functions = functions as Record<PeerwireBinary, lambda.Function>;
    this.functionRoles = roles as Record<PeerwireBinary, iam.Role>;

    // Bus policy: statement ids end with the stack id ------------------------------------------
    const statementId = (prefix: string) => Fn.join('-', [prefix, stackId]);
    if (p.orgId !== '') {
      samId(
        new events.CfnEventBusPolicy(this, 'HubBusOrgPolicy', {
          eventBusName: this.hubBus.ref,
          statementId: statementId('peerwire-org-forward'),
          statement: {
            Effect: 'Allow',
            Principal: '*',
            Action: 'events:PutEvents',
            Resource: busArn,
            Condition: {
              'StringEquals': { 'aws:PrincipalOrgID': p.orgId },
              'ForAllValues:StringEquals': { 'events:source': MEMBER_SOURCES },
            },
          },
        }),
        'HubBusOrgPolicy',
      );
    }
    if (p.memberAccountIds.length > 0) {
      samId(
        new events.CfnEventBusPolicy(this, 'HubBusAccountsPolicy', {
          eventBusName: this.hubBus.ref,
          statementId: statementId('peerwire-accounts-forward'),
          statement: {
            Effect: 'Allow',
            Principal: { AWS: p.memberAccountIds },
            Action: 'events:PutEvents',
            Resource: busArn,
            Condition: { 'ForAllValues:StringEquals': { 'events:source': MEMBER_SOURCES } },
          },
        }),
        'HubBusAccountsPolicy',
      );
    }
    const approvals: Record<string, unknown> = { 'ForAnyValue:StringEquals': { 'events:source': 'peerwire.approval' } };
    if (p.approverPrincipalArns.length > 0) {
      approvals.ArnNotLike = { 'aws:PrincipalArn': p.approverPrincipalArns };
    }
    samId(
      new events.CfnEventBusPolicy(this, 'HubBusApproversOnly', {
        eventBusName: this.hubBus.ref,
        statementId: statementId('peerwire-approvers-only'),
        statement: { Effect: 'Deny', Principal: '*', Action: 'events:PutEvents', Resource: busArn, Condition: approvals },
      }),
      'HubBusApproversOnly',
    );
    samId(
      new events.CfnEventBusPolicy(this, 'HubBusFunctionsOnly', {
        eventBusName: this.hubBus.ref,
        statementId: statementId('peerwire-functions-only'),
        statement: {
          Effect: 'Deny',
          Principal: '*',
          Action: 'events:PutEvents',
          Resource: busArn,
          Condition: {
            'ForAnyValue:StringEquals': { 'events:source': 'peerwire' },
            'ArnNotEquals': { 'aws:PrincipalArn': FUNCTIONS.map((f) => this.functionRoles[f.binary].roleArn) },
          },
        },
      }),
      'HubBusFunctionsOnly',
    );

    // Notifications ---------------------------------------------------------------------------
    const notificationDlq = queue(this, 'NotificationDeadLetterQueue');
    const notificationBus = outcomesToHubBus ? this.hubBus.ref : p.outcomeBusArn;
    const rules = notifications(this, {
      eventBusName: notificationBus,
      topicArn: this.alertTopicArn,
      deadLetterQueueArn: notificationDlq.queueArn,
      hubBusArn: busArn,
    });
    // Member forwarders that cannot deliver (member-alarms.ts): on the hub bus, where they send.
    const forwarderAlarms = memberForwarderAlarms(this, {
      eventBusName: this.hubBus.ref,
      topicArn: this.alertTopicArn,
      deadLetterQueueArn: notificationDlq.queueArn,
    });
    deadLetterPolicy(
      this,
      'NotificationDeadLetterQueuePolicy',
      'UndeliverableNotifications',
      notificationDlq,
      rules.map((r) => r.attrArn),
      [{ sid: MEMBER_FORWARDER_ALARMS.queueStatement, sourceArns: [forwarderAlarms.attrArn] }],
    );
    queueAlarm(
      this,
      'NotificationDeadLetterAlarm',
      'peerwire notifications - messages EventBridge could not publish to the alert topic are waiting in the dead-letter queue.',
      notificationDlq,
      alarmActions,
    );
    if (alertTopic) {
      samId(
        new sns.CfnTopicPolicy(this, 'AlertTopicPolicy', {
          topics: [alertTopic.ref],
          policyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'OutcomeNotifications',
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sns:Publish',
                Resource: alertTopic.ref,
                Condition: { ArnEquals: { 'aws:SourceArn': rules.map((r) => r.attrArn) } },
              },
              memberForwarderAlarmsTopicStatement(forwarderAlarms, alertTopic.ref),
              {
                Sid: 'HubAlarms',
                Effect: 'Allow',
                Principal: { Service: 'cloudwatch.amazonaws.com' },
                Action: 'sns:Publish',
                Resource: alertTopic.ref,
                Condition: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
              },
            ],
          },
        }),
        'AlertTopicPolicy',
      );
    }
    if (p.alertEmail !== '') {
      samId(
        new sns.CfnSubscription(this, 'AlertEmailSubscription', {
          topicArn: this.alertTopicArn,
          protocol: 'email',
          endpoint: p.alertEmail,
        }),
        'AlertEmailSubscription',
      );
    }

    // Dashboard -------------------------------------------------------------------------------
    const names: Record<string, string> = {};
    for (const spec of FUNCTIONS) {
      names[`${spec.prefix}Function`] = this.functions[spec.binary].functionName;
    }
    const queueNames: Record<string, string> = { NotificationDeadLetterQueueName: notificationDlq.queueName };
    for (const spec of FUNCTIONS) {
      for (const kind of ['DeadLetterQueue', 'FailedInvocationQueue']) {
        const q = this.node.findChild(`${spec.prefix}${kind}`) as sqs.Queue;
        queueNames[`${spec.prefix}${kind}Name`] = q.queueName;
      }
    }
    this.dashboard = samId(
      new cloudwatch.CfnDashboard(this, 'Dashboard', {
        dashboardName: Fn.join('-', [Aws.STACK_NAME, Aws.REGION]),
        dashboardBody: Fn.sub(dashboardBody(), { ...names, ...queueNames }),
      }),
      'Dashboard',
    );

    for (const [key, value] of Object.entries(props.tags ?? {})) {
      Tags.of(this).add(key, value);
    }

    new CfnOutput(this, 'HubBusArn', { value: busArn, description: 'Member forwarders target this bus.' });
    new CfnOutput(this, 'AlertTopicArnOutput', { value: this.alertTopicArn, description: 'Alarms and notifications.' });
    memberAccountsOutput(this, p.orgId, p.memberAccountIds);
    new CfnOutput(this, 'FunctionRoleArns', {
      value: Fn.join(',', FUNCTIONS.map((f) => this.functionRoles[f.binary].roleArn)),
      description: 'The functions roles, for member roles that trust an explicit list (HubRoleArns).',
    });
  }

  private buildFunction(
    spec: FunctionSpec,
    props: PeerwireHubProps,
    p: {
      policyParameterName: string;
      policyKmsKeyArn: string;
      memberRoleName: string;
      functionRolePath: string;
      organizationsRoleArn: string;
      orgId: string;
      memberAccountIds: string[];
      sweepRate: string;
      driftSweepRate: string;
      reservedConcurrency: number;
      logRetentionDays: number;
    },
    shared: { busArn: string; outcomeBus: string; alarmActions: string[] },
  ): { fn: lambda.Function; role: iam.Role } {
    const { prefix, binary } = spec;
    const functionId = `${prefix}Function`;
    const deadLetterQueue = queue(this, `${prefix}DeadLetterQueue`);
    const failedInvocationQueue = queue(this, `${prefix}FailedInvocationQueue`);
    const logGroup = samId(
      new logs.LogGroup(this, `${prefix}LogGroup`, {
        logGroupName: `/aws/lambda/${Aws.STACK_NAME}/${binary}`,
        retention: p.logRetentionDays as logs.RetentionDays,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      `${prefix}LogGroup`,
    );

    // The role: the statements of template.yaml, plus SAM's on-failure statement.
    const statements: iam.PolicyStatement[] = [
      new iam.PolicyStatement({
        sid: 'AssumeMemberRoles',
        actions: ['sts:AssumeRole'],
        resources: [`arn:${Aws.PARTITION}:iam::*:role/${p.memberRoleName}`],
        conditions:
          p.orgId !== ''
            ? { StringEquals: { 'aws:ResourceOrgID': p.orgId } }
            : {
              StringEquals: {
                'aws:ResourceAccount': p.memberAccountIds.length > 0 ? p.memberAccountIds : [Aws.ACCOUNT_ID],
              },
            },
      }),
    ];
    if (binary === 'peering-request' && p.organizationsRoleArn !== '') {
      statements.push(
        new iam.PolicyStatement({ sid: 'AssumeOrganizationsRole', actions: ['sts:AssumeRole'], resources: [p.organizationsRoleArn] }),
      );
    }
    statements.push(
      new iam.PolicyStatement({
        sid: 'ReadPolicy',
        actions: ['ssm:GetParameter'],
        resources: [`arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:parameter${p.policyParameterName}`],
      }),
    );
    if (p.policyKmsKeyArn !== '') {
      statements.push(
        new iam.PolicyStatement({
          sid: 'DecryptPolicy',
          actions: ['kms:Decrypt'],
          resources: [p.policyKmsKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `ssm.${Aws.REGION}.amazonaws.com` } },
        }),
      );
    }
    statements.push(
      new iam.PolicyStatement({
        sid: 'PublishOutcomes',
        actions: ['events:PutEvents'],
        resources: [shared.outcomeBus],
        conditions: { 'ForAllValues:StringEquals': { 'events:source': 'peerwire' } },
      }),
      new iam.PolicyStatement({
        sid: 'UseLedger',
        // UpdateItem: the functions that wire (the request function wires what it has just
        // accepted) add each account and Region they wrote in to the ledger's set of places,
        // which the cleanup sweep searches for orphans.
        actions:
          binary === 'peering-request' || binary === 'peering-wiring' || binary === 'drift-recheck'
            ? ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem']
            : ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [this.ledgerTable.attrArn],
      }),
    );
    const role = samId(
      new iam.Role(this, `${functionId}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        path: p.functionRolePath,
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
        inlinePolicies: {
          [`${functionId}EventInvokeConfigOnFailureSQSPolicy`]: new iam.PolicyDocument({
            statements: [new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [failedInvocationQueue.queueArn] })],
          }),
          [`${functionId}RolePolicy0`]: new iam.PolicyDocument({ statements }),
        },
      }),
      `${functionId}Role`,
    );

    const environment: Record<string, string> = {
      PEERWIRE_POLICY_PARAMETER: p.policyParameterName,
      PEERWIRE_ROLE_ARN_TEMPLATE: `arn:${Aws.PARTITION}:iam::{account}:role/${p.memberRoleName}`,
      PEERWIRE_EXTERNAL_ID: props.externalId,
      PEERWIRE_OUTCOME_BUS: shared.outcomeBus,
      PEERWIRE_LEDGER_TABLE: this.ledgerTable.ref,
    };
    if (binary === 'peering-request') {
      environment.PEERWIRE_ORGANIZATIONS_ROLE_ARN = p.organizationsRoleArn;
    }
    const options: lambda.FunctionOptions = {
      description: spec.description,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(spec.timeout),
      role,
      environment,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      reservedConcurrentExecutions: p.reservedConcurrency > 0 ? p.reservedConcurrency : undefined,
    };
    const code = props.code instanceof lambda.Code ? props.code : props.code?.[binary];
    const fn = code
      ? new lambda.Function(this, functionId, {
        ...options,
        code,
        handler: 'bootstrap',
        runtime: new lambda.Runtime(LAMBDA_RUNTIME, lambda.RuntimeFamily.OTHER),
      })
      : new RustFunction(this, functionId, {
        ...options,
        runtime: LAMBDA_RUNTIME,
        manifestPath:
          props.manifestPath?.(binary) ??
          path.join(props.source ?? path.resolve(__dirname, '..', '..'), 'functions', binary, 'Cargo.toml'),
        binaryName: binary,
        bundling: { ...props.bundling, architecture: lambda.Architecture.ARM_64 },
      });
    samId(fn, functionId);

    samId(
      new lambda.CfnEventInvokeConfig(this, `${functionId}EventInvokeConfig`, {
        functionName: fn.functionName,
        qualifier: '$LATEST',
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 3600,
        destinationConfig: { onFailure: { destination: failedInvocationQueue.queueArn } },
      }),
      `${functionId}EventInvokeConfig`,
    );

    // A rule per trigger and the sweep, each with the function as target, a retry policy and
    // the DLQ, and the permission to invoke.
    const ruleArns: string[] = [];
    const addRule = (name: string, props: Partial<events.CfnRuleProps>, retry: typeof RULE_RETRY) => {
      const rule = samId(
        new events.CfnRule(this, `${functionId}${name}`, {
          ...props,
          targets: [
            {
              id: `${functionId}${name}LambdaTarget`,
              arn: fn.functionArn,
              retryPolicy: retry,
              deadLetterConfig: { arn: deadLetterQueue.queueArn },
            },
          ],
        }),
        `${functionId}${name}`,
      );
      samId(
        new lambda.CfnPermission(this, `${functionId}${name}Permission`, {
          action: 'lambda:InvokeFunction',
          functionName: fn.functionName,
          principal: 'events.amazonaws.com',
          sourceArn: rule.attrArn,
        }),
        `${functionId}${name}Permission`,
      );
      ruleArns.push(rule.attrArn);
    };
    for (const rule of spec.rules) {
      addRule(rule.name, { eventBusName: this.hubBus.ref, eventPattern: rule.pattern }, RULE_RETRY);
    }
    addRule(
      'Sweep',
      { scheduleExpression: spec.sweep === 'drift' ? p.driftSweepRate : p.sweepRate, description: spec.sweepDescription },
      SCHEDULE_RETRY,
    );

    deadLetterPolicy(
      this,
      `${prefix}DeadLetterQueuePolicy`,
      'UndeliverableRuleEvents',
      deadLetterQueue,
      ruleArns,
    );

    // Alarms: both queues, errors, throttles, duration near the timeout.
    queueAlarm(
      this,
      `${prefix}DeadLetterAlarm`,
      `${binary} - events EventBridge could not deliver are waiting in the dead-letter queue.`,
      deadLetterQueue,
      shared.alarmActions,
    );
    queueAlarm(
      this,
      `${prefix}FailedInvocationAlarm`,
      `${binary} - invocations that failed after every retry are waiting in the failed-invocation queue.`,
      failedInvocationQueue,
      shared.alarmActions,
    );
    const lambdaAlarm = (which: string, description: string, rest: Partial<cloudwatch.CfnAlarmProps>) =>
      samId(
        new cloudwatch.CfnAlarm(this, `${prefix}${which}Alarm`, {
          alarmDescription: `${binary} - ${description}`,
          namespace: 'AWS/Lambda',
          metricName: which,
          dimensions: [{ name: 'FunctionName', value: fn.functionName }],
          period: 300,
          comparisonOperator: 'GreaterThanThreshold',
          treatMissingData: 'notBreaching',
          alarmActions: shared.alarmActions,
          evaluationPeriods: 1,
          ...rest,
        }),
        `${prefix}${which}Alarm`,
      );
    lambdaAlarm(
      'Errors',
      'invocations end in an error in two of three 5-minute periods (transient AWS errors are retried; see the log group).',
      { statistic: 'Sum', evaluationPeriods: 3, datapointsToAlarm: 2, threshold: 0 },
    );
    lambdaAlarm('Throttles', 'invocations are throttled (reserved or account concurrency exhausted).', {
      statistic: 'Sum',
      evaluationPeriods: 1,
      threshold: 0,
    });
    lambdaAlarm('Duration', `p99 duration above 80% of the ${spec.timeout} s timeout in two of three 5-minute periods.`, {
      extendedStatistic: 'p99',
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      threshold: (spec.timeout * 1000 * 8) / 10,
    });
    return { fn, role };
  }
}
