// Issue 13's security review of the synthesised stack, one describe per finding, as a reviewer reads it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { guardInputs } from '../../infra/guard-inputs';
import { guardPolicy, INVOKER_PLACEHOLDER, SCP_MAX_CHARACTERS } from '../../infra/guard-policy';
import { GuardStack } from '../../infra/guard-stack';
import { COMPLIANCE_PACKS } from '../../infra/review-findings';
import { KEY_EVENTS } from '../../infra/monitoring';
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { templateResolver } from './resolve-template';
import { acknowledgementsIn, covers } from './acknowledgements';
import { controlTowerFindings } from './control-tower';
import { nagFindingsIgnoringAcknowledgements, nagReport, signingKeyPolicy, signingKeys, synthesize } from './stack-fixture';

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const INVOKERS = ['arn:aws:iam::111122223333:role/PaymentsApp', 'arn:aws:iam::111122223333:role/Treasury'];
const BREAK_GLASS = 'arn:aws:iam::111122223333:role/KeyBreakGlass';
const PROFILE_VERSION = 'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/EthSigner/a1b2c3d4e5';
const BOOTSTRAP_DEPLOY_ROLE = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:role/cdk-ethsigner-cfn-exec-role-111122223333-eu-west-1']] };

const byDefault = synthesize();
const full = synthesize({
  keyMode: 'external',
  importerPrincipalArns: 'arn:aws:iam::111122223333:role/KeyImporter',
  invokerPrincipalArns: INVOKERS.join(','),
  breakGlassPrincipalArns: BREAK_GLASS,
  codeSigningProfileArn: PROFILE_VERSION,
  signedCodeEip1559: 's3://signed-bundles-111122223333/signed/eip1559-0a1b2c.zip?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
  signedCodeLegacy: 's3://signed-bundles-111122223333/signed/legacy-3d4e5f.zip',
  allowPreEip155: 'true',
  alarmEmail: 'security@example.com',
  trail: 'true',
  backupBucket: 'true',
  functionNamePrefix: 'team-signer',
  reservedConcurrency: '2',
  deployRoleArn: 'arn:aws:iam::111122223333:role/Deployer',
});

