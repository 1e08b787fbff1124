import { Template } from 'aws-cdk-lib/assertions';
import { PeerwireOrgRollout } from '../lib';
import { stack } from './helpers';

test('two service-managed StackSets with automatic deployment: the role in one region, the forwarder in each', () => {
  const s = stack('members');
  new PeerwireOrgRollout(s, 'Rollout', {
    organizationalUnitIds: ['ou-abcd-11111111'],
    forwarderRegions: ['us-east-1', 'eu-west-1'],
    memberRoleTemplateUrl: 'https://b.s3.amazonaws.com/member-role.yaml',
    memberForwarderTemplateUrl: 'https://b.s3.amazonaws.com/member-forwarder.yaml',
    hubAccountId: '333333333333',
    hubBusArn: 'arn:aws:events:us-east-1:333333333333:event-bus/peerwire-hub',
    externalId: 'x1',
    orgId: 'o-a1b2c3d4e5',
  });
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
