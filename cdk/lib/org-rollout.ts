import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Aws, CfnStackSet, Fn, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { samId } from './common';

/** The rollout's two template URLs. */
export interface MemberTemplateUrls {
  readonly memberRoleTemplateUrl: string;
  readonly memberForwarderTemplateUrl: string;
}

/**
 * The URLs under which scripts/publish-member-templates uploads the member templates below
 * `baseUrl` (e.g. `https://my-bucket.s3.us-east-1.amazonaws.com/peerwire`): each name carries
 * the first 16 hex digits of the file's SHA-256 (`member-role-<hash>.yaml`), so a changed
 * template is a new URL and the rollout rolls it out (docs/deploy.md, section 5). Upload them
 * with that script; the rollout accepts no other names.
 *
 * @param templatesDir where member-role.yaml and member-forwarder.yaml are (default: the
 * repository's templates/)
 */
export function memberTemplateUrls(baseUrl: string, templatesDir = path.resolve(__dirname, '..', '..', 'templates')): MemberTemplateUrls {
  const url = (name: string) => {
    const hash = createHash('sha256').update(fs.readFileSync(path.join(templatesDir, `${name}.yaml`))).digest('hex');
    return `${baseUrl.replace(/\/+$/, '')}/${name}-${hash.slice(0, 16)}.yaml`;
  };
  return { memberRoleTemplateUrl: url('member-role'), memberForwarderTemplateUrl: url('member-forwarder') };
}

/** What the rollout's template URL parameters accept (their AllowedPattern in org-rollout.yaml). */
const TEMPLATE_URL = (name: string) => new RegExp(`^https://\\S+/${name}-[0-9a-f]{16}\\.yaml$`);

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
  /** S3 URL of templates/member-role.yaml under its content-hash name ({@link memberTemplateUrls}). */
  readonly memberRoleTemplateUrl: string;
  /** S3 URL of templates/member-forwarder.yaml under its content-hash name ({@link memberTemplateUrls}). */
  readonly memberForwarderTemplateUrl: string;
  /** The hub's account. */
  readonly hubAccountId: string;
  /** The hub bus. */
  readonly hubBusArn: string;
  /** The hub's ExternalId (may be a token). */
  readonly externalId: string;
  /** During an ExternalId rotation only: the new ExternalId (may be a token). @default '' */
  readonly nextExternalId?: string;
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
  /** VPCs (`<vpc-id>@<region>`, wildcards allowed) each member role may associate with a peer's zone. @default [] */
  readonly zoneAssociationVpcs?: string[];
  /** Private hosted zones peerwire may share, in every member account (each role reaches only its own account's). @default [] */
  readonly hostedZoneArns?: string[];
  /** Flow-log groups (name pattern) peerwire diagnose may read in each member account. @default '/peerwire/flow-logs/*' */
  readonly flowLogGroupNamePattern?: string;
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
    for (const [name, url] of [
      ['member-role', props.memberRoleTemplateUrl],
      ['member-forwarder', props.memberForwarderTemplateUrl],
    ]) {
      // A token (a CfnParameter, say) is checked by CloudFormation instead.
      if (!Token.isUnresolved(url) && !TEMPLATE_URL(name).test(url)) {
        throw new Error(`PeerwireOrgRollout: ${url} is not a content-hash URL of ${name}.yaml (memberTemplateUrls)`);
      }
    }
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
          parameter('NextExternalId', props.nextExternalId ?? ''),
          parameter('OrgId', props.orgId),
          parameter('ManagedVpcArns', (props.managedVpcArns ?? []).join(',')),
          parameter('ZoneAssociationVpcs', (props.zoneAssociationVpcs ?? []).join(',')),
          parameter('HostedZoneArns', (props.hostedZoneArns ?? []).join(',')),
          parameter('FlowLogGroupNamePattern', props.flowLogGroupNamePattern ?? '/peerwire/flow-logs/*'),
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
          // No alarm topic: the dead-letter alarm's state changes reach the hub bus.
        ],
        stackInstancesGroup: [{ deploymentTargets: targets, regions: props.forwarderRegions }],
      }),
      'MemberForwarderStackSet',
    );
  }
}
