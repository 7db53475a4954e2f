// Issue 23, "alerts that fire, and fire when silenced": the alert rules, their dead-letter queue, the topic's key
// and policy, the kms:Sign-by-others metric filter and the alarms that treat silence as tampering.
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { FUNCTION_EVENTS, KEY_EVENTS, ROLE_EVENTS, RULE_NAME_SUFFIXES, SILENCING_EVENTS } from '../../infra/monitoring';
import { synthesize } from './stack-fixture';

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const SECURITY_TOPIC = 'arn:aws:sns:eu-west-1:111122223333:security-team';
const withTrail = synthesize({ trail: 'true', alarmTopicArn: SECURITY_TOPIC });
const existingTrail = synthesize({ managementTrailLogGroup: 'aws-controltower/CloudTrailLogs' });
const rules = (template: Template) => Object.values(template.findResources('AWS::Events::Rule')).map((r) => r.Properties);
const ruleNamed = (template: Template, name: string) => rules(template).find((r) => r.Name === `eth-signer-${RULE_NAME_SUFFIXES[name.replace('eth-signer-', '')]}`)!;
const alarmNamed = (template: Template, name: string) => Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties).find((a) => a.AlarmName === name)!;

describe('alert rules (EventBridge, from the trail of management events)', () => {
  const template = withTrail.template;

  it('watches every path of the review: key, signer functions, a signer role passed, role changes, the policy table, and every way to silence the records', () => {
    expect(rules(template).map((r) => r.Name).sort()).toEqual(
      ['KeyEvents', 'SignerFunctionChanges', 'SignerRolePassed', 'RoleChanges', 'PolicyTableChanges', ...Object.keys(SILENCING_EVENTS).map((id) => `Silencing${id}`)].map((id) => `eth-signer-${RULE_NAME_SUFFIXES[id]}`).sort(),
    );
  });

  it('names every rule within EventBridge\'s 64 characters with the longest function name prefix (56)', () => {
    for (const suffix of Object.values(RULE_NAME_SUFFIXES)) expect(`${'p'.repeat(56)}-${suffix}`.length).toBeLessThanOrEqual(64);
  });

  it('alerts on every change to the signers (Lambda appends an API version to event names: matched by prefix), by name or ARN', () => {
    const pattern = ruleNamed(template, 'eth-signer-SignerFunctionChanges').EventPattern;
    expect(pattern.detail.eventName).toEqual(FUNCTION_EVENTS.map((name) => ({ prefix: name })));
    expect(FUNCTION_EVENTS).toEqual(expect.arrayContaining(['UpdateFunctionCode', 'UpdateFunctionConfiguration', 'AddPermission', 'PutFunctionCodeSigningConfig', 'UpdateAlias']));
    expect(JSON.stringify(pattern.detail.requestParameters.functionName)).toContain('function:eth-signer-eip1559');
    expect(pattern.detail.requestParameters.functionName).toEqual(expect.arrayContaining(['eth-signer-eip1559', 'eth-signer-legacy']));
  });

  it('alerts when a function is created or reconfigured with a signer role', () => {
    const pattern = ruleNamed(template, 'eth-signer-SignerRolePassed').EventPattern;
    expect(pattern.detail.eventName).toEqual([{ prefix: 'CreateFunction' }, { prefix: 'UpdateFunctionConfiguration' }]);
    expect(JSON.stringify(pattern.detail.requestParameters.role)).toMatch(/role\/eth-signer-eip1559.*role\/eth-signer-legacy/);
  });

  it('alerts on IAM changes to the signer roles and the deploy role', () => {
    const pattern = ruleNamed(template, 'eth-signer-RoleChanges').EventPattern;
    expect(pattern.detail.eventName).toEqual(ROLE_EVENTS);
    expect(pattern.detail.requestParameters.roleName).toEqual(['eth-signer-eip1559', 'eth-signer-legacy', 'cdk-ethsigner-cfn-exec-role-111122223333-eu-west-1']);
  });

  it('alerts on PutResourcePolicy, UpdateTable and the other changes to the policy table', () => {
    const pattern = ruleNamed(template, 'eth-signer-PolicyTableChanges').EventPattern;
    expect(pattern.detail.eventName).toEqual(expect.arrayContaining(['PutResourcePolicy', 'DeleteResourcePolicy', 'UpdateTable', 'DeleteTable', 'UpdateTimeToLive', 'UpdateContinuousBackups', 'RestoreTableToPointInTime']));
  });

  it.each([
    ['SilencingTrail', ['StopLogging', 'DeleteTrail']],
    ['SilencingAlarms', ['DeleteAlarms', 'DisableAlarmActions']],
    ['SilencingTopic', ['Unsubscribe']],
    ['SilencingLogs', ['DeleteLogGroup', 'DeleteMetricFilter']],
  ])('%s alerts on %j', (id, names) => {
    expect(ruleNamed(template, `eth-signer-${id}`).EventPattern.detail.eventName).toEqual(expect.arrayContaining(names));
  });

  it('alerts on EnableKey and CancelKeyDeletion on the signing key', () => {
    expect(ruleNamed(template, 'eth-signer-KeyEvents').EventPattern.detail.eventName).toEqual(KEY_EVENTS);
    expect(KEY_EVENTS).toEqual(expect.arrayContaining(['EnableKey', 'CancelKeyDeletion']));
  });

  it('sends every rule to the alarm topic and the given topic, each with a dead-letter queue', () => {
    const [queueId] = Object.keys(template.findResources('AWS::SQS::Queue'));
    for (const rule of rules(template)) {
      expect(rule.Targets).toHaveLength(2);
      for (const target of rule.Targets) expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
      expect(rule.Targets.map((t: { Arn: unknown }) => t.Arn)).toContainEqual(SECURITY_TOPIC);
    }
  });

  it('lets EventBridge publish to the topic and dead-letter to the queue only for these rules (aws:SourceArn)', () => {
    const ruleArns = Object.keys(template.findResources('AWS::Events::Rule')).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }));
    const topicStatements = Object.values(template.findResources('AWS::SNS::TopicPolicy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
    const eventsPublish = topicStatements.filter((s) => JSON.stringify(s.Principal).includes('events.amazonaws.com'));
    expect(eventsPublish).toHaveLength(1);
    expect(eventsPublish[0]!.Condition).toEqual({ ArnEquals: { 'aws:SourceArn': ruleArns } });
    const queueStatements = Object.values(template.findResources('AWS::SQS::QueuePolicy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
    expect(queueStatements.filter((s) => s.Effect === 'Allow')).toEqual([expect.objectContaining({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Condition: { ArnEquals: { 'aws:SourceArn': ruleArns } } })]);
  });

  it('alarms when an alert lands in the dead-letter queue', () => {
    expect(alarmNamed(template, 'eth-signer-AlertsUndelivered')).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0 });
  });
});

