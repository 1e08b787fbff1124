import { CfnOutput } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { RULE_RETRY, samId } from './common';
import { FORWARDER_ALARM_PREFIX } from './member';

/**
 * What the hub admits from member accounts, and what it does with their forwarders' dead-letter
 * alarms: the "Member forwarders that cannot deliver" section of template.yaml.
 */

/**
 * The sources member accounts may put on the hub bus: their forwarded EC2 and RDS events, and
 * the state changes of their forwarders' dead-letter alarms. An aws.* source cannot be forged
 * with PutEvents.
 */
export const MEMBER_SOURCES = ['aws.ec2', 'aws.rds', 'aws.cloudwatch'];

/** The id of the hub's rule (and of its statements in the topic and queue policies). */
export const MEMBER_FORWARDER_ALARMS = {
  rule: 'NotifyMemberForwarderDeadLetters',
  topicStatement: 'MemberForwarderAlarms',
  queueStatement: 'UndeliverableMemberForwarderAlarms',
};

/** Where the rule is and where it sends. */
export interface MemberForwarderAlarmTargets {
  /** The hub bus (its name): the forwarders send there. */
  readonly eventBusName: string;
  /** The alert topic. */
  readonly topicArn: string;
  /** Where undeliverable messages go (the notifications' dead-letter queue). */
  readonly deadLetterQueueArn: string;
}

const LINES = [
  '"peerwire: the event forwarder of account <account> in <region> cannot deliver events to the hub bus."',
  '"What happened: the events it could not put on the hub bus wait in its dead-letter queue <queue> (alarm <alarm>). Until they are delivered, peerwire sees that account\'s changes in <region> only at its sweeps."',
  '"Why: <reason>"',
  '"Next, in account <account>: aws sqs receive-message --region <region> --queue-url $(aws sqs get-queue-url --region <region> --queue-name <queue> --query QueueUrl --output text) --message-attribute-names All (the ERROR_CODE attribute says why; docs/deploy.md, section 5)"',
];

/**
 * The rule that notifies when any member's forwarder, in any region, has events waiting in its
 * dead-letter queue (its alarm's "CloudWatch Alarm State Change" to ALARM, forwarded to the hub
 * bus): as NotifyMemberForwarderDeadLetters of template.yaml.
 */
export function memberForwarderAlarms(scope: Construct, targets: MemberForwarderAlarmTargets): events.CfnRule {
  return samId(
    new events.CfnRule(scope, MEMBER_FORWARDER_ALARMS.rule, {
      description: "peerwire - a member's event forwarder cannot deliver to the hub bus; the message names the account, region and queue.",
      eventBusName: targets.eventBusName,
      state: 'ENABLED',
      eventPattern: {
        'source': ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        'detail': { alarmName: [{ prefix: FORWARDER_ALARM_PREFIX }], state: { value: ['ALARM'] } },
      },
      targets: [
        {
          id: 'alert-topic',
          arn: targets.topicArn,
          retryPolicy: RULE_RETRY,
          deadLetterConfig: { arn: targets.deadLetterQueueArn },
          inputTransformer: {
            inputPathsMap: {
              account: '$.account',
              region: '$.region',
              alarm: '$.detail.alarmName',
              reason: '$.detail.state.reason',
              queue: '$.detail.configuration.metrics[0].metricStat.metric.dimensions.QueueName',
            },
            inputTemplate: LINES.join('\n'),
          },
        },
      ],
    }),
    MEMBER_FORWARDER_ALARMS.rule,
  );
}

/** The created alert topic's statement that lets the rule publish. */
export function memberForwarderAlarmsTopicStatement(rule: events.CfnRule, topicArn: string): Record<string, unknown> {
  return {
    Sid: MEMBER_FORWARDER_ALARMS.topicStatement,
    Effect: 'Allow',
    Principal: { Service: 'events.amazonaws.com' },
    Action: 'sns:Publish',
    Resource: topicArn,
    Condition: { ArnEquals: { 'aws:SourceArn': rule.attrArn } },
  };
}

/**
 * The MemberAccounts output: the accounts whose forwarders the hub bus admits and whose member
 * roles the functions may assume, said plainly, so that a hub without OrgId (or with a short
 * MemberAccountIds) shows it at deploy time.
 */
export function memberAccountsOutput(scope: Construct, orgId: string, memberAccountIds: string[]): CfnOutput {
  const accounts = memberAccountIds.join(',');
  let value: string;
  if (orgId !== '') {
    value =
      memberAccountIds.length > 0
        ? `the accounts of organization ${orgId}; forwarding from ${accounts} too`
        : `the accounts of organization ${orgId}`;
  } else {
    value =
      memberAccountIds.length > 0
        ? `only ${accounts} (no OrgId: an account missing from MemberAccountIds is refused)`
        : "NONE but this hub account: OrgId and MemberAccountIds are empty, so no other account's events reach the hub and no other member role can be assumed";
  }
  return new CfnOutput(scope, 'MemberAccounts', {
    value,
    description:
      'The accounts whose forwarders the hub bus admits and whose member roles the functions may assume (OrgId, MemberAccountIds). ' +
      'Any other account\'s events are refused and its member role cannot be assumed: runs that need it end in Peering Reconcile Failed.',
  });
}
