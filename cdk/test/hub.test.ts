import * as path from 'path';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { FUNCTIONS, NOTIFICATIONS, PeerwireHub, PeerwireHubProps } from '../lib';
import { REPO, stack, stubCode } from './helpers';

function synth(props: Partial<PeerwireHubProps> = {}) {
  const s = stack();
  const hub = new PeerwireHub(s, 'Hub', { externalId: 'test-external-id', code: stubCode(), ...props });
  return { template: Template.fromStack(s), hub, stack: s };
}

describe('PeerwireHub', () => {
  const { template } = synth();

  test('four arm64 provided.al2023 functions with the bootstrap handler, JSON logs and the environment', () => {
    template.resourceCountIs('AWS::Lambda::Function', 4);
    for (const f of FUNCTIONS) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: f.description,
        Runtime: 'provided.al2023',
        Architectures: ['arm64'],
        Handler: 'bootstrap',
        MemorySize: 256,
        Timeout: f.timeout,
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN', LogGroup: Match.anyValue() },
        Environment: {
          Variables: Match.objectLike({
            PEERWIRE_POLICY_PARAMETER: '/peerwire/policy',
            PEERWIRE_EXTERNAL_ID: 'test-external-id',
            PEERWIRE_LEDGER_TABLE: Match.anyValue(),
            PEERWIRE_OUTCOME_BUS: Match.anyValue(),
          }),
        },
      });
    }
  });

  test('every rule and schedule has a retry policy and a dead-letter queue', () => {
    const rules = template.findResources('AWS::Events::Rule');
    // The functions' rules and schedules, the notifications, and NotifyMemberForwarderDeadLetters.
    expect(Object.keys(rules)).toHaveLength(FUNCTIONS.reduce((n, f) => n + f.rules.length + 1, 0) + NOTIFICATIONS.length + 1);
    for (const rule of Object.values<any>(rules)) {
      for (const target of rule.Properties.Targets) {
        expect(target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
        expect(target.DeadLetterConfig.Arn['Fn::GetAtt'][1]).toBe('Arn');
      }
    }
  });

  test('every queue has a depth alarm; every function errors, throttles and duration alarms', () => {
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(9);
    const alarms = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm'));
    const alarmedQueues = alarms
      .filter((a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible')
      .map((a) => a.Properties.Dimensions[0].Value['Fn::GetAtt'][0]);
    expect(alarmedQueues.sort()).toEqual(queues.sort());
    for (const metric of ['Errors', 'Throttles', 'Duration']) {
      expect(alarms.filter((a) => a.Properties.MetricName === metric)).toHaveLength(4);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', ExtendedStatistic: 'p99', Threshold: 240000 });
  });

  test('the ledger table: on-demand, pk, TTL, point-in-time recovery, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('a topic is created when none is given, with its policy, and notifications on it', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::SNS::TopicPolicy', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['peerwire'], 'detail-type': ['Peering Approval Required'] },
      Targets: [Match.objectLike({ Id: 'alert-topic', InputTransformer: Match.objectLike({ InputPathsMap: Match.objectLike({ cidr: '$.detail.requester.cidrs[0]', why: '$.detail.reasons[0]' }) }) })],
    });
    // Every variable of every notification is a scalar path: inside a string, EventBridge
    // strips the quotes of an array or object (template.yaml cites the pages).
    for (const n of NOTIFICATIONS) {
      for (const [name, path] of Object.entries(n.paths)) {
        expect([name, /^\$(\.[A-Za-z_-]+(\[\d+\])?)+$/.test(path)]).toEqual([name, true]);
        expect(['$.detail.reasons', '$.detail.requester.cidrs', '$.detail.findings']).not.toContain(path);
      }
    }
  });

  test('approvals only from approvers; outcomes only from the functions', () => {
    template.hasResourceProperties('AWS::Events::EventBusPolicy', {
      Statement: Match.objectLike({ Effect: 'Deny', Condition: { 'ForAnyValue:StringEquals': { 'events:source': 'peerwire.approval' } } }),
    });
    template.hasResourceProperties('AWS::Events::EventBusPolicy', {
      Statement: Match.objectLike({ Effect: 'Deny', Condition: Match.objectLike({ ArnNotEquals: Match.anyValue() }) }),
    });
  });
});

test('a given topic construct: no topic created, alarms and notifications go to it', () => {
  const s = stack();
  const topic = sns.Topic.fromTopicArn(s, 'Given', 'arn:aws:sns:us-east-1:333333333333:platform-alerts');
  new PeerwireHub(s, 'Hub', { externalId: 'x1', code: stubCode(), alarmTopic: topic });
  const template = Template.fromStack(s);
  template.resourceCountIs('AWS::SNS::Topic', 0);
  for (const alarm of Object.values<any>(template.findResources('AWS::CloudWatch::Alarm'))) {
    expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:us-east-1:333333333333:platform-alerts']);
  }
});

test('removalPolicy applies to the ledger, tags to every resource, reserved concurrency to each function', () => {
  const { template } = synth({ removalPolicy: RemovalPolicy.DESTROY, tags: { team: 'platform' }, reservedConcurrency: 7 });
  template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  template.hasResourceProperties('AWS::Lambda::Function', { Tags: Match.arrayWith([{ Key: 'team', Value: 'platform' }]) });
  template.hasResourceProperties('AWS::SQS::Queue', { Tags: Match.arrayWith([{ Key: 'team', Value: 'platform' }]) });
  expect(Object.values<any>(template.findResources('AWS::Lambda::Function')).map((f) => f.Properties.ReservedConcurrentExecutions)).toEqual([7, 7, 7, 7]);
});

test('without code, each function is a cargo-lambda RustFunction of functions/<binary>', () => {
  const s = stack();
  const hub = new PeerwireHub(s, 'Hub', { externalId: 'x1' });
  for (const f of FUNCTIONS) {
    const fn = hub.functions[f.binary];
    expect(fn.constructor.name).toBe('RustFunction');
    expect(fn.architecture).toBe(lambda.Architecture.ARM_64);
  }
  // Bundling is skipped in tests (no cargo-lambda here): the asset path still names the function.
  const template = Template.fromStack(s);
  template.resourceCountIs('AWS::Lambda::Function', 4);
  expect(path.join(REPO, 'functions', 'peering-request', 'Cargo.toml')).toBeTruthy();
});

test('props that decide which resources exist must be known at synthesis', () => {
  const s = stack();
  const { Token } = require('aws-cdk-lib');
  expect(() => new PeerwireHub(s, 'Hub', { externalId: 'x1', code: stubCode(), orgId: Token.asString({ Ref: 'OrgId' }) })).toThrow(/orgId must be known/);
});
