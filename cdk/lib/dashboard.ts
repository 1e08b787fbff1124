/**
 * The dashboard body of template.yaml, for `Fn::Sub` with the variables `<Prefix>Function` (a
 * function's name), `<Prefix>DeadLetterQueueName`, `<Prefix>FailedInvocationQueueName` and
 * `NotificationDeadLetterQueueName` (queue names).
 */
const FUNCTIONS: [string, string][] = [
  ['PeeringRequest', 'peering-request'],
  ['PeeringWiring', 'peering-wiring'],
  ['DriftRecheck', 'drift-recheck'],
  ['PeeringCleanup', 'peering-cleanup'],
];

const fn = (prefix: string) => `\${${prefix}Function}`;

function metric(title: string, metrics: unknown[], x: number, y: number, stat = 'Sum', width = 8) {
  return {
    type: 'metric',
    x,
    y,
    width,
    height: 6,
    properties: { title, region: '${AWS::Region}', stat, period: 300, view: 'timeSeries', stacked: false, metrics },
  };
}

export function dashboardBody(): string {
  const widgets: unknown[] = [
    {
      type: 'text',
      x: 0,
      y: 0,
      width: 24,
      height: 2,
      properties: {
        markdown:
          '## peerwire hub ${AWS::StackName}\nOutcomes the functions count (namespace Peerwire, Embedded Metric Format), ' +
          'Lambda health, queue depths. Alarms and notifications go to the alert topic (output AlertTopicArn).',
      },
    },
    metric(
      'Peering requests decided',
      [
        ['PeeringsAccepted', 'accepted'],
        ['PeeringsRejected', 'rejected'],
        ['PeeringsHeld', 'held'],
      ].map(([m, label]) => ['Peerwire', m, 'Function', fn('PeeringRequest'), { label }]),
      0,
      2,
    ),
    metric(
      'Wiring changes',
      [
        ...[
          ['PeeringWiring', 'peering-wiring'],
          ['DriftRecheck', 'drift-recheck'],
        ].flatMap(([prefix, name]) =>
          [
            ['RoutesAdded', 'routes added'],
            ['RulesAdded', 'rules added'],
          ].map(([m, label]) => ['Peerwire', m, 'Function', fn(prefix), { label: `${name}: ${label}` }]),
        ),
        ['Peerwire', 'DriftRepaired', 'Function', fn('DriftRecheck'), { label: 'drift-recheck: drift repaired' }],
      ],
      8,
      2,
    ),
    metric(
      'Failures by kind (access-denied, quota, not-found, throttling, other)',
      FUNCTIONS.map(([prefix, name], i) => [
        {
          expression: `SEARCH('{Peerwire,Function,Kind} MetricName="Failures" Function="${fn(prefix)}"', 'Sum', 300)`,
          id: `failures${i}`,
          label: name,
        },
      ]),
      16,
      2,
    ),
    metric('Lambda errors', FUNCTIONS.map(([p, n]) => ['AWS/Lambda', 'Errors', 'FunctionName', fn(p), { label: n }]), 0, 8),
    metric('Lambda throttles', FUNCTIONS.map(([p, n]) => ['AWS/Lambda', 'Throttles', 'FunctionName', fn(p), { label: n }]), 8, 8),
    metric(
      'Lambda duration p99 (ms)',
      FUNCTIONS.map(([p, n]) => ['AWS/Lambda', 'Duration', 'FunctionName', fn(p), { label: n }]),
      16,
      8,
      'p99',
    ),
    metric(
      'Messages waiting in the dead-letter and failed-invocation queues',
      [
        ...FUNCTIONS.flatMap(([p, n]) => [
          ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', `\${${p}DeadLetterQueueName}`, { label: `${n}: dead letters` }],
          [
            'AWS/SQS',
            'ApproximateNumberOfMessagesVisible',
            'QueueName',
            `\${${p}FailedInvocationQueueName}`,
            { label: `${n}: failed invocations` },
          ],
        ]),
        [
          'AWS/SQS',
          'ApproximateNumberOfMessagesVisible',
          'QueueName',
          '${NotificationDeadLetterQueueName}',
          { label: 'notifications: dead letters' },
        ],
      ],
      0,
      14,
      'Maximum',
      24,
    ),
  ];
  return JSON.stringify({ widgets });
}
