export { PEERWIRE_ID } from './common';
export { PeerwireHub, FUNCTIONS } from './hub';
export type { PeerwireHubProps, PeerwireBinary } from './hub';
export { PeerwireMember } from './member';
export type { PeerwireMemberProps } from './member';
export { PeerwireOrgRollout } from './org-rollout';
export type { PeerwireOrgRolloutProps } from './org-rollout';
export { NOTIFICATIONS } from './notifications';
