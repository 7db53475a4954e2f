// The security review of the signer stack, as tests.
import { App, DefaultStackSynthesizer } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSettings } from '../../infra/context';
import { SignerStack } from '../../infra/app-stack';
import { allStatements, signingKeyPolicy, signingKeys, synthesize } from './stack-fixture';

const asArray = (value: unknown) => (Array.isArray(value) ? value : [value]);

describe('signer stack, key generated in KMS (keyMode new, the default)', () => {
  const { template, nag } = synthesize();
  const keyPolicy = () => signingKeyPolicy(template);

  it('creates one ECC_SECG_P256K1 SIGN_VERIFY key, made in KMS (no Origin), retained when the stack is deleted', () => {
    expect(Object.keys(signingKeys(template))).toHaveLength(1);
    template.hasResource('AWS::KMS::Key', {
      Properties: { KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Origin: Match.absent() },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('gives the key the alias alias/eth-signer', () => {
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/eth-signer' });
  });

  it('lets administrators (the account, by default) manage the key but never sign with it, rewrite its policy or delete it', () => {
    const admin = keyPolicy().find((s) => s.Sid === 'KeyAdministratorsManageNeverSign')!;
    expect(admin.Principal).toEqual({ AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:root']] } });
    expect(asArray(admin.Action)).toEqual(expect.arrayContaining(['kms:DisableKey', 'kms:CancelKeyDeletion']));
    for (const sensitive of ['kms:Sign', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion', 'kms:DeleteImportedKeyMaterial']) expect(asArray(admin.Action)).not.toContain(sensitive);
    expect(asArray(admin.Action).some((action: string) => action.includes('*'))).toBe(false);
  });

  it('lets only the two Lambda roles sign, with ECDSA_SHA_256 over a digest only, and read the public key', () => {
    const signing = keyPolicy().filter((s) => asArray(s.Action).includes('kms:Sign'));
    expect(signing).toHaveLength(2);
    for (const statement of signing) {
      expect(statement.Action).toBe('kms:Sign');
      expect(statement.Condition).toEqual({ StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'DIGEST' } });
    }
    expect(signing.map((s) => s.Principal)).toEqual([
      { AWS: { 'Fn::GetAtt': [expect.stringMatching(/^Eip1559SignerRole/), 'Arn'] } },
      { AWS: { 'Fn::GetAtt': [expect.stringMatching(/^LegacySignerRole/), 'Arn'] } },
    ]);
    expect(keyPolicy().filter((s) => s.Action === 'kms:GetPublicKey')).toHaveLength(2);
  });

  it("grants each role exactly kms:Sign (ECDSA_SHA_256, DIGEST) and kms:GetPublicKey on this key's ARN, and writing its own logs", () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      // The policy-table statement is specified in policy-table.test.ts.
      const kind = JSON.stringify(policy.Properties.Roles).includes('Eip1559') ? 'eip1559' : 'legacy';
      expect(policy.Properties.PolicyDocument.Statement.filter((s: { Sid?: string }) => !['PolicyStateOfItsOwnKeyOnly', 'WriteThePolicyStateOnlyFromItsOwnFunction'].includes(s.Sid ?? ''))).toEqual([
        { Sid: 'WriteOwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/Logs/), 'Arn'] } },
        { Sid: 'SignWithTheEthereumKeyOnly', Effect: 'Allow', Action: 'kms:Sign', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SigningKey/), 'Arn'] }, Condition: { StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'DIGEST' } } },
        {
          Sid: 'SignOnlyFromItsOwnFunction',
          Effect: 'Deny',
          Action: 'kms:Sign',
          Resource: '*',
          Condition: { ArnNotEquals: { 'lambda:SourceFunctionArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:lambda:eu-west-1:111122223333:function:eth-signer-${kind}`]] } } },
        },
        { Sid: 'ReadItsPublicKey', Effect: 'Allow', Action: 'kms:GetPublicKey', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SigningKey/), 'Arn'] } },
      ]);
    }
  });

  it('has no wildcard KMS action anywhere, and no "*" resource outside the key policy (where it means this key)', () => {
    for (const statement of allStatements(template)) {
      expect(asArray(statement.Action).filter((action: string) => action.startsWith('kms:') && action.includes('*'))).toEqual([]);
    }
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      // The one exception is a Deny: kms:Sign from anywhere but the role's own function.
      for (const statement of policy.Properties.PolicyDocument.Statement.filter((s: { Effect: string }) => s.Effect === 'Allow')) expect(asArray(statement.Resource)).not.toContain('*');
    }
  });

  it('uses no AWS managed policy (not even AWSLambdaBasicExecutionRole)', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it.each(['Eip1559', 'Legacy'])('runs the %s signer on Node.js 22, ARM64, 256 MB, 10 s, from its bundle', (name) => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp(name === 'Eip1559' ? 'EIP-1559' : 'legacy'),
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 10,
      Role: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${name}SignerRole`), 'Arn'] },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp(`^${name}SignerLogs`) } },
    });
  });

  it('configures both functions with the key ARN, the network, the log level, the metrics service and source maps, and a reserved concurrency of 5', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(2);
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'eth-signer-eip1559' });
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'eth-signer-legacy' });
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables).toEqual({
        KMS_KEY_ID: { 'Fn::GetAtt': [expect.stringMatching(/^SigningKey/), 'Arn'] },
        ETH_NETWORK: 'sepolia',
        LOG_LEVEL: 'INFO',
        SIGNING_POLICY_FILE: 'policy.json',
        POWERTOOLS_SERVICE_NAME: 'eth-signer',
        NODE_OPTIONS: '--enable-source-maps',
        POLICY_TABLE_NAME: { Ref: expect.stringMatching(/^PolicyStateTable/) },
      });
      expect(fn.Properties.ReservedConcurrentExecutions).toBe(5);
    }
  });

  it('ships the signing policy (-c policyFile) inside each function\'s package, beside the bundle', () => {
    const { stack } = synthesize({ policyFile: 'examples/policies/relayer.json' });
    const outdir = App.of(stack)!.outdir;
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.') && existsSync(join(outdir, name, 'index.mjs')));
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      expect(readFileSync(join(outdir, asset, 'policy.json'), 'utf8')).toBe(readFileSync('examples/policies/relayer.json', 'utf8'));
    }
  });

  it('gives the package a new hash when only the policy changes', () => {
    const codeOf = (policyFile: string) => Object.values(synthesize({ policyFile }).template.findResources('AWS::Lambda::Function')).map((fn) => JSON.stringify(fn.Properties.Code));
    expect(codeOf('examples/policies/relayer.json')).not.toEqual(codeOf('examples/policies/permits-and-sign-in.json'));
  });

  it('keeps each function\'s logs 90 days in its own log group, retained with the signing record', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    template.allResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: Match.stringLikeRegexp('^/aws/lambda/eth-signer-(eip1559|legacy)$'), RetentionInDays: 365 }, DeletionPolicy: 'Retain' });
  });

  it('outputs the function names and ARNs, the key ARN and alias, and an aws lambda invoke example', () => {
    for (const output of ['Eip1559FunctionName', 'Eip1559FunctionArn', 'LegacyFunctionName', 'LegacyFunctionArn', 'KeyArn', 'KeyAlias', 'PolicyTableArn', 'PolicyTableName', 'DeployRoleArn', 'AlarmTopicArn', 'GuardBoundaryArn']) {
      template.hasOutput(output, { Export: { Name: `Signer-${output}` } });
    }
    template.hasOutput('InvokeExample', { Value: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('^aws lambda invoke --function-name ')])] } });
    expect(template.findOutputs('NextStep')).toEqual({});
  });

  it('deploys with the dedicated bootstrap qualifier\'s roles and file assets, never the default bootstrap\'s', () => {
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toContain('hnb659fds');
    expect(json).toContain('/cdk-bootstrap/ethsigner/version');
  });

  it('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
    expect(nag.violations).toEqual([]);
    expect(nag.success).toBe(true);
  });
});

describe('the deployment identity', () => {
  it('hands CloudFormation the explicit deployRoleArn, the role the key policy trusts', () => {
    const { stack } = synthesize({ bootstrapQualifier: undefined, deployRoleArn: 'arn:aws:iam::111122223333:role/SignerDeployer' });
    expect((stack.synthesizer as DefaultStackSynthesizer).cloudFormationExecutionRoleArn).toBe('arn:aws:iam::111122223333:role/SignerDeployer');
    expect(JSON.stringify(signingKeyPolicy(Template.fromStack(stack)))).toContain('role/SignerDeployer');
  });
});

describe('the bundle and the policy it was built for (dist/<kind>/policy.sha256, written by SIGNING_POLICY_FILE=… npm run build)', () => {
  const MAINNET = { ethNetwork: 'mainnet', policyFile: 'examples/policies/treasury-payouts.json', expectedAddress: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', alarmEmail: 'security@example.com', managementTrailLogGroup: 'org-trail' };

  it('stages the policy\'s SHA-256 beside a bundle built without a policy (the package\'s prebuilt bundles), before mainnet too', () => {
    const { stack } = synthesize(MAINNET, { builtForPolicy: false });
    const outdir = App.of(stack)!.outdir;
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.') && existsSync(join(outdir, name, 'index.mjs')));
    expect(assets.length).toBeGreaterThan(0);
    const wanted = createHash('sha256').update(readFileSync(MAINNET.policyFile)).digest('hex');
    for (const asset of assets) {
      expect(readFileSync(join(outdir, asset, 'policy.sha256'), 'utf8')).toBe(`${wanted}\n`);
      expect(createHash('sha256').update(readFileSync(join(outdir, asset, 'policy.json'))).digest('hex')).toBe(wanted);
    }
  });

  it('refuses a bundle built for another policy, on any network', () => {
    const code = mkdtempSync(join(tmpdir(), 'signer-bundle-'));
    writeFileSync(join(code, 'index.mjs'), 'export const handler = async () => ({});\n');
    writeFileSync(join(code, 'policy.sha256'), `${'ab'.repeat(32)}\n`);
    const settings = readSettings((key) => ({ policyFile: 'examples/policies/relayer.json', bootstrapQualifier: 'ethsigner' } as Record<string, unknown>)[key]);
    expect(() => new SignerStack(new App(), 'Signer', { settings, codeDirectories: { eip1559: code, legacy: code }, env: { account: '111122223333', region: 'eu-west-1' } })).toThrow(
      /was built for another signing policy \(SHA-256 abab.*\), not .*relayer.json \([0-9a-f]{64}\): run SIGNING_POLICY_FILE=/,
    );
  });
});

describe('signer stack for imported key material (keyMode external)', () => {
  const { template, nag } = synthesize({ keyMode: 'external', importerPrincipalArns: 'arn:aws:iam::111122223333:role/KeyImporter' });

  it('creates the key with Origin EXTERNAL, retained', () => {
    template.hasResource('AWS::KMS::Key', { Properties: { KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' }, DeletionPolicy: 'Retain' });
  });

  it('lets the named importer import and prove by reading the public key, never sign; nobody signs but the Lambdas', () => {
    const statements = signingKeyPolicy(template);
    const importer = statements.filter((s) => JSON.stringify(s.Principal).includes('role/KeyImporter'));
    expect(importer.flatMap((s) => asArray(s.Action)).sort()).toEqual(['kms:DescribeKey', 'kms:GetParametersForImport', 'kms:GetPublicKey', 'kms:ImportKeyMaterial']);
    expect(statements.filter((s) => s.Effect === 'Allow' && asArray(s.Action).includes('kms:Sign')).map((s) => JSON.stringify(s.Principal))).toEqual([
      expect.stringMatching(/Eip1559SignerRole/),
      expect.stringMatching(/LegacySignerRole/),
    ]);
  });

  it('says the next command to run: npm run import-key with the key ARN', () => {
    template.hasOutput('NextStep', { Value: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('npm run import-key -- --key-id ')])] } });
    expect(JSON.stringify(template.findOutputs('NextStep'))).not.toContain('--backup');
  });

  it('with backupBucket=true, the next command also backs the key up to that bucket (issue 11 item 17)', () => {
    const withBackup = synthesize({ keyMode: 'external', importerPrincipalArns: 'arn:aws:iam::111122223333:role/KeyImporter', backupBucket: 'true' }).template;
    const value = JSON.stringify(withBackup.findOutputs('NextStep'));
    expect(value).toContain('--backup-public-key <your recovery-public.der> --backup-bucket ');
    const bucketId = Object.keys(withBackup.findResources('AWS::S3::Bucket')).find((id) => id.startsWith('BackupBucket'));
    expect(value).toContain(`{"Ref":"${bucketId}"}`);
  });

  it('passes cdk-nag AwsSolutions', () => {
    expect(nag.violations).toEqual([]);
  });
});

describe('signer stack with an existing key in another account (keyMode existing)', () => {
  const keyArn = 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const { template, nag } = synthesize({
    keyMode: 'existing',
    keyArn,
    ethNetwork: 'mainnet',
    expectedAddress: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
    reservedConcurrency: '5',
    logLevel: 'warn',
    logRetentionDays: '365',
    alarmEmail: 'security@example.com',
    managementTrailLogGroup: 'org-trail',
  });

  it('creates no signing key and no alias', () => {
    expect(signingKeys(template)).toEqual({});
    template.resourceCountIs('AWS::KMS::Alias', 0);
  });

  it('grants the roles kms:Sign (ECDSA_SHA_256, DIGEST) and kms:GetPublicKey on exactly that key ARN', () => {
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      const kmsStatements = (policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>).filter((s) => s.Effect === 'Allow' && String(s.Action).startsWith('kms:'));
      expect(kmsStatements).toEqual([
        expect.objectContaining({ Action: 'kms:Sign', Resource: keyArn, Condition: { StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'DIGEST' } } }),
        expect.objectContaining({ Action: 'kms:GetPublicKey', Resource: keyArn }),
      ]);
    }
  });

  it('pins the expected address, sets the network, log level, retention and reserved concurrency', () => {
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: { KMS_KEY_ID: keyArn, ETH_NETWORK: 'mainnet', LOG_LEVEL: 'WARN', EXPECTED_ADDRESS: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', POWERTOOLS_SERVICE_NAME: 'eth-signer', NODE_OPTIONS: '--enable-source-maps' } },
      ReservedConcurrentExecutions: 5,
    });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  it("outputs the key policy statement the key's owner must add", () => {
    template.hasOutput('KeyPolicyForTheKeyOwner', { Value: Match.anyValue() });
  });

  it('passes cdk-nag AwsSolutions', () => {
    expect(nag.violations).toEqual([]);
  });
});
