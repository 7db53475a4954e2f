import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { DIMENSION, METRIC, METRICS_NAMESPACE } from '../lambdas/runtime/metric-names';

/** What the monitoring watches and where it reports. */
export interface MonitoringProps {
  /** The signer functions, by kind. */
  readonly functions: Record<'eip1559' | 'legacy', lambda.IFunction>;
  /** The signing key's ARN: its CloudTrail events raise an alert. */
  readonly keyArn: string;
  /** The `service` dimension of the signers' metrics (their POWERTOOLS_SERVICE_NAME). */
  readonly service: string;
  /** Subscribed to the alarm topic (it must confirm the subscription). */
  readonly alarmEmail?: string;
  /** Policy denials in 5 minutes above which the denial alarm fires. */
  readonly denialThreshold: number;
  /** Signatures in an hour above which the signing-rate alarm fires (a compromised caller signs a lot). */
  readonly signaturesPerHourThreshold: number;
}

/** The key events that change who can sign or whether the key exists: each one is worth a human look. */
export const KEY_EVENTS = ['PutKeyPolicy', 'ScheduleKeyDeletion', 'DisableKey', 'DeleteImportedKeyMaterial', 'CreateGrant', 'ImportKeyMaterial'];

/**
 * Alarms and alerts for the signers, all to one SNS topic (encrypted with its own key, TLS only): function
 * errors and throttles, KMS throttling, policy denials and signatures per hour above thresholds, and every
 * CloudTrail event that changes the signing key. Plus a dashboard with the signers' metrics.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const topicKey = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the kms-eth-signer alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch alarms and EventBridge publish to an encrypted topic only if they may use its key.
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AlarmsAndKeyEventsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com'), new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'kms-eth-signer alarms', masterKey: topicKey, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new actions.SnsAction(this.topic);

    const metric = (name: string, statistic: string, period: Duration, dimensions: Record<string, string> = {}) =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, statistic, period, dimensionsMap: { service: props.service, ...dimensions } });
    const alarm = (alarmId: string, description: string, target: cloudwatch.IMetric, threshold: number) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: description,
        metric: target,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(notify);
      this.alarms.push(created);
    };
    const fiveMinutes = Duration.minutes(5);
    for (const [kind, fn] of Object.entries(props.functions)) {
      const name = kind === 'eip1559' ? 'Eip1559' : 'Legacy';
      alarm(`${name}Errors`, `The ${kind} signer failed (any error, including refused requests) in the last 5 minutes`, fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }), 0);
      alarm(`${name}Throttles`, `The ${kind} signer was throttled (reserved concurrency reached) in the last 5 minutes`, fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }), 0);
    }
    alarm('KmsThrottling', 'KMS throttled Sign calls (the account-wide ECC request quota) in the last 5 minutes', metric(METRIC.errors, 'Sum', fiveMinutes, { [DIMENSION.errorType]: 'KmsThrottledError' }), 0);
    alarm('PolicyDenials', `More than ${props.denialThreshold} requests were denied by the signing policy in 5 minutes`, metric(METRIC.policyDenials, 'Sum', fiveMinutes), props.denialThreshold);
    alarm('SignaturesPerHour', `More than ${props.signaturesPerHourThreshold} signatures in an hour: a compromised caller signs a lot`, metric(METRIC.signatures, 'Sum', Duration.hours(1)), props.signaturesPerHourThreshold);

    new events.Rule(this, 'KeyEvents', {
      description: 'Changes to the signing key (policy, deletion, disabling, grants, key material), from CloudTrail',
      eventPattern: {
        source: ['aws.kms'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['kms.amazonaws.com'], eventName: KEY_EVENTS, resources: { ARN: [props.keyArn] } },
      },
      targets: [new targets.SnsTopic(this.topic)],
    });

    const search = (name: string, dimension: string, statistic: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},service,${dimension}} MetricName="${name}" service="${props.service}"', '${statistic}', 300)`,
        label,
        period: fiveMinutes,
      });
    const functions = Object.values(props.functions);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${props.service}-signers`,
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'Signatures by transaction type', left: [search(METRIC.signatures, DIMENSION.transactionType, 'Sum', 'signatures')], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Policy denials by rule', left: [search(METRIC.policyDenials, DIMENSION.rule, 'Sum', 'denials')], width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Errors by type', left: [search(METRIC.errors, DIMENSION.errorType, 'Sum', 'errors')], width: 8 }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'KMS Sign latency (ms)',
            left: ['p50', 'p99', 'Maximum'].map((statistic) => metric(METRIC.kmsLatency, statistic, fiveMinutes).with({ label: statistic })),
            width: 8,
          }),
          new cloudwatch.GraphWidget({ title: 'Invocations and throttles', left: functions.flatMap((fn) => [fn.metricInvocations(), fn.metricThrottles()]), width: 8 }),
          new cloudwatch.GraphWidget({ title: 'Duration p99 (ms)', left: functions.map((fn) => fn.metricDuration({ statistic: 'p99' })), width: 8 }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 })],
      ],
    });
  }
}
