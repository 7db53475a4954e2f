import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { DIMENSION, METRIC, METRICS_NAMESPACE } from '../lambdas/runtime/metric-names';
import { KEY_ADMIN_ACTIONS } from './key-admin-actions';
import { POLICY_TABLE_CHANGES } from './guard-policy';
import { grantsOnlyForAwsServices } from './signing-key';

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
  /** The signers' names and their roles' names (the same names: infra/signer-function.ts). */
  readonly functionNames: string[];
  /** The signer roles' ARNs: kms:Sign by anyone else raises an alarm. */
  readonly signerRoleArns: string[];
  /** The role CloudFormation deploys with: changes to it raise an alert; it keeps managing the topic's key. */
  readonly deployRoleArn: string;
  /** The policy table's name: changes to the table raise an alert. */
  readonly policyTableName: string;
  /** An existing topic that also receives every alarm and alert. */
  readonly alarmTopicArn?: string;
  /** The log group holding a trail of this Region's management events: kms:Sign by others is counted there, and its silence alarms. */
  readonly managementTrailLogGroup?: logs.ILogGroup;
  /** The signers' log groups: invocations that write no logs mean a deleted or blocked log group. */
  readonly signerLogGroups: Record<'eip1559' | 'legacy', logs.ILogGroup>;
}

/** Lambda CloudTrail event names (prefixes: Lambda appends its API version, as in UpdateFunctionCode20150331v2). */
export const FUNCTION_EVENTS = [
  'UpdateFunctionCode',
  'UpdateFunctionConfiguration',
  'AddPermission',
  'RemovePermission',
  'PutFunctionCodeSigningConfig',
  'DeleteFunctionCodeSigningConfig',
  'CreateAlias',
  'UpdateAlias',
  'DeleteAlias',
  'PublishVersion',
  'CreateFunctionUrlConfig',
  'UpdateFunctionUrlConfig',
  'PutFunctionConcurrency',
  'DeleteFunctionConcurrency',
  'DeleteFunction',
];
/** IAM changes to a role (IAM's events are delivered in us-east-1 only: docs/deploy.md). */
export const ROLE_EVENTS = ['PutRolePolicy', 'DeleteRolePolicy', 'AttachRolePolicy', 'DetachRolePolicy', 'UpdateAssumeRolePolicy', 'PutRolePermissionsBoundary', 'DeleteRolePermissionsBoundary', 'UpdateRole', 'DeleteRole'];
/** Events that silence the records or the alarms, from any trail, alarm, topic subscription, log group or rule. */
export const SILENCING_EVENTS: Record<string, { source: string; eventSource: string; eventName: string[] }> = {
  Trail: { source: 'aws.cloudtrail', eventSource: 'cloudtrail.amazonaws.com', eventName: ['StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors'] },
  Alarms: { source: 'aws.monitoring', eventSource: 'monitoring.amazonaws.com', eventName: ['DeleteAlarms', 'DisableAlarmActions'] },
  Topic: { source: 'aws.sns', eventSource: 'sns.amazonaws.com', eventName: ['Unsubscribe', 'DeleteTopic', 'SetTopicAttributes', 'RemovePermission'] },
  Logs: { source: 'aws.logs', eventSource: 'logs.amazonaws.com', eventName: ['DeleteLogGroup', 'PutRetentionPolicy', 'DeleteMetricFilter', 'DeleteLogStream'] },
  Rules: { source: 'aws.events', eventSource: 'events.amazonaws.com', eventName: ['DisableRule', 'DeleteRule', 'RemoveTargets'] },
};

/** The key events that change who can sign or whether the key exists: each one is worth a human look. */
export const KEY_EVENTS = [
  'PutKeyPolicy',
  'ScheduleKeyDeletion',
  'CancelKeyDeletion',
  'DisableKey',
  'EnableKey',
  'DeleteImportedKeyMaterial',
  'CreateGrant',
  'ImportKeyMaterial',
  'CreateAlias',
  'UpdateAlias',
  'DeleteAlias',
];