describe('the alarm topic', () => {
  const template = withTrail.template;

  it('is encrypted with a key whose policy gives the account no use of it (no kms:* to root) and the deploy role no use either', () => {
    const keys = Object.values(template.findResources('AWS::KMS::Key', { Properties: { Description: 'Encrypts the kms-eth-signer alarm topic' } }));
    expect(keys).toHaveLength(1);
    const statements = keys[0]!.Properties.KeyPolicy.Statement as Array<Record<string, any>>;
    for (const statement of statements) expect(asArray(statement.Action)).not.toContain('kms:*');
    const root = statements.find((s) => s.Sid === 'AccountManagesNeverDecrypts')!;
    expect(asArray(root.Action)).not.toEqual(expect.arrayContaining(['kms:Decrypt']));
    expect(statements.filter((s) => asArray(s.Action).includes('kms:Decrypt')).map((s) => s.Principal)).toEqual([{ Service: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] }]);
  });

  it('sends every alarm to the stack topic and to alarmTopicArn', () => {
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) expect(alarm.Properties.AlarmActions).toContainEqual(SECURITY_TOPIC);
  });
});

describe('kms:Sign by anyone but the signer roles', () => {
  it.each([
    ['the stack\'s trail', withTrail.template, { Ref: Match.stringLikeRegexp('^AuditTrailLogs') }],
    ['an existing management trail (managementTrailLogGroup)', existingTrail.template, 'aws-controltower/CloudTrailLogs'],
  ])('is counted by a metric filter on %s and raises an alarm', (_label, template, logGroup) => {
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: logGroup,
      FilterPattern: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('\\$.eventName = "Sign"')])] }),
      MetricTransformations: [{ MetricNamespace: 'KmsEthSigner/Trail', MetricName: 'SignByOthers', MetricValue: '1', DefaultValue: 0 }],
    });
    const filter = JSON.stringify(Object.values(template.findResources('AWS::Logs::MetricFilter'))[0]!.Properties.FilterPattern);
    expect(filter).toMatch(/sessionIssuer.arn != .*Eip1559SignerRole.*sessionIssuer.arn != .*LegacySignerRole/);
    expect(alarmNamed(template, 'eth-signer-SignByOthers')).toMatchObject({ Namespace: 'KmsEthSigner/Trail', MetricName: 'SignByOthers', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('is not counted without a management trail (a sepolia stack may have none; a mainnet synth requires one)', () => {
    synthesize().template.resourceCountIs('AWS::Logs::MetricFilter', 0);
  });
});

describe('alarms that fire when silenced', () => {
  it('treats an hour without management events from the trail as breaching (stopped, deleted or cut off)', () => {
    expect(alarmNamed(withTrail.template, 'eth-signer-TrailSilent')).toMatchObject({ Namespace: 'AWS/Logs', MetricName: 'IncomingLogEvents', Period: 3600, ComparisonOperator: 'LessThanThreshold', Threshold: 1, TreatMissingData: 'breaching' });
  });

  it.each(['Eip1559', 'Legacy'])('alarms when the %s signer is invoked but its log group receives nothing (the custom metrics come from those logs)', (name) => {
    const alarm = alarmNamed(withTrail.template, `eth-signer-${name}LogsSilenced`);
    expect(alarm.Metrics.find((m: { Expression?: string }) => m.Expression)!.Expression).toBe('IF(invocations > 0 AND FILL(logEvents, 0) == 0, 1, 0)');
    expect(JSON.stringify(alarm.Metrics)).toContain('IncomingLogEvents');
    expect(JSON.stringify(alarm.Metrics)).toContain('"MetricName":"Invocations"');
  });

  it('names every alarm <prefix>-…, so the guard SCP protects them by pattern', () => {
    for (const alarm of Object.values(withTrail.template.findResources('AWS::CloudWatch::Alarm'))) expect(alarm.Properties.AlarmName).toMatch(/^eth-signer-/);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('has no unacknowledged finding with the trail, the alert rules and an existing trail', () => {
    expect(withTrail.nag.violations).toEqual([]);
    expect(existingTrail.nag.violations).toEqual([]);
  });
});
