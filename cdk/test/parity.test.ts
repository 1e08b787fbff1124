/**
 * The CDK constructs are the SAM templates: PeerwireHub against template.yaml after the SAM
 * transform, PeerwireMember against templates/member-role.yaml + member-forwarder.yaml,
 * PeerwireOrgRollout against templates/org-rollout.yaml, each for the same parameter values.
 *
 * Every resource is paired by its SAM logical id (the `peerwire:id` metadata of the CDK
 * resource) and compared property by property after both are normalized (intrinsics resolved to
 * {{LogicalId}} references, IAM lists compared as sets, Code and Tags left out). A resource on
 * one side only, or any property that differs, fails: a change made to one template and not the
 * other cannot pass.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { PeerwireHub, PeerwireHubProps, PeerwireMember, PeerwireMemberProps, PeerwireOrgRollout, FUNCTIONS } from '../lib';
import { cdkResources, Json, Resource, samHub, samResources, stack, stubCode, yamlTemplate } from './helpers';

/** What differs between two resource maps: one line per resource or property. */
export function differences(cdk: Record<string, Resource>, sam: Record<string, Resource>): string[] {
  const out: string[] = [];
  for (const id of Object.keys(sam)) if (!(id in cdk)) out.push(`${id}: in the SAM template only`);
  for (const id of Object.keys(cdk)) if (!(id in sam)) out.push(`${id}: in the CDK construct only`);
  for (const id of Object.keys(sam).filter((i) => i in cdk)) {
    const a = cdk[id];
    const b = sam[id];
    if (a.type !== b.type) out.push(`${id}: type ${a.type} vs ${b.type}`);
    for (const k of ['deletionPolicy', 'updateReplacePolicy'] as const) {
      if (a[k] !== b[k]) out.push(`${id}: ${k} ${a[k]} (CDK) vs ${b[k]} (SAM)`);
    }
    const keys = new Set([...Object.keys(a.properties), ...Object.keys(b.properties)]);
    for (const k of keys) {
      const x = stable(a.properties[k]);
      const y = stable(b.properties[k]);
      if (x !== y) out.push(`${id}.${k}:\n    CDK ${x}\n    SAM ${y}`);
    }
  }
  return out;
}

/** JSON with object keys sorted: two documents that differ only in key order print the same. */
function stable(value: Json): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

function hubPair(props: Omit<PeerwireHubProps, 'code'>, parameters: Record<string, string>) {
  const s = stack();
  new PeerwireHub(s, 'Hub', { ...props, code: stubCode() });
  return { cdk: cdkResources(Template.fromStack(s).toJSON()), sam: samResources(samHub(), parameters) };
}

const EXTERNAL_ID = 'test-external-id';

const HUB_SCENARIOS: [string, Omit<PeerwireHubProps, 'code'>, Record<string, string>][] = [
  ['defaults', { externalId: EXTERNAL_ID }, { ExternalId: EXTERNAL_ID }],
  [
    'an organization with approvers, an Organizations role, a KMS key, a given topic and reserved concurrency',
    {
      externalId: EXTERNAL_ID,
      policyParameterName: '/platform/peerwire-policy',
      policyKmsKeyArn: 'arn:aws:kms:us-east-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      memberRoleName: 'pw-member',
      functionRolePath: '/platform/peerwire/',
      organizationsRoleArn: 'arn:aws:iam::555555555555:role/peerwire-organizations-read',
      hubBusName: 'pw-hub',
      orgId: 'o-a1b2c3d4e5',
      memberAccountIds: ['111111111111', '444444444444'],
      approverPrincipalArns: [
        'arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PeeringApprover_*',
        'arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_PeeringApprover_*',
        'arn:aws:iam::333333333333:role/peerwire-approver',
      ],
      sweepRate: 'rate(5 minutes)',
      driftSweepRate: 'rate(30 minutes)',
      reservedConcurrency: 5,
      logRetentionDays: 90,
      alarmTopicArn: 'arn:aws:sns:us-east-1:333333333333:platform-alerts',
      alertEmail: 'platform@example.com',
    },
    {
      ExternalId: EXTERNAL_ID,
      PolicyParameterName: '/platform/peerwire-policy',
      PolicyKmsKeyArn: 'arn:aws:kms:us-east-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      MemberRoleName: 'pw-member',
      FunctionRolePath: '/platform/peerwire/',
      OrganizationsRoleArn: 'arn:aws:iam::555555555555:role/peerwire-organizations-read',
      HubBusName: 'pw-hub',
      OrgId: 'o-a1b2c3d4e5',
      MemberAccountIds: '111111111111,444444444444',
      ApproverPrincipalArns:
        'arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_PeeringApprover_*,arn:aws:iam::333333333333:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_PeeringApprover_*,arn:aws:iam::333333333333:role/peerwire-approver',
      SweepRate: 'rate(5 minutes)',
      DriftSweepRate: 'rate(30 minutes)',
      ReservedConcurrency: '5',
      LogRetentionDays: '90',
      AlarmTopicArn: 'arn:aws:sns:us-east-1:333333333333:platform-alerts',
      AlertEmail: 'platform@example.com',
    },
  ],
  [
    'listed member accounts, outcomes on another bus, reserved concurrency 0',
    {
      externalId: EXTERNAL_ID,
      memberAccountIds: ['111111111111'],
      outcomeBusArn: 'arn:aws:events:us-east-1:333333333333:event-bus/audit',
      reservedConcurrency: 0,
    },
    {
      ExternalId: EXTERNAL_ID,
      MemberAccountIds: '111111111111',
      OutcomeBusArn: 'arn:aws:events:us-east-1:333333333333:event-bus/audit',
      ReservedConcurrency: '0',
    },
  ],
];

