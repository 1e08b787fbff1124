import * as events from 'aws-cdk-lib/aws-events';
import { Fn } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { RULE_RETRY, samId } from './common';

/** Where the notification rules are and where they send. */
export interface NotificationTargets {
  /** The outcome bus (name or ARN). */
  readonly eventBusName: string;
  /** The alert topic. */
  readonly topicArn: string;
  /** Where undeliverable messages go. */
  readonly deadLetterQueueArn: string;
  /** The hub bus, where approvals go. */
  readonly hubBusArn: string;
}

interface Notification {
  readonly id: string;
  readonly description: string;
  readonly detailType: string;
  readonly paths: Record<string, string>;
  /** The input template, one JSON string per line; `${HubBusArn}` and `${AWS::Region}` are substituted. */
  readonly lines: string[];
}

/**
 * The messages a person reads, as in template.yaml: what happened, why, the command to run next.
 * Every variable is a scalar path: EventBridge strips the inner quotes of an array or object
 * referenced inside a string (template.yaml cites the pages), so lists are read element by
 * element.
 */
export const NOTIFICATIONS: Notification[] = [
  {
    id: 'NotifyApprovalRequired',
    description: 'peerwire - a peering request waits for an approval; the message carries the approval command.',
    detailType: 'Peering Approval Required',
    paths: {acc: '$.detail.accepter.account', accvpc: '$.detail.accepter.vpc_id', cidr: '$.detail.requester.cidrs[0]', pcx: '$.detail.peering_id', racc: '$.detail.requester.account', region: '$.detail.accepter.region', rule: '$.detail.rule', rvpc: '$.detail.requester.vpc_id', why: '$.detail.reasons[0]' },
    lines: [
      '"peerwire: peering request <pcx> is held until an approver decides."',
      '"What happened: account <racc> (<rvpc>, CIDR <cidr>) asked to peer with <accvpc> in account <acc>, <region>; the policy holds it for an approval (rule <rule>)."',
      '"Why: <why>"',
      '"Next, to approve (it shows every CIDR and reason, and asks before it sends): peerwire approve <pcx> --account <acc> --region <region> --bus ${HubBusArn}"',
      "\"To deny it instead: peerwire deny <pcx> --account <acc> --region <region> --bus ${HubBusArn} --reason 'why, for the requester'\"",
    ],
  },
  {
    id: 'NotifyReconcileFailed',
    description: 'peerwire - a run failed permanently for a peering (or an account); the message carries the diagnose command.',
    detailType: 'Peering Reconcile Failed',
    paths: {acc: '$.detail.accepter.account', error: '$.detail.error.message', pcx: '$.detail.peering_id', region: '$.detail.accepter.region', trigger: '$.detail.trigger', why: '$.detail.reasons[0]' },
    lines: [
      '"peerwire: reconcile failed for peering <pcx> (accepter <acc>, <region>)."',
      '"What happened: a <trigger> run stopped on an error peerwire does not retry (access denied, a resource gone); the next event or sweep tries again."',
      '"Why: <why> (<error>)"',
      '"Next: peerwire diagnose <pcx> --account <acc> --region <region>"',
    ],
  },
  {
    id: 'NotifyWiringBlocked',
    description: 'peerwire - a route to the peer already points elsewhere; the message carries the diagnose command.',
    detailType: 'Peering Wiring Blocked',
    paths: {acc: '$.detail.accepter.account', pcx: '$.detail.peering_id', region: '$.detail.accepter.region', why: '$.detail.reasons[0]' },
    lines: [
      '"peerwire: wiring of peering <pcx> is blocked (accepter <acc>, <region>)."',
      '"What happened: a route to a peer CIDR already points somewhere else (or a quota is full); peerwire never replaces it, and applied everything else that was missing."',
      '"Why: <why>"',
      '"Next: peerwire diagnose <pcx> --account <acc> --region <region>"',
    ],
  },
  {
    id: 'NotifyDriftRepaired',
    description: 'peerwire - the wiring of a peering had drifted and was repaired; the message carries the diagnose command.',
    detailType: 'Peering Drift Repaired',
    paths: {acc: '$.detail.accepter.account', pcx: '$.detail.peering_id', region: '$.detail.accepter.region', trigger: '$.detail.trigger', why: '$.detail.reasons[0]' },
    lines: [
      '"peerwire: repaired drift on peering <pcx> (accepter <acc>, <region>)."',
      '"What happened: part of the wiring was removed or changed (seen by a <trigger> run) and peerwire put it back."',
      '"Why: <why>"',
      '"Next: peerwire diagnose <pcx> --account <acc> --region <region>"',
    ],
  },
  {
    id: 'NotifyDriftRecurring',
    description: 'peerwire - the same drift was repaired twice within 24 hours; the message names who keeps undoing it.',
    detailType: 'Peering Drift Recurring',
    paths: {acc: '$.detail.accepter.account', pcx: '$.detail.peering_id', region: '$.detail.accepter.region', why: '$.detail.reasons[0]' },
    lines: [
      '"peerwire: the same drift keeps coming back on peering <pcx> (accepter <acc>, <region>)."',
      '"What happened: part of the wiring was removed again within 24 hours, and peerwire put it back again; later repairs today are not notified."',
      '"Why: <why>"',
      '"Next: peerwire diagnose <pcx> --account <acc> --region <region>"',
    ],
  },
];

/** The notification rules (in the order of NOTIFICATIONS). */
export function notifications(scope: Construct, targets: NotificationTargets): events.CfnRule[] {
  return NOTIFICATIONS.map((n) => {
    const template = n.lines.join('\n');
    return samId(
      new events.CfnRule(scope, n.id, {
        description: n.description,
        eventBusName: targets.eventBusName,
        state: 'ENABLED',
        eventPattern: { 'source': ['peerwire'], 'detail-type': [n.detailType] },
        targets: [
          {
            id: 'alert-topic',
            arn: targets.topicArn,
            retryPolicy: RULE_RETRY,
            deadLetterConfig: { arn: targets.deadLetterQueueArn },
            inputTransformer: {
              inputPathsMap: n.paths,
              inputTemplate: template.includes('${') ? Fn.sub(template, { HubBusArn: targets.hubBusArn }) : template,
            },
          },
        ],
      }),
      n.id,
    );
  });
}
