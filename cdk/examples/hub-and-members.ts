/**
 * An app with the three peerwire stacks: the hub (hub account), a member (every member account,
 * here one), and the organization rollout (management account). `cdk synth` / `cdk deploy`
 * from cdk/ (cdk.json runs this file); nothing here needs credentials until deploy.
 *
 * Environment: PEERWIRE_HUB_ACCOUNT (default 333333333333), PEERWIRE_REGION (us-east-1),
 * PEERWIRE_ORG_ID, PEERWIRE_OUS (comma-separated OU ids), PEERWIRE_TEMPLATE_BUCKET_URL (where
 * scripts/publish-member-templates uploads templates/member-*.yaml, under their content-hash
 * names), PEERWIRE_BOOTSTRAP_DIR (a directory holding prebuilt
 * `<binary>/bootstrap` files; unset = cargo-lambda builds functions/ at synth).
 */
import * as path from 'path';
import { App, CfnParameter, Stack, StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { memberTemplateUrls, PeerwireBinary, PeerwireHub, PeerwireMember, PeerwireOrgRollout } from '../lib';

export interface ExampleOptions {
  /** Prebuilt code per binary (tests pass a stub); default: PEERWIRE_BOOTSTRAP_DIR or cargo-lambda. */
  readonly code?: (binary: PeerwireBinary) => lambda.Code;
}

export function buildApp(app: App, options: ExampleOptions = {}): { hub: Stack; member: Stack; rollout: Stack } {
  const hubAccount = process.env.PEERWIRE_HUB_ACCOUNT ?? '333333333333';
  const region = process.env.PEERWIRE_REGION ?? 'us-east-1';
  const orgId = process.env.PEERWIRE_ORG_ID ?? 'o-a1b2c3d4e5';
  const ous = (process.env.PEERWIRE_OUS ?? 'ou-abcd-11111111').split(',');
  const bucketUrl = process.env.PEERWIRE_TEMPLATE_BUCKET_URL ?? 'https://my-platform-artifacts.s3.amazonaws.com/peerwire';
  const bootstrapDir = process.env.PEERWIRE_BOOTSTRAP_DIR;
  const code =
    options.code ??
    (bootstrapDir ? (binary: PeerwireBinary) => lambda.Code.fromAsset(path.join(bootstrapDir, binary)) : undefined);

  // The hub account.
  const hub = new Stack(app, 'PeerwireHub', { env: { account: hubAccount, region } } as StackProps);
  const externalId = new CfnParameter(hub, 'ExternalId', { type: 'String', noEcho: true, minLength: 2 });
  new PeerwireHub(hub, 'Peerwire', {
    externalId: externalId.valueAsString,
    orgId,
    organizationsRoleArn: process.env.PEERWIRE_ORGANIZATIONS_ROLE_ARN ?? '',
    // The IAM Identity Center permission set PeeringApprover: its role has no Region segment
    // for an instance in us-east-1, and one elsewhere (IAM Identity Center User Guide,
    // "Referencing permission sets in resource policies ..."); both shapes.
    approverPrincipalArns: [
      `arn:aws:iam::${hubAccount}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PeeringApprover_*`,
      `arn:aws:iam::${hubAccount}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_PeeringApprover_*`,
    ],
    alertEmail: process.env.PEERWIRE_ALERT_EMAIL ?? '',
    tags: { project: 'peerwire' },
    code: code && {
      'peering-request': code('peering-request'),
      'peering-wiring': code('peering-wiring'),
      'drift-recheck': code('drift-recheck'),
      'peering-cleanup': code('peering-cleanup'),
    },
  });
  const hubBusArn = `arn:aws:events:${region}:${hubAccount}:event-bus/peerwire-hub`;

  // One member account by hand (an account outside the OUs, or the management account).
  const member = new Stack(app, 'PeerwireMember', { env: { region } });
  const memberExternalId = new CfnParameter(member, 'ExternalId', { type: 'String', noEcho: true, minLength: 2 });
  new PeerwireMember(member, 'Member', {
    hubAccountId: hubAccount,
    externalId: memberExternalId.valueAsString,
    hubBusArn,
    orgId,
    managedVpcArns: ['arn:aws:ec2:*:*:vpc/*'],
  });

  // Every account of the OUs, vended ones included (management account or delegated administrator).
  const rollout = new Stack(app, 'PeerwireMembersRollout', { env: { region } });
  const rolloutExternalId = new CfnParameter(rollout, 'ExternalId', { type: 'String', noEcho: true, minLength: 2 });
  new PeerwireOrgRollout(rollout, 'Rollout', {
    organizationalUnitIds: ous,
    roleRegion: region,
    forwarderRegions: [region],
    // The names scripts/publish-member-templates uploads them under: a new template, a new URL.
    ...memberTemplateUrls(bucketUrl),
    hubAccountId: hubAccount,
    hubBusArn,
    externalId: rolloutExternalId.valueAsString,
    orgId,
    managedVpcArns: ['arn:aws:ec2:*:*:vpc/*'],
  });
  return { hub, member, rollout };
}

if (require.main === module) {
  const app = new App();
  buildApp(app);
  app.synth();
}
