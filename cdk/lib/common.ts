import { CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';

/**
 * Metadata key naming, on every resource these constructs create, the logical id of the same
 * resource in the SAM templates (after the SAM transform for template.yaml). The equality tests
 * pair resources by it; CloudFormation ignores it.
 */
export const PEERWIRE_ID = 'peerwire:id';

/** Marks the CloudFormation resource of `construct` (itself, or its default child) with its SAM id. */
export function samId<T extends IConstruct>(construct: T, id: string): T {
  const resource = construct instanceof CfnResource ? construct : construct.node.defaultChild;
  if (!(resource instanceof CfnResource)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource to mark as ${id}`);
  }
  resource.addMetadata(PEERWIRE_ID, id);
  return construct;
}

/** A queue kept 14 days with SQS-managed encryption, as every queue of the templates. */
export function queue(scope: Construct, id: string): sqs.Queue {
  return samId(
    new sqs.Queue(scope, id, {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      removalPolicy: RemovalPolicy.DESTROY,
    }),
    id,
  );
}

/** An alarm on a queue's depth (> 0 messages visible), as the templates' queue alarms. */
export function queueAlarm(
  scope: Construct,
  id: string,
  description: string,
  target: sqs.IQueue,
  actions: string[] | undefined,
  alarmName?: string,
): cloudwatch.CfnAlarm {
  return samId(
    new cloudwatch.CfnAlarm(scope, id, {
      alarmName,
      alarmDescription: description,
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: [{ name: 'QueueName', value: target.queueName }],
      statistic: 'Maximum',
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
      treatMissingData: 'notBreaching',
      alarmActions: actions,
    }),
    id,
  );
}

/**
 * The policy that lets EventBridge put into `target` the events `rules` could not deliver, and
 * nothing else: only the rules `sourceArns` names (and, in statements of their own, `more`).
 */
export function deadLetterPolicy(
  scope: Construct,
  id: string,
  sid: string,
  target: sqs.IQueue,
  sourceArns: string[],
  more: { sid: string; sourceArns: string[] }[] = [],
): sqs.CfnQueuePolicy {
  const statement = (s: string, arns: string[]) => ({
    Sid: s,
    Effect: 'Allow',
    Principal: { Service: 'events.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: target.queueArn,
    Condition: { ArnEquals: { 'aws:SourceArn': arns } },
  });
  return samId(
    new sqs.CfnQueuePolicy(scope, id, {
      queues: [target.queueUrl],
      policyDocument: {
        Version: '2012-10-17',
        Statement: [statement(sid, sourceArns), ...more.map((m) => statement(m.sid, m.sourceArns))],
      },
    }),
    id,
  );
}

/** The retry policy of every rule target that delivers to a function or a topic. */
export const RULE_RETRY = { maximumRetryAttempts: 10, maximumEventAgeInSeconds: 3600 };
/** The retry policy of the schedules. */
export const SCHEDULE_RETRY = { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 600 };