/**
 * Each alert rule's name is `<prefix>-<suffix>`: suffixes of at most 6 characters keep the longest prefix (56)
 * within EventBridge's 64-character rule names, and the guard protects `rule/<prefix>-*`.
 */
export const RULE_NAME_SUFFIXES: Readonly<Record<string, string>> = {
  KeyEvents: 'key',
  SignerFunctionChanges: 'fn',
  SignerRolePassed: 'passed',
  RoleChanges: 'roles',
  PolicyTableChanges: 'table',
  SilencingTrail: 'trail',
  SilencingAlarms: 'alarms',
  SilencingTopic: 'topic',
  SilencingLogs: 'logs',
  SilencingRules: 'rules',
};

/** The log group's metric namespace for kms:Sign calls made by anyone but the signer roles. */
export const FOREIGN_SIGN_METRIC = { namespace: 'KmsEthSigner/Trail', name: 'SignByOthers' } as const;

/**
 * Alarms and alerts for the signers, all to one SNS topic (encrypted with its own key, TLS only): function
 * errors and throttles, KMS throttling, policy denials and signatures per hour above thresholds, and every
 * CloudTrail event that changes the signing key. Plus a dashboard with the signers' metrics.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly rules: events.Rule[] = [];
  readonly deadLetterQueue: sqs.Queue;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // An explicit key policy: the default would give the account root kms:*, so that any IAM policy could decrypt
    // the alerts or rewrite the key. The account manages it (never uses it), the deploy role keeps it updatable.
    const topicKey = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the kms-eth-signer alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({ sid: 'AccountManagesNeverDecrypts', principals: [new iam.AccountRootPrincipal()], actions: [...KEY_ADMIN_ACTIONS], resources: ['*'] }),
          new iam.PolicyStatement({
            sid: 'DeployRoleKeepsThePolicyUpdatable',
            principals: [new iam.ArnPrincipal(props.deployRoleArn)],
            actions: ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy', 'kms:ListResourceTags', 'kms:TagResource', 'kms:UntagResource', 'kms:EnableKeyRotation', 'kms:GetKeyRotationStatus', 'kms:UpdateKeyDescription'],
            resources: ['*'],
          }),
          // CloudWatch alarms and EventBridge publish to an encrypted topic only if they may use its key.
          new iam.PolicyStatement({
            sid: 'AlarmsAndKeyEventsPublish',
            principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com'), new iam.ServicePrincipal('events.amazonaws.com')],
            actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
            resources: ['*'],
            conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
          }),
          grantsOnlyForAwsServices(),
        ],
      }),
    });
    const service = props.service;
    this.topic = new sns.Topic(this, 'Topic', { topicName: `${service}-alarms`, displayName: 'kms-eth-signer alarms', masterKey: topicKey, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const extraTopic = props.alarmTopicArn ? sns.Topic.fromTopicArn(this, 'ExtraTopic', props.alarmTopicArn) : undefined;
    const notify = [this.topic, ...(extraTopic ? [extraTopic] : [])].map((topic) => new actions.SnsAction(topic));

    const metric = (name: string, statistic: string, period: Duration, dimensions: Record<string, string> = {}) =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, statistic, period, dimensionsMap: { service: props.service, ...dimensions } });
    // Missing data is "not breaching" where silence means no traffic (an idle signer publishes nothing); where silence
    // means tampering, the alarm says so (breaching) or compares with a metric nobody can switch off (AWS/Lambda Invocations).
    const alarm = (alarmId: string, description: string, target: cloudwatch.IMetric, threshold: number, options: Partial<cloudwatch.AlarmProps> = {}) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${service}-${alarmId}`, // named, so that the guard SCP can name them
        alarmDescription: description,
        metric: target,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...options,
      });
      notify.forEach((action) => created.addAlarmAction(action));
      this.alarms.push(created);
    };
    const fiveMinutes = Duration.minutes(5);
    for (const [kind, fn] of Object.entries(props.functions)) {
      const name = kind === 'eip1559' ? 'Eip1559' : 'Legacy';
      alarm(`${name}Errors`, `The ${kind} signer failed (any error, including refused requests) in the last 5 minutes`, fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }), 0);
      alarm(`${name}Throttles`, `The ${kind} signer was throttled (reserved concurrency reached) in the last 5 minutes`, fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }), 0);
      // Invoked but no log line: the log group was deleted or logging blocked, and with it the custom metrics (EMF).
      const logGroup = props.signerLogGroups[kind as 'eip1559' | 'legacy'];
      alarm(
        `${name}LogsSilenced`,
        `The ${kind} signer was invoked but wrote no logs in 5 minutes: its log group (and the metrics drawn from it) was deleted or silenced`,
        new cloudwatch.MathExpression({
          expression: 'IF(invocations > 0 AND FILL(logEvents, 0) == 0, 1, 0)',
          usingMetrics: {
            invocations: fn.metricInvocations({ period: fiveMinutes, statistic: 'Sum' }),
            logEvents: new cloudwatch.Metric({ namespace: 'AWS/Logs', metricName: 'IncomingLogEvents', dimensionsMap: { LogGroupName: logGroup.logGroupName }, statistic: 'Sum', period: fiveMinutes }),
          },
          period: fiveMinutes,
        }),
        0,
      );
    }
    alarm('KmsThrottling', 'KMS throttled Sign calls (the account-wide ECC request quota) in the last 5 minutes', metric(METRIC.errors, 'Sum', fiveMinutes, { [DIMENSION.errorType]: 'KmsThrottledError' }), 0);
    alarm('PolicyDenials', `More than ${props.denialThreshold} requests were denied by the signing policy in 5 minutes`, metric(METRIC.policyDenials, 'Sum', fiveMinutes), props.denialThreshold);
    alarm('SignaturesPerHour', `More than ${props.signaturesPerHourThreshold} signatures in an hour: a compromised caller signs a lot`, metric(METRIC.signatures, 'Sum', Duration.hours(1)), props.signaturesPerHourThreshold);

    // Alerts from CloudTrail (a trail of management events must exist in the Region: trail=true or managementTrailLogGroup).
    // What EventBridge cannot deliver lands in a dead-letter queue; the topic accepts events from these rules only.
    this.deadLetterQueue = new sqs.Queue(this, 'AlertDeadLetters', { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    const ruleArns: string[] = [];
    const rule = (ruleId: string, description: string, eventPattern: events.EventPattern) => {
      const created = new events.Rule(this, ruleId, { ruleName: `${service}-${RULE_NAME_SUFFIXES[ruleId]}`, description, eventPattern });
      ruleArns.push(created.ruleArn);
      for (const topic of [this.topic, ...(extraTopic ? [extraTopic] : [])]) {
        created.addTarget({ bind: () => ({ arn: topic.topicArn, deadLetterConfig: { arn: this.deadLetterQueue.queueArn }, retryPolicy: { maximumRetryAttempts: 185 } }) });
      }
      this.rules.push(created);
    };
    const cloudTrail = (source: string, eventSource: string, eventName: string[], detail: Record<string, unknown> = {}): events.EventPattern => ({
      source: [source],
      detailType: ['AWS API Call via CloudTrail'],
      detail: { eventSource: [eventSource], eventName, ...detail },
    });
    rule('KeyEvents', 'Changes to the signing key (policy, deletion, enabling and disabling, grants, key material, aliases), from CloudTrail', cloudTrail('aws.kms', 'kms.amazonaws.com', KEY_EVENTS, { resources: { ARN: [props.keyArn] } }));
    const functionArns = props.functionNames.map((name) => `arn:${stack.partition}:lambda:${stack.region}:${stack.account}:function:${name}`);
    rule(
      'SignerFunctionChanges',
      "Changes to the signers' code, configuration, permissions, code signing, aliases or concurrency",
      cloudTrail('aws.lambda', 'lambda.amazonaws.com', FUNCTION_EVENTS.map((name) => ({ prefix: name })) as unknown as string[], {
        requestParameters: { functionName: [...props.functionNames, ...functionArns, ...functionArns.map((arn) => ({ prefix: `${arn}:` }))] },
      }),
    );
    const roleArns = [...props.functionNames.map((name) => `arn:${stack.partition}:iam::${stack.account}:role/${name}`)];
    rule('SignerRolePassed', 'A new function (or a changed one) given a signer role', cloudTrail('aws.lambda', 'lambda.amazonaws.com', [{ prefix: 'CreateFunction' }, { prefix: 'UpdateFunctionConfiguration' }] as unknown as string[], { requestParameters: { role: roleArns } }));
    const deployRoleName = props.deployRoleArn.split('/').pop() ?? props.deployRoleArn;
    rule('RoleChanges', 'IAM changes to the signer roles or the deploy role (IAM events arrive in us-east-1 only)', cloudTrail('aws.iam', 'iam.amazonaws.com', ROLE_EVENTS, { requestParameters: { roleName: [...props.functionNames, deployRoleName] } }));
    rule(
      'PolicyTableChanges',
      'Changes to the policy table (resource policy, deletion protection, TTL, point-in-time recovery, deletion, restores)',
      cloudTrail('aws.dynamodb', 'dynamodb.amazonaws.com', [...POLICY_TABLE_CHANGES.map((action) => action.replace('dynamodb:', '')), 'RestoreTableToPointInTime'], {
        $or: [{ requestParameters: { tableName: [props.policyTableName] } }, { requestParameters: { resourceArn: [{ wildcard: `*:table/${props.policyTableName}` }] } }],
      }),
    );
    for (const [ruleId, watched] of Object.entries(SILENCING_EVENTS)) {
      rule(`Silencing${ruleId}`, `Calls that silence the records or the alarms: ${watched.eventName.join(', ')} (any resource)`, cloudTrail(watched.source, watched.eventSource, watched.eventName));
    }
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheseRulesPublish',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': ruleArns } },
      }),
    );
    this.deadLetterQueue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheseRulesDeadLetter',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.deadLetterQueue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': ruleArns } },
      }),
    );
    alarm('AlertsUndelivered', 'An alert could not be delivered to the topic (see the AlertDeadLetters queue)', this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: 'Maximum' }), 0);

    if (props.managementTrailLogGroup) {
      // kms:Sign on this key by any principal but the two signer roles (read events: EventBridge does not see them).
      const others = props.signerRoleArns.map((arn) => `($.userIdentity.sessionContext.sessionIssuer.arn != "${arn}")`).join(' && ');
      new logs.MetricFilter(this, 'SignByOthersFilter', {
        logGroup: props.managementTrailLogGroup,
        filterName: `${service}-sign-by-others`,
        metricNamespace: FOREIGN_SIGN_METRIC.namespace,
        metricName: FOREIGN_SIGN_METRIC.name,
        metricValue: '1',
        defaultValue: 0,
        filterPattern: logs.FilterPattern.literal(`{ ($.eventSource = "kms.amazonaws.com") && ($.eventName = "Sign") && ($.resources[0].ARN = "${props.keyArn}") && ${others} }`),
      });
      alarm('SignByOthers', 'kms:Sign on the signing key by a principal other than the two signer roles', new cloudwatch.Metric({ namespace: FOREIGN_SIGN_METRIC.namespace, metricName: FOREIGN_SIGN_METRIC.name, statistic: 'Sum', period: fiveMinutes }), 0);
      // A trail of management events is never quiet for an hour: silence means it was stopped or its delivery cut.
      alarm(
        'TrailSilent',
        'The management-events trail delivered nothing in an hour: it was stopped, deleted or its log delivery cut',
        new cloudwatch.Metric({ namespace: 'AWS/Logs', metricName: 'IncomingLogEvents', dimensionsMap: { LogGroupName: props.managementTrailLogGroup.logGroupName }, statistic: 'Sum', period: Duration.hours(1) }),
        1,
        { comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, treatMissingData: cloudwatch.TreatMissingData.BREACHING },
      );
    }

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