describe.each(HUB_SCENARIOS)('PeerwireHub equals template.yaml: %s', (_name, props, parameters) => {
  const { cdk, sam } = hubPair(props, parameters);
  const only = (ids: (id: string) => boolean) => {
    const pick = (m: Record<string, Resource>) => Object.fromEntries(Object.entries(m).filter(([id]) => ids(id)));
    return differences(pick(cdk), pick(sam));
  };
  const ofType = (type: string) => (id: string) => (sam[id] ?? cdk[id]).type === type;

  test.each(FUNCTIONS.map((f) => [f.binary, f.prefix]))('%s: function configuration (timeouts, memory, architecture, runtime, environment)', (_b, prefix) => {
    expect(only((id) => id === `${prefix}Function` || id === `${prefix}LogGroup` || id === `${prefix}FunctionEventInvokeConfig`)).toEqual([]);
    expect(Object.keys(cdk[`${prefix}Function`].properties.Environment.Variables).sort()).toEqual(
      Object.keys(sam[`${prefix}Function`].properties.Environment.Variables).sort(),
    );
  });
  test.each(FUNCTIONS.map((f) => [f.binary, f.prefix]))('%s: EventBridge rules (patterns), schedules and permissions', (_b, prefix) => {
    expect(only((id) => id.startsWith(`${prefix}Function`) && (ofType('AWS::Events::Rule')(id) || ofType('AWS::Lambda::Permission')(id)))).toEqual([]);
  });
  test.each(FUNCTIONS.map((f) => [f.binary, f.prefix]))('%s: IAM actions, resources and conditions', (_b, prefix) => {
    expect(only((id) => id === `${prefix}FunctionRole`)).toEqual([]);
  });
  test.each(FUNCTIONS.map((f) => [f.binary, f.prefix]))('%s: DLQ, failed-invocation queue and alarm wiring', (_b, prefix) => {
    expect(
      only((id) => id.startsWith(prefix) && (ofType('AWS::SQS::Queue')(id) || ofType('AWS::SQS::QueuePolicy')(id) || ofType('AWS::CloudWatch::Alarm')(id))),
    ).toEqual([]);
  });
  test('the hub bus and its policy, the ledger, the topic, notifications, dashboard: every resource', () => {
    expect(differences(cdk, sam)).toEqual([]);
  });
});

test('every parameter of template.yaml is a prop, exercised by a scenario above', () => {
  const used = new Set(HUB_SCENARIOS.flatMap(([, , parameters]) => Object.keys(parameters)));
  expect([...used].sort()).toEqual(Object.keys(samHub().Parameters).sort());
});

describe('a change made on one side only fails', () => {
  const { cdk, sam } = hubPair({ externalId: EXTERNAL_ID }, { ExternalId: EXTERNAL_ID });
  const mutated = (mutate: (r: Record<string, Resource>) => void) => {
    const copy: Record<string, Resource> = JSON.parse(JSON.stringify(cdk));
    mutate(copy);
    return differences(copy, sam);
  };
  test('a pattern', () => {
    expect(
      mutated((r) => r.DriftRecheckFunctionNetworkChanged.properties.EventPattern.detail.eventName.pop()),
    ).toHaveLength(1);
  });
  test('an IAM action', () => {
    expect(
      mutated((r) => r.PeeringWiringFunctionRole.properties.Policies[1].PolicyDocument.Statement[0].Action.push('ec2:*')),
    ).toHaveLength(1);
  });
  test('a timeout', () => {
    expect(mutated((r) => (r.PeeringCleanupFunction.properties.Timeout = '60'))).toHaveLength(1);
  });
  test('a missing alarm', () => {
    expect(mutated((r) => delete r.PeeringRequestThrottlesAlarm)).toEqual(['PeeringRequestThrottlesAlarm: in the SAM template only']);
  });
  test('the SAM side too', () => {
    const changed: Json = samHub();
    changed.Resources.PeeringRequestFunction.Properties.MemorySize = 512;
    expect(differences(cdk, samResources(changed, { ExternalId: EXTERNAL_ID }))).toHaveLength(1);
  });
});

