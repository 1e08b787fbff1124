import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { memberTemplateUrls, PeerwireOrgRollout, PeerwireOrgRolloutProps } from '../lib';
import { REPO, stack } from './helpers';

const BASE: PeerwireOrgRolloutProps = {
  organizationalUnitIds: ['ou-abcd-11111111'],
  forwarderRegions: ['us-east-1', 'eu-west-1'],
  ...memberTemplateUrls('https://b.s3.amazonaws.com'),
  hubAccountId: '333333333333',
  hubBusArn: 'arn:aws:events:us-east-1:333333333333:event-bus/peerwire-hub',
  externalId: 'x1',
  orgId: 'o-a1b2c3d4e5',
};

test('two service-managed StackSets with automatic deployment: the role in one region, the forwarder in each', () => {
  const s = stack('members');
  new PeerwireOrgRollout(s, 'Rollout', BASE);
  const template = Template.fromStack(s);
  template.resourceCountIs('AWS::CloudFormation::StackSet', 2);
  template.hasResourceProperties('AWS::CloudFormation::StackSet', {
    PermissionModel: 'SERVICE_MANAGED',
    AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
    Capabilities: ['CAPABILITY_NAMED_IAM'],
    StackInstancesGroup: [{ DeploymentTargets: { OrganizationalUnitIds: ['ou-abcd-11111111'] }, Regions: ['us-east-1'] }],
  });
  template.hasResourceProperties('AWS::CloudFormation::StackSet', {
    Capabilities: ['CAPABILITY_IAM'],
    StackInstancesGroup: [{ DeploymentTargets: { OrganizationalUnitIds: ['ou-abcd-11111111'] }, Regions: ['us-east-1', 'eu-west-1'] }],
  });
});

/** What scripts/publish-member-templates prints (--dry-run) for the templates of `dir`. */
function published(dir: string): Record<string, string> {
  const out = execFileSync(
    path.join(REPO, 'scripts', 'publish-member-templates'),
    ['--dry-run', '--region', 'eu-west-1', '--templates', dir, 's3://my-bucket/peerwire/'],
    { encoding: 'utf-8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return Object.fromEntries(out.trim().split('\n').map((line) => line.split('=', 2) as [string, string]));
}

test('memberTemplateUrls names the templates as scripts/publish-member-templates uploads them, a new name for new content', () => {
  const base = 'https://my-bucket.s3.eu-west-1.amazonaws.com/peerwire';
  const urls = memberTemplateUrls(base);
  expect(published(path.join(REPO, 'templates'))).toEqual({
    MemberRoleTemplateUrl: urls.memberRoleTemplateUrl,
    MemberForwarderTemplateUrl: urls.memberForwarderTemplateUrl,
  });
  // A release that changes the member role: its URL changes, the forwarder's does not.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peerwire-templates-'));
  for (const name of ['member-role.yaml', 'member-forwarder.yaml']) {
    fs.copyFileSync(path.join(REPO, 'templates', name), path.join(dir, name));
  }
  fs.appendFileSync(path.join(dir, 'member-role.yaml'), '# a later release\n');
  const changed = memberTemplateUrls(`${base}/`, dir);
  expect(changed.memberRoleTemplateUrl).not.toEqual(urls.memberRoleTemplateUrl);
  expect(changed.memberForwarderTemplateUrl).toEqual(urls.memberForwarderTemplateUrl);
  expect(published(dir).MemberRoleTemplateUrl).toEqual(changed.memberRoleTemplateUrl);
  // And the StackSet that deploys the role takes the new URL: CloudFormation updates it.
  const templateUrl = (props: PeerwireOrgRolloutProps) => {
    const s = stack('members');
    new PeerwireOrgRollout(s, 'Rollout', props);
    const sets = Object.values<any>(Template.fromStack(s).findResources('AWS::CloudFormation::StackSet'));
    return sets.map((set) => set.Properties.TemplateURL).sort();
  };
  expect(templateUrl({ ...BASE, ...urls })).not.toEqual(templateUrl({ ...BASE, ...changed }));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a template URL without the content hash is refused, as org-rollout.yaml refuses it', () => {
  const s = stack('members');
  expect(
    () => new PeerwireOrgRollout(s, 'Rollout', { ...BASE, memberRoleTemplateUrl: 'https://b.s3.amazonaws.com/peerwire/member-role.yaml' }),
  ).toThrow(/not a content-hash URL of member-role.yaml/);
});