// The signers (the backup bucket's notifications add a CDK helper function).
const functions = (template: Template) => Object.entries(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^Signs ') } }));
const alarmTopicId = (template: Template) => Object.keys(template.findResources('AWS::SNS::Topic', { Properties: { DisplayName: 'kms-eth-signer alarms' } }))[0];
const allows = (statements: Array<Record<string, any>>, action: string) => statements.filter((s) => s.Effect === 'Allow' && asArray(s.Action).includes(action));

describe('1. who may invoke the signers', () => {
  it('adds a resource-based invoke permission for each named invoker on each function, and none by default', () => {
    byDefault.template.resourceCountIs('AWS::Lambda::Permission', 0);
    const permissions = Object.values(full.template.findResources('AWS::Lambda::Permission')).map((p) => p.Properties);
    expect(permissions.filter((p) => p.Action === 'lambda:InvokeFunction' && INVOKERS.includes(p.Principal))).toHaveLength(4);
    for (const [id] of functions(full.template)) {
      expect(permissions.filter((p) => JSON.stringify(p.FunctionName).includes(id)).map((p) => [p.Action, p.Principal]).sort()).toEqual(INVOKERS.map((arn) => ['lambda:InvokeFunction', arn]));
    }
  });

  it('builds the guard from the stack\'s own function, role and policy table ARNs, the invokers, the deploy role and break-glass (no longer a printed output: infra/guard-stack.ts deploys it)', () => {
    expect(full.template.findOutputs('GuardPolicyExample')).toEqual({});
    const value = JSON.stringify(full.stack.resolve(full.stack.signer.guard));
    for (const expected of [...INVOKERS, 'role/Deployer', BREAK_GLASS, 'function:team-signer-eip1559', 'role/team-signer-legacy', 'alarm:team-signer-*', 'trail/team-signer-audit', 'team-signer-alarms']) expect(value).toContain(expected);
    const [tableId] = Object.keys(full.template.findResources('AWS::DynamoDB::Table'));
    expect(value).toContain(`{"Fn::GetAtt":["${tableId}","Arn"]}`);
  });

  describe('guardPolicy', () => {
    const TABLE = 'arn:aws:dynamodb:eu-west-1:111122223333:table/KmsEthSigner-PolicyStateTable-EXAMPLE';
    const policy = guardPolicy({
      functionArns: ['arn:aws:lambda:eu-west-1:111122223333:function:eth-signer-eip1559'],
      roleArns: ['arn:aws:iam::111122223333:role/SignerRole'],
      invokerPrincipalArns: [INVOKERS[0]!],
      changerPrincipalArns: ['arn:aws:iam::111122223333:role/Deployer'],
      policyTableArn: TABLE,
    }) as { Statement: Array<Record<string, any>> };
    const statement = (sid: string) => policy.Statement.find((s) => s.Sid === sid)!;

    it('denies invoking the functions (and their versions and aliases) to everyone but the invokers', () => {
      expect(policy.Statement[0]).toEqual({
        Sid: 'OnlyInvokersInvokeTheSigners',
        Effect: 'Deny',
        Action: ['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl'],
        Resource: ['arn:aws:lambda:eu-west-1:111122223333:function:eth-signer-eip1559', 'arn:aws:lambda:eu-west-1:111122223333:function:eth-signer-eip1559:*'],
        Condition: { ArnNotLike: { 'aws:PrincipalArn': [INVOKERS[0]] } },
      });
    });

    it('denies changing code, configuration, permissions, passing or changing the roles to everyone but the deployers', () => {
      const denied = statement('OnlyDeployersChangeTheSignersTheirRolesAndTheirTable');
      expect(denied.Effect).toBe('Deny');
      expect(denied.Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::111122223333:role/Deployer'] } });
      expect(denied.Action).toEqual(expect.arrayContaining(['lambda:UpdateFunctionCode', 'lambda:UpdateFunctionConfiguration', 'lambda:AddPermission', 'iam:PassRole', 'iam:PutRolePolicy', 'iam:AttachRolePolicy']));
      expect(denied.Resource).toEqual(expect.arrayContaining(['arn:aws:lambda:eu-west-1:111122223333:function:eth-signer-eip1559', 'arn:aws:lambda:eu-west-1:111122223333:function:eth-signer-eip1559:*', 'arn:aws:iam::111122223333:role/SignerRole']));
    });

    it('denies writing the policy table\'s items (the spending limits) to everyone but the signer roles and the deployers', () => {
      expect(statement('OnlySignersWriteTheSpendingLimits')).toEqual({
        Sid: 'OnlySignersWriteTheSpendingLimits',
        Effect: 'Deny',
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'],
        Resource: TABLE,
        Condition: { ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::111122223333:role/SignerRole', 'arn:aws:iam::111122223333:role/Deployer'] } },
      });
    });

    it('denies deleting or reconfiguring the policy table (deletion protection, PITR, TTL, its resource policy), restoring it and deleting its backups to everyone but the deployers', () => {
      const denied = statement('OnlyDeployersChangeTheSignersTheirRolesAndTheirTable');
      expect(denied.Action).toEqual(
        expect.arrayContaining([
          'dynamodb:DeleteTable',
          'dynamodb:UpdateTable',
          'dynamodb:UpdateContinuousBackups',
          'dynamodb:UpdateTimeToLive',
          'dynamodb:PutResourcePolicy',
          'dynamodb:DeleteResourcePolicy',
          'dynamodb:DeleteBackup',
          'dynamodb:RestoreTable*',
          'dynamodb:ImportTable',
        ]),
      );
      expect(denied.Resource).toEqual(expect.arrayContaining([TABLE, `${TABLE}/*`])); // backups are <table>/backup/…
      // No item write is in the deployers-only statement: the signers must keep writing the limits.
      expect(denied.Action.filter((action: string) => /Item$|^dynamodb:PartiQL/.test(action))).toEqual([]);
    });

    it('stays under the 5,120-character SCP limit with the longest ARNs AWS allows (3 invokers, the deploy role, and 2 break-glass roles)', () => {
      // aws-us-gov partition, a 14-character region, 64-character function and role names (IAM's maximum; the
      // function name prefix is at most 56 + "-eip1559"), a 255-character table name (DynamoDB's maximum).
      const role = (name: string) => `arn:aws-us-gov:iam::123456789012:role/${name.padEnd(64, '0')}`;
      const fn = (kind: string) => `arn:aws-us-gov:lambda:ap-southeast-5:123456789012:function:${'p'.repeat(56)}-${kind.padEnd(7, '0')}`;
      const longest = guardPolicy({
        functionArns: [fn('eip1559'), fn('legacy')],
        roleArns: [role('SignerEip1559'), role('SignerLegacy')],
        invokerPrincipalArns: [role('Invoker1'), role('Invoker2'), role('Invoker3')],
        changerPrincipalArns: [role('Deployer'), role('BreakGlass1'), role('BreakGlass2')],
        policyTableArn: `arn:aws-us-gov:dynamodb:ap-southeast-5:123456789012:table/${'t'.repeat(255)}`,
      });
      expect(fn('eip1559').split(':function:')[1]).toHaveLength(64);
      // What CloudFormation outputs (and aws organizations create-policy stores as given): no whitespace.
      expect(JSON.stringify(longest).length).toBeLessThan(SCP_MAX_CHARACTERS);
    });

    it('is the example docs/deploy.md shows', () => {
      const docs = readFileSync(join(__dirname, '../../docs/deploy.md'), 'utf8');
      const example = /<!-- guard-policy-example[^>]*-->\n```json\n([\s\S]*?)\n```/.exec(docs)?.[1];
      const account = 'arn:aws:iam::111122223333';
      expect(JSON.parse(example ?? 'null')).toEqual(
        guardPolicy({
          functionArns: ['arn:aws:lambda:eu-west-1:111122223333:function:eth-signer-eip1559', 'arn:aws:lambda:eu-west-1:111122223333:function:eth-signer-legacy'],
          roleArns: [`${account}:role/eth-signer-eip1559`, `${account}:role/eth-signer-legacy`],
          invokerPrincipalArns: [`${account}:role/PaymentsApp`],
          changerPrincipalArns: [`${account}:role/cdk-ethsigner-cfn-exec-role-111122223333-eu-west-1`, `${account}:role/KeyBreakGlass`],
          policyTableArn: 'arn:aws:dynamodb:eu-west-1:111122223333:table/KmsEthSigner-PolicyStateTable-EXAMPLE',
        }),
      );
    });

    it('names a placeholder invoker, never "nobody", when none is configured', () => {
      const empty = guardPolicy({ functionArns: ['f'], roleArns: ['r'], invokerPrincipalArns: [], changerPrincipalArns: ['d'], policyTableArn: 't' }) as { Statement: Array<Record<string, any>> };
      expect(empty.Statement[0]!.Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': [INVOKER_PLACEHOLDER] } });
    });
  });

  it('enforces Lambda code signing with the given signing profile version when asked, and not by default', () => {
    byDefault.template.resourceCountIs('AWS::Lambda::CodeSigningConfig', 0);
    const [configId] = Object.keys(full.template.findResources('AWS::Lambda::CodeSigningConfig'));
    full.template.hasResourceProperties('AWS::Lambda::CodeSigningConfig', {
      AllowedPublishers: { SigningProfileVersionArns: [PROFILE_VERSION] },
      CodeSigningPolicies: { UntrustedArtifactOnDeployment: 'Enforce' },
    });
    for (const [, fn] of functions(full.template)) expect(fn.Properties.CodeSigningConfigArn).toEqual({ 'Fn::GetAtt': [configId, 'CodeSigningConfigArn'] });
  });

  it('deploys the bundles AWS Signer signed (CDK cannot sign the assets it uploads), at the version given', () => {
    const code = Object.fromEntries(functions(full.template).map(([, fn]) => [fn.Properties.FunctionName, fn.Properties.Code]));
    expect(code).toEqual({
      'team-signer-eip1559': { S3Bucket: 'signed-bundles-111122223333', S3Key: 'signed/eip1559-0a1b2c.zip', S3ObjectVersion: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY' },
      'team-signer-legacy': { S3Bucket: 'signed-bundles-111122223333', S3Key: 'signed/legacy-3d4e5f.zip' },
    });
  });
});

describe('2. the path to Sign through the key policy', () => {
  const policy = signingKeyPolicy(full.template);
  const defaultPolicy = signingKeyPolicy(byDefault.template);

  it('gives PutKeyPolicy, EnableKey, ScheduleKeyDeletion and DeleteImportedKeyMaterial only to the break-glass principal, with MFA (PutKeyPolicy also to the deploy role)', () => {
    expect(allows(policy, 'kms:PutKeyPolicy').map((s) => s.Principal)).toEqual([{ AWS: 'arn:aws:iam::111122223333:role/Deployer' }, { AWS: BREAK_GLASS }]);
    for (const action of ['kms:ScheduleKeyDeletion', 'kms:DeleteImportedKeyMaterial', 'kms:EnableKey']) {
      expect(allows(policy, action).map((s) => s.Principal)).toEqual([{ AWS: BREAK_GLASS }]);
      expect(allows(policy, action)[0]!.Condition.Bool).toEqual({ 'aws:MultiFactorAuthPresent': 'true' });
    }
    expect(allows(defaultPolicy, 'kms:EnableKey')).toEqual([]);
  });

  it('lets importers import only key material that does not expire', () => {
    expect(allows(policy, 'kms:ImportKeyMaterial')).toEqual([expect.objectContaining({ Condition: { StringEquals: { 'kms:ExpirationModel': 'KEY_MATERIAL_DOES_NOT_EXPIRE' } } })]);
  });

  it('without a break-glass principal, nobody may schedule deletion and only the deploy role (the dedicated qualifier\'s cfn-exec role) may rewrite the policy', () => {
    expect(allows(defaultPolicy, 'kms:ScheduleKeyDeletion')).toEqual([]);
    expect(allows(defaultPolicy, 'kms:PutKeyPolicy').map((s) => s.Principal)).toEqual([{ AWS: BOOTSTRAP_DEPLOY_ROLE }]);
  });

  it('keeps the deploy role able to update the policy (KMS refuses a policy that locks its author out)', () => {
    const deploy = defaultPolicy.find((s) => s.Sid === 'DeployRoleKeepsThePolicyUpdatable')!;
    expect(asArray(deploy.Action)).toEqual(expect.arrayContaining(['kms:PutKeyPolicy', 'kms:GetKeyPolicy', 'kms:DescribeKey']));
    expect(asArray(deploy.Action)).not.toContain('kms:Sign');
  });

  it('allows scheduling deletion only with a pending window of at least 30 days, and denies shorter windows to everyone', () => {
    expect(allows(policy, 'kms:ScheduleKeyDeletion')[0]!.Condition).toEqual({ NumericGreaterThanEquals: { 'kms:ScheduleKeyDeletionPendingWindowInDays': '30' }, Bool: { 'aws:MultiFactorAuthPresent': 'true' } });
    for (const statements of [policy, defaultPolicy]) {
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:ScheduleKeyDeletion', Condition: { NumericLessThan: { 'kms:ScheduleKeyDeletionPendingWindowInDays': '30' } } }),
      );
    }
  });

  it('denies kms:CreateGrant to everyone unless the grant is for an AWS resource or an AWS service asks, on the signing key and the alarm topic key (no grant hands out kms:Sign)', () => {
    const topicKeyPolicy = Object.values(full.template.findResources('AWS::KMS::Key', { Properties: { Description: 'Encrypts the kms-eth-signer alarm topic' } }))[0]!.Properties.KeyPolicy.Statement;
    for (const statements of [policy, defaultPolicy, topicKeyPolicy]) {
      expect(statements).toContainEqual({
        Sid: 'NobodyCreatesGrantsButForAwsServices',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'kms:CreateGrant',
        Resource: '*',
        Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
      });
    }
  });

  it('denies kms:BypassPolicyLockoutSafetyCheck to everyone', () => {
    for (const statements of [policy, defaultPolicy]) {
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:PutKeyPolicy', Condition: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } } }));
    }
  });

  it('lets kms:Sign happen only over a 32-byte digest (kms:MessageType DIGEST) with ECDSA_SHA_256', () => {
    for (const statements of [policy, defaultPolicy]) {
      const signing = allows(statements, 'kms:Sign');
      expect(signing).toHaveLength(2);
      for (const statement of signing) expect(statement.Condition).toEqual({ StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'DIGEST' } });
    }
  });
});

describe('3. importers', () => {
  it('may import only key material that does not expire (evaluated by @cloud-copilot/iam-simulate)', async () => {
    const { resolve, resources } = templateResolver(full.template, { account: '111122223333', region: 'eu-west-1', stackName: 'Signer' });
    const [keyId] = Object.keys(signingKeys(full.template));
    const importer = 'arn:aws:iam::111122223333:role/KeyImporter';
    const importWith = async (expirationModel: string) => {
      const result = await runSimulation(
        {
          identityPolicies: [{ name: 'kms', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] } }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: resolve(resources[keyId!]!.Properties!.KeyPolicy),
          request: {
            action: 'kms:ImportKeyMaterial',
            principal: importer,
            resource: { accountId: '111122223333', resource: `arn:aws:kms:eu-west-1:111122223333:key/${keyId!.toLowerCase()}` },
            contextVariables: { 'aws:PrincipalArn': importer, 'kms:ExpirationModel': expirationModel },
          },
        } as Simulation,
        {},
      );
      return result.resultType === 'error' ? JSON.stringify(result.errors) : result.overallResult;
    };
    expect(await importWith('KEY_MATERIAL_DOES_NOT_EXPIRE')).toBe('Allowed'); // what scripts/import-key/kms-import.ts sends
    expect(await importWith('KEY_MATERIAL_EXPIRES')).not.toBe('Allowed');
  });

  it('never get kms:Sign: the import is proven by comparing the GetPublicKey address', () => {
    const importer = signingKeyPolicy(full.template).filter((s) => JSON.stringify(s.Principal).includes('KeyImporter'));
    expect(importer.flatMap((s) => asArray(s.Action))).not.toContain('kms:Sign');
    expect(importer.flatMap((s) => asArray(s.Action))).toContain('kms:GetPublicKey');
  });
});

describe('4. blast radius', () => {
  it('reserves 5 concurrent executions per signer by default, and what the context says otherwise', () => {
    for (const [, fn] of functions(byDefault.template)) expect(fn.Properties.ReservedConcurrentExecutions).toBe(5);
    for (const [, fn] of functions(full.template)) expect(fn.Properties.ReservedConcurrentExecutions).toBe(2);
  });

  it('lets the legacy signer sign pre-EIP-155 only when the deployment opts in (ALLOW_PRE_EIP155), never the EIP-1559 signer', () => {
    for (const [, fn] of functions(byDefault.template)) expect(fn.Properties.Environment.Variables.ALLOW_PRE_EIP155).toBeUndefined();
    const env = Object.fromEntries(functions(full.template).map(([, fn]) => [fn.Properties.FunctionName, fn.Properties.Environment.Variables.ALLOW_PRE_EIP155]));
    expect(env).toEqual({ 'team-signer-legacy': 'true', 'team-signer-eip1559': undefined });
  });
});

describe('5. metrics', () => {
  it('tells each function the service dimension of its metrics (the function name prefix)', () => {
    for (const [, fn] of functions(full.template)) expect(fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe('team-signer');
  });
});

describe('6. alarms', () => {
  const alarms = Object.values(full.template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  const topicId = alarmTopicId(full.template);

  it('sends every alarm to the alarm topic', () => {
    expect(alarms.length).toBeGreaterThanOrEqual(7);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
  });

  it.each([
    ['function errors', { Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 0 }, 2],
    ['function throttles', { Namespace: 'AWS/Lambda', MetricName: 'Throttles', Threshold: 0 }, 2],
    ['KMS throttling', { Namespace: 'KmsEthSigner', MetricName: 'Errors', Dimensions: Match.arrayWith([{ Name: 'ErrorType', Value: 'KmsThrottledError' }]), Threshold: 0 }, 1],
    ['policy denials above 10 in 5 minutes', { Namespace: 'KmsEthSigner', MetricName: 'PolicyDenials', Period: 300, Threshold: 10 }, 1],
    ['signatures above 100 in an hour', { Namespace: 'KmsEthSigner', MetricName: 'Signatures', Period: 3600, Threshold: 100 }, 1],
  ])('alarms on %s', (_label, properties, count) => {
    const matching = full.template.findResources('AWS::CloudWatch::Alarm', { Properties: { ComparisonOperator: 'GreaterThanThreshold', ...properties } });
    expect(Object.keys(matching)).toHaveLength(count);
  });

  it('watches the metrics of this stack\'s signers only (service dimension)', () => {
    for (const alarm of alarms.filter((a) => a.Namespace === 'KmsEthSigner')) expect(alarm.Dimensions).toContainEqual({ Name: 'service', Value: 'team-signer' });
  });

  it('encrypts the topic with a rotating customer managed key that only CloudWatch and EventBridge of this account may use, and denies non-TLS publishing', () => {
    full.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('TopicKey'), 'Arn'] } });
    full.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] }, Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } } })]) },
    });
    full.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('subscribes alarmEmail to the topic, and nobody by default', () => {
    full.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'security@example.com', TopicArn: { Ref: topicId } });
    byDefault.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('7. key events', () => {
  it('sends every CloudTrail event that changes this key to the alarm topic', () => {
    const topicId = alarmTopicId(full.template);
    full.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.kms'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['kms.amazonaws.com'],
          eventName: KEY_EVENTS,
          resources: { ARN: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^SigningKey'), 'Arn'] }] },
        },
      },
      Targets: [Match.objectLike({ Arn: { Ref: topicId }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('AlertDeadLetters'), 'Arn'] } } })],
    });
    expect(KEY_EVENTS).toEqual(expect.arrayContaining(['PutKeyPolicy', 'ScheduleKeyDeletion', 'CancelKeyDeletion', 'DisableKey', 'EnableKey', 'DeleteImportedKeyMaterial', 'CreateGrant', 'ImportKeyMaterial', 'UpdateAlias']));
  });
});