function memberTemplates(parameters: Record<string, string>) {
  const role = samResources(yamlTemplate('templates/member-role.yaml'), {
    HubAccountId: parameters.HubAccountId,
    ExternalId: parameters.ExternalId,
    ...pick(parameters, [
      'MemberRoleName',
      'HubRolePath',
      'HubRoleArns',
      'NextExternalId',
      'OrgId',
      'ManagedVpcArns',
      'ZoneAssociationVpcs',
      'HostedZoneArns',
      'FlowLogGroupNamePattern',
    ]),
  });
  const forwarder = samResources(yamlTemplate('templates/member-forwarder.yaml'), {
    HubBusArn: parameters.HubBusArn,
    ...pick(parameters, ['MemberRoleName', 'AlarmTopicArn']),
  });
  return { ...role, ...forwarder };
}

function pick(from: Record<string, string>, keys: string[]) {
  return Object.fromEntries(keys.filter((k) => k in from).map((k) => [k, from[k]]));
}

const BUS = 'arn:aws:events:us-east-1:333333333333:event-bus/peerwire-hub';
const MEMBER_SCENARIOS: [string, PeerwireMemberProps, Record<string, string>][] = [
  [
    'defaults: read-only role',
    { hubAccountId: '333333333333', externalId: EXTERNAL_ID, hubBusArn: BUS },
    { HubAccountId: '333333333333', ExternalId: EXTERNAL_ID, HubBusArn: BUS },
  ],
  [
    'managed VPCs, an organization, explicit hub roles, an alarm topic, another role name',
    {
      hubAccountId: '333333333333',
      externalId: EXTERNAL_ID,
      hubBusArn: BUS,
      memberRoleName: 'pw-member',
      hubRoleArns: ['arn:aws:iam::333333333333:role/peerwire/a', 'arn:aws:iam::333333333333:role/peerwire/b'],
      orgId: 'o-a1b2c3d4e5',
      managedVpcArns: ['arn:aws:ec2:*:*:vpc/*'],
      alarmTopicArn: 'arn:aws:sns:us-east-1:111111111111:alerts',
    },
    {
      HubAccountId: '333333333333',
      ExternalId: EXTERNAL_ID,
      HubBusArn: BUS,
      MemberRoleName: 'pw-member',
      HubRoleArns: 'arn:aws:iam::333333333333:role/peerwire/a,arn:aws:iam::333333333333:role/peerwire/b',
      OrgId: 'o-a1b2c3d4e5',
      ManagedVpcArns: 'arn:aws:ec2:*:*:vpc/*',
      AlarmTopicArn: 'arn:aws:sns:us-east-1:111111111111:alerts',
    },
  ],
  [
    'shared private hosted zones without managed VPCs',
    {
      hubAccountId: '333333333333',
      externalId: EXTERNAL_ID,
      hubBusArn: BUS,
      hostedZoneArns: ['arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ', 'arn:aws:route53:::hostedzone/Z9876543210ABCDEFGHIJ'],
    },
    {
      HubAccountId: '333333333333',
      ExternalId: EXTERNAL_ID,
      HubBusArn: BUS,
      HostedZoneArns: 'arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ,arn:aws:route53:::hostedzone/Z9876543210ABCDEFGHIJ',
    },
  ],
  [
    'an ExternalId rotation, VPCs associated with peer zones, other flow-log groups',
    {
      hubAccountId: '333333333333',
      externalId: EXTERNAL_ID,
      nextExternalId: 'next-external-id',
      hubBusArn: BUS,
      hubRolePath: '/platform/peerwire/',
      orgId: 'o-a1b2c3d4e5',
      managedVpcArns: ['arn:aws:ec2:*:*:vpc/*'],
      zoneAssociationVpcs: ['vpc-0abc1234@us-east-1', '*@eu-west-1', 'vpc-no-region'],
      flowLogGroupNamePattern: '/org/vpc-flow-logs/*',
    },
    {
      HubAccountId: '333333333333',
      ExternalId: EXTERNAL_ID,
      NextExternalId: 'next-external-id',
      HubBusArn: BUS,
      HubRolePath: '/platform/peerwire/',
      OrgId: 'o-a1b2c3d4e5',
      ManagedVpcArns: 'arn:aws:ec2:*:*:vpc/*',
      ZoneAssociationVpcs: 'vpc-0abc1234@us-east-1,*@eu-west-1,vpc-no-region',
      FlowLogGroupNamePattern: '/org/vpc-flow-logs/*',
    },
  ],
  [
    'managed VPCs and every zone of the account',
    { hubAccountId: '333333333333', externalId: EXTERNAL_ID, hubBusArn: BUS, managedVpcArns: ['arn:aws:ec2:*:*:vpc/*'], hostedZoneArns: ['arn:aws:route53:::hostedzone/*'] },
    {
      HubAccountId: '333333333333',
      ExternalId: EXTERNAL_ID,
      HubBusArn: BUS,
      ManagedVpcArns: 'arn:aws:ec2:*:*:vpc/*',
      HostedZoneArns: 'arn:aws:route53:::hostedzone/*',
    },
  ],
];

