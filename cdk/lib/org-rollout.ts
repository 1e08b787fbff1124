import { Aws, CfnStackSet, Fn } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { samId } from './common';

/** Properties of the rollout: the parameters of templates/org-rollout.yaml, with the same defaults. */
export interface PeerwireOrgRolloutProps {
  /** OUs (or the root) whose accounts, present and future, get the member role and the forwarder. */
  readonly organizationalUnitIds: string[];
  /** The one region of the member role stacks. @default 'us-east-1' */
  readonly roleRegion?: string;
  /** Every region with VPCs or databases peerwire manages. */
  readonly forwarderRegions: string[];
  /** SELF in the management account, DELEGATED_ADMIN in a StackSets delegated administrator. @default 'SELF' */
  readonly callAs?: 'SELF' | 'DELEGATED_ADMIN';
  /** S3 URL of templates/member-role.yaml. */
  readonly memberRoleTemplateUrl: string;
  /** S3 URL of templates/member-forwarder.yaml. */
  readonly memberForwarderTemplateUrl: string;
  /** The hub's account. */
  readonly hubAccountId: string;
  /** The hub bus. */
  readonly hubBusArn: string;
  /** The hub's ExternalId (may be a token). */
  readonly externalId: string;
  /** The organization's id. */
  readonly orgId: string;
  /** @default 'peerwire-member' */
  readonly memberRoleName?: string;
  /** @default '/peerwire/' */
  readonly hubRolePath?: string;
  /** @default [] */
  readonly hubRoleArns?: string[];
  /** VPCs peerwire may change in every member account; [] = none (read only). @default [] */
  readonly managedVpcArns?: string[];
  /** Private hosted zones peerwire may share, in every member account (each role reaches only its own account's). @default [] */
  readonly hostedZoneArns?: string[];
  /** @default '' */
  readonly forwarderAlarmTopicArn?: string;
}

/**
 * The member rollout of templates/org-rollout.yaml: two service-managed StackSets with automatic
 * deployment (the member role in one region, the forwarder in every listed region) over the
 * listed OUs. Deploy it in the management account or a StackSets delegated administrator.
 */
export class PeerwireOrgRollout extends Construct {
  public readonly memberRoleStackSet: CfnStackSet;
  public readonly memberForwarderStackSet: CfnStackSet;

  constructor(scope: Construct, id: string, props: PeerwireOrgRolloutProps) {
    super(scope, id);
    const common = {
      permissionModel: 'SERVICE_MANAGED',
      callAs: props.callAs ?? 'SELF',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      managedExecution: { Active: true },
      operationPreferences: { regionConcurrencyType: 'PARALLEL', maxConcurrentPercentage: 25, failureTolerancePercentage: 10 },
    };
    const parameter = (key: string, value: string) => ({ parameterKey: key, parameterValue: value });
    const memberRoleName = props.memberRoleName ?? 'peerwire-member';
    const targets = { organizationalUnitIds: props.organizationalUnitIds };
    this.memberRoleStackSet = samId(
      new CfnStackSet(this, 'MemberRoleStackSet', {
        ...common,
        stackSetName: Fn.join('', [Aws.STACK_NAME, '-member-role']),
        description: 'peerwire member role (templates/member-role.yaml), one region per account.',
        capabilities: ['CAPABILITY_NAMED_IAM'],
        templateUrl: props.memberRoleTemplateUrl,
        parameters: [
          parameter('MemberRoleName', memberRoleName),
          parameter('HubAccountId', props.hubAccountId),
          parameter('HubRolePath', props.hubRolePath ?? '/peerwire/'),
          parameter('HubRoleArns', (props.hubRoleArns ?? []).join(',')),
          parameter('ExternalId', props.externalId),
          parameter('OrgId', props.orgId),
          parameter('ManagedVpcArns', (props.managedVpcArns ?? []).join(',')),
          parameter('HostedZoneArns', (props.hostedZoneArns ?? []).join(',')),
        ],
        stackInstancesGroup: [{ deploymentTargets: targets, regions: [props.roleRegion ?? 'us-east-1'] }],
      }),
      'MemberRoleStackSet',
    );
    this.memberForwarderStackSet = samId(
      new CfnStackSet(this, 'MemberForwarderStackSet', {
        ...common,
        stackSetName: Fn.join('', [Aws.STACK_NAME, '-member-forwarder']),
        description: 'peerwire event forwarder (templates/member-forwarder.yaml), every listed region of every account.',
        capabilities: ['CAPABILITY_IAM'],
        templateUrl: props.memberForwarderTemplateUrl,
        parameters: [
          parameter('MemberRoleName', memberRoleName),
          parameter('HubBusArn', props.hubBusArn),
          parameter('AlarmTopicArn', props.forwarderAlarmTopicArn ?? ''),
        ],
        stackInstancesGroup: [{ deploymentTargets: targets, regions: props.forwarderRegions }],
      }),
      'MemberForwarderStackSet',
    );
  }
}