describe('8. audit trail', () => {
  it('is not deployed unless asked for (trail=true)', () => {
    byDefault.template.resourceCountIs('AWS::CloudTrail::Trail', 0);
  });

  it('records Lambda Invoke data events for both signers and S3 data events for the backup bucket, with log file validation', () => {
    const trail = Object.values(full.template.findResources('AWS::CloudTrail::Trail'))[0]!.Properties;
    expect(trail.EnableLogFileValidation).toBe(true);
    const resources = trail.EventSelectors.flatMap((s: { DataResources?: unknown[] }) => s.DataResources ?? []);
    const lambdaValues = resources.filter((r: { Type: string }) => r.Type === 'AWS::Lambda::Function').flatMap((r: { Values: unknown[] }) => r.Values);
    expect(lambdaValues).toEqual(functions(full.template).map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] })));
    const s3 = resources.find((r: { Type: string }) => r.Type === 'AWS::S3::Object');
    expect(JSON.stringify(s3.Values)).toMatch(/BackupBucket/);
    for (const selector of trail.EventSelectors.filter((s: { DataResources?: unknown[] }) => s.DataResources)) expect(selector).toMatchObject({ IncludeManagementEvents: false, ReadWriteType: 'All' });
  });

  it('logs every management event of the Region (KMS Sign included: it is a read event) and delivers them to CloudWatch Logs, under a stable name', () => {
    const trail = Object.values(full.template.findResources('AWS::CloudTrail::Trail'))[0]!.Properties;
    expect(trail.TrailName).toBe('team-signer-audit');
    expect(trail.EventSelectors).toContainEqual(expect.objectContaining({ IncludeManagementEvents: true, ReadWriteType: 'All' }));
    expect(trail.CloudWatchLogsLogGroupArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^AuditTrailLogs/), 'Arn'] });
    expect(full.template.findOutputs('AuditTrailName').AuditTrailName!.Value).toBe('team-signer-audit');
  });

  it('keeps the trail\'s log files and the function logs 365 days by default', () => {
    full.template.hasResourceProperties('AWS::S3::Bucket', { LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 365 })] }, LoggingConfiguration: { LogFilePrefix: 'audit-trail/' } });
    full.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });
});

