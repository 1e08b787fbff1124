import { Match, Template } from 'aws-cdk-lib/assertions';
import { PeerwireMember } from '../lib';
import { stack } from './helpers';

const BASE = { hubAccountId: '333333333333', externalId: 'x1', hubBusArn: 'arn:aws:events:us-east-1:333333333333:event-bus/peerwire-hub' };

test('by default the member role only reads, and trusts the hub roles under /peerwire/ with the ExternalId', () => {
  const s = stack();
  new PeerwireMember(s, 'Member', BASE);
  const template = Template.fromStack(s);
  template.hasResourceProperties('AWS::IAM::Role', {
    RoleName: 'peerwire-member',
    AssumeRolePolicyDocument: {
      Statement: [
        Match.objectLike({
          Condition: {
            StringEquals: { 'sts:ExternalId': 'x1' },
            ArnLike: { 'aws:PrincipalArn': [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::333333333333:role/peerwire/*']] }] },
          },
        }),
      ],
    },
    Policies: [Match.objectLike({ PolicyName: 'peerwire-member-read' })],
  });
});

test('with managed VPCs the write policy appears; the forwarder has five rules on its own account', () => {
  const s = stack();
  new PeerwireMember(s, 'Member', { ...BASE, managedVpcArns: ['arn:aws:ec2:*:*:vpc/*'] });
  const template = Template.fromStack(s);
  template.hasResourceProperties('AWS::IAM::Role', {
    Policies: Match.arrayWith([Match.objectLike({ PolicyName: 'peerwire-member-write' })]),
  });
  // Four kinds of events, and the state changes of its own dead-letter alarm.
  template.resourceCountIs('AWS::Events::Rule', 5);
  for (const rule of Object.values<any>(template.findResources('AWS::Events::Rule'))) {
    expect(rule.Properties.EventPattern.account).toEqual([{ Ref: 'AWS::AccountId' }]);
    expect(rule.Properties.Targets[0].RoleArn).toBeDefined();
  }
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: Match.objectLike({ detail: Match.objectLike({ $or: Match.anyValue() }) }),
  });
});

test('listed hosted zones get the zone-sharing policy on exactly those zones, without managed VPCs', () => {
  const s = stack();
  const zone = 'arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ';
  new PeerwireMember(s, 'Member', { ...BASE, hostedZoneArns: [zone] });
  const role = Object.values<any>(Template.fromStack(s).findResources('AWS::IAM::Role')).find((r) => r.Properties.RoleName === 'peerwire-member');
  expect(role.Properties.Policies.map((p: any) => p.PolicyName)).toEqual(['peerwire-member-read', 'peerwire-member-zones']);
  expect(role.Properties.Policies[1].PolicyDocument.Statement).toEqual([
    {
      Sid: 'ShareListedHostedZones',
      Effect: 'Allow',
      Action: ['route53:ChangeTagsForResource', 'route53:CreateVPCAssociationAuthorization', 'route53:DeleteVPCAssociationAuthorization'],
      Resource: [zone],
    },
  ]);
});

test('role only, or forwarder only', () => {
  const roleOnly = stack();
  new PeerwireMember(roleOnly, 'Member', { ...BASE, forwarder: false });
  Template.fromStack(roleOnly).resourceCountIs('AWS::Events::Rule', 0);
  const forwarderOnly = stack();
  new PeerwireMember(forwarderOnly, 'Member', { ...BASE, role: false, tags: { team: 'net' } });
  const t = Template.fromStack(forwarderOnly);
  t.resourceCountIs('AWS::IAM::Role', 1);
  t.hasResourceProperties('AWS::SQS::Queue', { Tags: [{ Key: 'team', Value: 'net' }] });
});