test.each(MEMBER_SCENARIOS)('PeerwireMember equals member-role.yaml + member-forwarder.yaml: %s', (_name, props, parameters) => {
  const s = stack();
  new PeerwireMember(s, 'Member', props);
  expect(differences(cdkResources(Template.fromStack(s).toJSON()), memberTemplates(parameters))).toEqual([]);
});

const ROLE_URL = 'https://b.s3.amazonaws.com/peerwire/member-role-0123456789abcdef.yaml';
const FORWARDER_URL = 'https://b.s3.amazonaws.com/peerwire/member-forwarder-fedcba9876543210.yaml';

test.each([
  ['defaults', {}, {}],
  [
    'a rotation, zone associations, other flow-log groups',
    {
      nextExternalId: 'next-external-id',
      zoneAssociationVpcs: ['*@eu-west-1', '*@us-east-1'],
      flowLogGroupNamePattern: '/org/vpc-flow-logs/*',
    },
    {
      NextExternalId: 'next-external-id',
      ZoneAssociationVpcs: '*@eu-west-1,*@us-east-1',
      FlowLogGroupNamePattern: '/org/vpc-flow-logs/*',
    },
  ],
])('PeerwireOrgRollout equals org-rollout.yaml: %s', (_name, props, parameters) => {
  const s = stack('peerwire-members');
  new PeerwireOrgRollout(s, 'Rollout', {
    organizationalUnitIds: ['ou-abcd-11111111', 'ou-abcd-22222222'],
    roleRegion: 'eu-west-1',
    forwarderRegions: ['eu-west-1', 'us-east-1'],
    callAs: 'DELEGATED_ADMIN',
    memberRoleTemplateUrl: ROLE_URL,
    memberForwarderTemplateUrl: FORWARDER_URL,
    hubAccountId: '333333333333',
    hubBusArn: BUS,
    externalId: EXTERNAL_ID,
    orgId: 'o-a1b2c3d4e5',
    managedVpcArns: ['arn:aws:ec2:*:*:vpc/*'],
    hostedZoneArns: ['arn:aws:route53:::hostedzone/*'],
    ...props,
  });
  const sam = samResources(yamlTemplate('templates/org-rollout.yaml'), {
    OrganizationalUnitIds: 'ou-abcd-11111111,ou-abcd-22222222',
    RoleRegion: 'eu-west-1',
    ForwarderRegions: 'eu-west-1,us-east-1',
    CallAs: 'DELEGATED_ADMIN',
    MemberRoleTemplateUrl: ROLE_URL,
    MemberForwarderTemplateUrl: FORWARDER_URL,
    HubAccountId: '333333333333',
    HubBusArn: BUS,
    ExternalId: EXTERNAL_ID,
    OrgId: 'o-a1b2c3d4e5',
    ManagedVpcArns: 'arn:aws:ec2:*:*:vpc/*',
    HostedZoneArns: 'arn:aws:route53:::hostedzone/*',
    ...parameters,
  });
  expect(differences(cdkResources(Template.fromStack(s).toJSON()), sam)).toEqual([]);
});

test('every parameter of the member templates and the rollout is exercised by a scenario above', () => {
  const member = new Set(MEMBER_SCENARIOS.flatMap(([, , parameters]) => Object.keys(parameters)));
  const declared = [
    ...Object.keys(yamlTemplate('templates/member-role.yaml').Parameters),
    ...Object.keys(yamlTemplate('templates/member-forwarder.yaml').Parameters),
  ];
  expect([...new Set(declared)].filter((p) => !member.has(p))).toEqual([]);
});