describe('9. dashboard', () => {
  it('graphs signatures by type, denials by rule, errors by type, KMS latency, invocations, throttles and duration', () => {
    const body = JSON.stringify(Object.values(full.template.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody);
    for (const expected of ['Signatures', 'TransactionType', 'PolicyDenials', 'Rule', 'Errors', 'ErrorType', 'KmsSignLatency', 'p99', 'Invocations', 'Throttles', 'Duration']) expect(body).toContain(expected);
    full.template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'team-signer-signers' });
  });
});

describe('10. stack and buckets', () => {
  it('turns termination protection on', () => {
    expect(byDefault.stack.terminationProtection).toBe(true);
    expect(full.stack.terminationProtection).toBe(true);
  });

  const buckets = Object.entries(full.template.findResources('AWS::S3::Bucket'));
  const bucketPolicies = Object.values(full.template.findResources('AWS::S3::BucketPolicy')).map((p) => p.Properties);
  const policyOf = (id: string) => bucketPolicies.find((p) => JSON.stringify(p.Bucket) === JSON.stringify({ Ref: id }))?.PolicyDocument.Statement as Array<Record<string, any>>;

  it('requires TLS 1.2 or later on every bucket', () => {
    expect(buckets.length).toBeGreaterThanOrEqual(4); // backup, its access logs, trail, its access logs
    for (const [id] of buckets) {
      expect(policyOf(id)).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }));
    }
  });

  it('versions every access-log bucket, disables ACLs on every bucket, and delivers access logs under a bucket policy', () => {
    const logTargets = new Set(buckets.flatMap(([, b]) => (b.Properties.LoggingConfiguration ? [JSON.stringify(b.Properties.LoggingConfiguration.DestinationBucketName)] : [])));
    expect(logTargets.size).toBe(2);
    for (const [id, bucket] of buckets) {
      expect(bucket.Properties.AccessControl).toBeUndefined();
      expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      if (!logTargets.has(JSON.stringify({ Ref: id }))) continue;
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(policyOf(id)).toContainEqual(expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' }));
    }
  });
});

