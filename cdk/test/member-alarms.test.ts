import { Template } from 'aws-cdk-lib/assertions';
import { PeerwireHub, PeerwireHubProps } from '../lib';
import { samHub, samOutputs, stack, stubCode } from './helpers';

/**
 * The hub's MemberAccounts output, which says at deploy time which accounts the hub admits (the
 * "Members the hub admits" of docs/deploy.md), is the same text from PeerwireHub as from
 * template.yaml for every combination of orgId and memberAccountIds.
 */
test.each<[string, Partial<PeerwireHubProps>, Record<string, string>]>([
  ['an organization', { orgId: 'o-a1b2c3d4e5' }, { OrgId: 'o-a1b2c3d4e5' }],
  [
    'an organization and listed accounts',
    { orgId: 'o-a1b2c3d4e5', memberAccountIds: ['444444444444'] },
    { OrgId: 'o-a1b2c3d4e5', MemberAccountIds: '444444444444' },
  ],
  [
    'listed accounts only',
    { memberAccountIds: ['111111111111', '444444444444'] },
    { MemberAccountIds: '111111111111,444444444444' },
  ],
  ['neither', {}, {}],
])('MemberAccounts: %s', (_name, props, parameters) => {
  const s = stack();
  new PeerwireHub(s, 'Hub', { externalId: 'x1', code: stubCode(), ...props });
  const outputs = Template.fromStack(s).toJSON().Outputs;
  const cdk = Object.entries<any>(outputs).filter(([id]) => id.includes('MemberAccounts'));
  expect(cdk).toHaveLength(1);
  const sam = samOutputs(samHub(), { ExternalId: 'x1', ...parameters }).MemberAccounts;
  expect(cdk[0][1].Value).toEqual(sam);
  expect(typeof sam).toBe('string');
});