describe('11.16 stable function names', () => {
  it('names the functions eth-signer-eip1559 and eth-signer-legacy by default, as the README invokes them', () => {
    expect(functions(byDefault.template).map(([, fn]) => fn.Properties.FunctionName).sort()).toEqual(['eth-signer-eip1559', 'eth-signer-legacy']);
  });

  it('uses functionNamePrefix when given', () => {
    expect(functions(full.template).map(([, fn]) => fn.Properties.FunctionName).sort()).toEqual(['team-signer-eip1559', 'team-signer-legacy']);
  });
});

describe('template checks', () => {
  // The guard stack for the full stack's signer account, as infra/app.ts builds it.
  const app = new App();
  const inputs = guardInputs(full.stack.signer.settings, { partition: 'aws', account: '111122223333', region: 'eu-west-1', policyTableArn: 'arn:aws:dynamodb:eu-west-1:111122223333:table/KmsEthSigner-PolicyStateTable-EXAMPLE', deployRoleArn: 'arn:aws:iam::111122223333:role/Deployer' });
  const guard = new GuardStack(app, 'SignerGuard', {
    signers: inputs.signers,
    records: inputs.records,
    key: { keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', signerRoleArns: inputs.signerRoleArns, changerPrincipalArns: inputs.changerPrincipalArns },
    targetIds: ['111122223333'],
    namePrefix: 'team-signer',
  });
  // What the checks must catch: a key that does not rotate and whose policy lets anyone with kms:CreateGrant hand out
  // its use, a log group without a key.
  const bare = new Stack(app, 'Bare');
  new kms.Key(bare, 'Key');
  new logs.LogGroup(bare, 'Logs');

  describe("cdk-nag's five packs (AwsSolutions, HIPAA Security, NIST 800-53 R4 and R5, PCI DSS 3.2.1)", () => {
    it.each([
      ['the default stack', byDefault.nag],
      ['the stack with every option on', full.nag],
      ['the guard stack', nagReport(guard)],
    ])('find nothing unacknowledged in %s', (_label, report) => {
      expect(report.violations).toEqual([]);
    });

    it('are all applied (an unacknowledged finding of each pack shows)', () => {
      const packs = new Set(nagReport(bare).violations.map((violation) => violation.ruleName.split('-')[0]));
      expect([...packs].sort()).toEqual(['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R4', 'NIST.800.53.R5', 'PCI.DSS.321']);
    });
  });

  const acknowledged = [byDefault.stack, full.stack, guard].flatMap(acknowledgementsIn);
  const { findings, rules } = controlTowerFindings([byDefault.stack, full.stack, guard, bare]);

  it('acknowledges only what a check finds: each acknowledgement names a finding on its construct or one under it', () => {
    const found = [...[byDefault.stack, full.stack, guard].flatMap(nagFindingsIgnoringAcknowledgements), ...findings.map(({ control, path }) => ({ id: control, path: path ?? '' }))];
    expect(acknowledged.filter((acknowledgement) => !found.some(({ id, path }) => id === acknowledgement.id && covers(acknowledgement, path)))).toEqual([]);
  });

  it('lists every acknowledged finding in docs/deploy.md (Template checks), a compliance rule by its name in the packs', () => {
    const docs = readFileSync(join(__dirname, '../../docs/deploy.md'), 'utf8');
    const section = /\n### Template checks\n([\s\S]*?)\n### /.exec(docs)?.[1] ?? '';
    const ids = new Set(
      acknowledged
        .map(({ id }) => id.replace(/\[.*$/, ''))
        .map((id) => (COMPLIANCE_PACKS.some((pack) => id.startsWith(`${pack}-`)) ? id.slice(id.indexOf('-') + 1) : id)),
    );
    expect(ids.size).toBeGreaterThan(20);
    expect([...ids].filter((id) => !section.includes(`\`${id}`))).toEqual([]);
  });

  describe("AWS Control Tower's proactive controls (cfn-guard)", () => {
    const ours = findings.filter((finding) => finding.stack !== 'Bare');

    it('run every control that names a resource type of the templates', () => {
      expect(rules).toBeGreaterThanOrEqual(40);
    });

    it('find nothing unacknowledged in the default, the full and the guard stacks (each acknowledgement carries its reason in infra/)', () => {
      expect(ours.filter((finding) => !finding.reason)).toEqual([]);
      expect(ours.length).toBeGreaterThan(0);
    });

    it('catch what is not acknowledged: a key that does not rotate (CT.KMS.PR.1) or whose policy does not limit kms:CreateGrant to AWS services (CT.KMS.PR.3), a log group without a KMS key (CT.CLOUDWATCH.PR.3)', () => {
      expect(findings.filter((finding) => finding.stack === 'Bare').map(({ control, path, reason }) => ({ control, path, reason })).sort((a, b) => a.control.localeCompare(b.control))).toEqual([
        { control: 'CT.CLOUDWATCH.PR.3', path: 'Bare/Logs/Resource', reason: undefined },
        { control: 'CT.KMS.PR.1', path: 'Bare/Key/Resource', reason: undefined },
        { control: 'CT.KMS.PR.3', path: 'Bare/Key/Resource', reason: undefined },
      ]);
      expect(ours.filter((finding) => finding.control === 'CT.KMS.PR.3')).toEqual([]);
    });
  });
});
