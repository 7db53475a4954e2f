import { resolve } from 'node:path';
import { readSettings, ContextError } from '../../infra/context';
import { writePolicyFile } from '../helpers/policy-file';

const POLICY = 'examples/policies/treasury-payouts.json';
const read = (context: Record<string, unknown>) => readSettings((key) => ({ policyFile: POLICY, bootstrapQualifier: 'ethsigner', ethNetwork: 'mainnet', ...MAINNET_CHECKLIST, ...context })[key]);
// What a mainnet synth requires (docs/deploy.md, Before mainnet); treasury-payouts.json is a chain 1 policy.
const MAINNET_CHECKLIST = { alarmEmail: 'security@example.com', expectedAddress: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', trail: 'true' };

function badPolicy(): string {
  return writePolicyFile({ version: 1, rules: [{ id: 'r', effect: 'allow', to: ['0x70997970c51812dc3a010c7d01b50e0d17dc79C8'] }] }, 'bad.json');
}

describe('readSettings (CDK context)', () => {
  it('defaults to a new key, INFO logs kept 365 days, the account as key administrator, 5 reserved executions, no pre-EIP-155, functions named eth-signer-*', () => {
    expect(read({})).toEqual({
      policyFile: resolve(POLICY),
      keyMode: 'new',
      keyAlias: 'alias/eth-signer',
      ethNetwork: 'mainnet',
      production: true,
      bootstrapQualifier: 'ethsigner',
      alarmEmail: 'security@example.com',
      expectedAddress: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      logLevel: 'INFO',
      logRetentionDays: 365,
      reservedConcurrency: 5,
      adminPrincipalArns: [],
      importerPrincipalArns: [],
      backupBucket: false,
      functionNamePrefix: 'eth-signer',
      invokerPrincipalArns: [],
      breakGlassPrincipalArns: [],
      allowPreEip155: false,
      denialAlarmThreshold: 10,
      signaturesPerHourAlarmThreshold: 100,
      trail: true,
    });
    expect(readSettings((key) => ({ policyFile: 'examples/policies/relayer.json', bootstrapQualifier: 'ethsigner' })[key])).toMatchObject({ ethNetwork: 'sepolia', production: false, trail: false });
  });

  describe('the deployment identity', () => {
    it.each([
      [{ bootstrapQualifier: undefined }, /bootstrapQualifier is required \(or deployRoleArn\): bootstrap a qualifier for this stack alone \(cdk bootstrap --qualifier ethsigner --cloudformation-execution-policies .*infra\/bootstrap\/execution-policy.json.* --trust/],
      [{ bootstrapQualifier: 'hnb659fds' }, /bootstrapQualifier hnb659fds is the default CDK bootstrap, whose roles every CDK app in the account uses/],
      [{ bootstrapQualifier: 'Eth_Signer!' }, /bootstrapQualifier "Eth_Signer!" must be 1 to 10 lower-case letters or digits/],
      [{ bootstrapQualifier: undefined, deployRoleArn: 'arn:aws:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1' }, /deployRoleArn .* is a role of the default CDK bootstrap/],
    ])('refuses a synth without a dedicated deploy identity (%o)', (context, message) => {
      expect(() => read(context)).toThrow(message);
    });

    it('accepts an explicit deploy role instead of a qualifier', () => {
      expect(read({ bootstrapQualifier: undefined, deployRoleArn: 'arn:aws:iam::111122223333:role/SignerDeployer' }).deployRoleArn).toBe('arn:aws:iam::111122223333:role/SignerDeployer');
    });
  });

  describe('before mainnet (any chain but sepolia, holesky, hoodi and the local chain)', () => {
    it.each([
      [{ alarmEmail: undefined }, /ethNetwork mainnet holds real funds, so .* alarmEmail or alarmTopicArn is required/],
      [{ expectedAddress: undefined }, /expectedAddress is required: pin the key's address/],
      [{ trail: undefined }, /trail=true or managementTrailLogGroup=NAME is required/],
      [
        { codeSigningProfileArn: 'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/EthSigner/a1b2c3d4e5', signedCodeEip1559: 's3://b-1/e.zip', signedCodeLegacy: 's3://b-1/l.zip?versionId=v2' },
        /signedCodeEip1559 and signedCodeLegacy need \?versionId=VERSION/,
      ],
    ])('refuses %o', (context, message) => {
      expect(() => read(context)).toThrow(message);
    });

    it('accepts an alarm topic instead of an email, and an existing management trail instead of trail=true', () => {
      const settings = read({ alarmEmail: undefined, alarmTopicArn: 'arn:aws:sns:eu-west-1:111122223333:security', trail: undefined, managementTrailLogGroup: 'aws-controltower/CloudTrailLogs' });
      expect(settings).toMatchObject({ alarmTopicArn: 'arn:aws:sns:eu-west-1:111122223333:security', managementTrailLogGroup: 'aws-controltower/CloudTrailLogs', trail: false });
    });

    it('reads the signed code\'s version', () => {
      const settings = read({ codeSigningProfileArn: 'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/EthSigner/a1b2c3d4e5', signedCodeEip1559: 's3://b-1/e.zip?versionId=v1', signedCodeLegacy: 's3://b-1/l.zip?versionId=v2' });
      expect(settings.signedCode).toEqual({ eip1559: { bucket: 'b-1', key: 'e.zip', version: 'v1' }, legacy: { bucket: 'b-1', key: 'l.zip', version: 'v2' } });
    });
  });

  it('refuses a network that is not the chain of the policy\'s allow rules', () => {
    expect(() => read({ ethNetwork: 'sepolia' })).toThrow(/ethNetwork sepolia is chain 11155111, but every allow rule of policyFile that names a chain names 1: set -c ethNetwork/);
  });

  it('removes the reserved concurrency with reservedConcurrency=none', () => {
    expect(read({ reservedConcurrency: 'none' }).reservedConcurrency).toBeUndefined();
  });

  it('reads lists of principals given comma-separated or as JSON arrays', () => {
    expect(read({ adminPrincipalArns: 'arn:aws:iam::111122223333:role/Admin, arn:aws:iam::111122223333:user/alice' }).adminPrincipalArns).toEqual([
      'arn:aws:iam::111122223333:role/Admin',
      'arn:aws:iam::111122223333:user/alice',
    ]);
    expect(read({ adminPrincipalArns: ['arn:aws:iam::111122223333:root'] }).adminPrincipalArns).toEqual(['arn:aws:iam::111122223333:root']);
  });

  it.each([
    [{ keyMode: 'imported' }, /keyMode must be new, external or existing/],
    [{ keyMode: 'existing' }, /keyArn is required with keyMode=existing/],
    [{ keyMode: 'existing', keyArn: 'arn:aws:kms:eu-west-1:111122223333:alias/x' }, /keyArn .* is not a KMS key ARN .*not an alias ARN/],
    [{ keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/abc' }, /keyArn is only used with keyMode=existing/],
    [{ keyAlias: 'eth' }, /keyAlias "eth" must be alias\//],
    [{ keyAlias: 'alias/aws/eth' }, /alias\/aws\/ is reserved/],
    [{ ethNetwork: 'mainet' }, /ethNetwork "mainet"/],
    [{ expectedAddress: '0xF39fd6e51aad88f6f4ce6ab8827279cfffb92266' }, /expectedAddress .* EIP-55/],
    [{ logLevel: 'loud' }, /logLevel must be one of/],
    [{ logRetentionDays: 10 }, /logRetentionDays must be one of/],
    [{ reservedConcurrency: '0' }, /reservedConcurrency must be at least 1/],
    [{ reservedConcurrency: 'many' }, /reservedConcurrency must be a whole number/],
    [{ adminPrincipalArns: 'alice' }, /adminPrincipalArns: "alice" is not an IAM principal ARN/],
    [{ importerPrincipalArns: 'arn:aws:iam::111122223333:role/Importer' }, /importerPrincipalArns is only used with keyMode=external/],
    [{ backupBucket: 'yes' }, /backupBucket must be true or false/],
    [{ backupObjectLockDays: '30' }, /backupObjectLockDays is only used with backupBucket=true/],
    [{ backupBucket: 'true', backupObjectLockDays: '40000' }, /backupObjectLockDays must be 0 \(off\) to 36500/],
    [{ backupBucket: 'true', backupWriterAccount: '4444' , backupWriterExternalId: 'abc' }, /backupWriterAccount must be a 12-digit AWS account id/],
    [{ backupBucket: 'true', backupWriterAccount: '444455556666' }, /backupWriterAccount and backupWriterExternalId go together/],
    [{ backupBucket: 'true', backupWriterAccount: '444455556666', backupWriterExternalId: 'x' }, /backupWriterExternalId must be 2 to 1224 characters/],
    [{ backupWriterAccount: '444455556666', backupWriterExternalId: 'abcdef' }, /backupWriterAccount is only used with backupBucket=true/],
    [{ policyFile: undefined }, /policyFile is required: the signing policy .* -c policyFile=examples\/policies\//],
    [{ policyFile: 'no/such/policy.json' }, /policyFile no\/such\/policy.json cannot be read \(ENOENT\)/],
    [{ policyFile: badPolicy() }, /policyFile .* is not a valid signing policy: \$\.rules\[0\]\.to\[0\] has an invalid EIP-55 checksum/],
    [{ functionNamePrefix: 'my signer' }, /functionNamePrefix "my signer" must be 1 to 56 letters, digits, - or _/],
    [{ functionNamePrefix: 'x'.repeat(57) }, /functionNamePrefix/],
    [{ invokerPrincipalArns: 'app' }, /invokerPrincipalArns: "app" is not an IAM principal ARN/],
    [{ invokerPrincipalArns: 'arn:aws:iam::444455556666:root' }, /invokerPrincipalArns must name roles or users, not an account root/],
    [{ alarmTopicArn: 'security' }, /alarmTopicArn "security" is not an SNS topic ARN/],
    [{ trail: 'true', managementTrailLogGroup: 'org-trail' }, /managementTrailLogGroup and trail=true exclude each other/],
    [{ breakGlassPrincipalArns: 'arn:aws:iam::111122223333:root' }, /breakGlassPrincipalArns must name roles or users, not an account root/],
    [{ keyMode: 'existing', keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/abc', breakGlassPrincipalArns: 'arn:aws:iam::111122223333:role/BreakGlass' }, /breakGlassPrincipalArns is only used for a key this stack creates/],
    [{ deployRoleArn: 'arn:aws:iam::111122223333:user/deployer' }, /deployRoleArn .* is not an IAM role ARN/],
    [{ codeSigningProfileArn: 'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/EthSigner' }, /signing profile version ARN .*profileVersionArn/],
    [{ codeSigningProfileArn: 'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/EthSigner/a1b2c3d4e5' }, /codeSigningProfileArn needs signedCodeEip1559 and signedCodeLegacy/],
    [{ signedCodeEip1559: 's3://bucket/eip1559.zip?versionId=v1' }, /only used with codeSigningProfileArn/],
    [{ codeSigningProfileArn: 'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/EthSigner/a1b2c3d4e5', signedCodeEip1559: 'bucket/x.zip', signedCodeLegacy: 's3://b-1/l.zip' }, /signedCodeEip1559 "bucket\/x.zip" must be s3:\/\/BUCKET\/KEY.zip\?versionId=VERSION/],
    [{ allowPreEip155: 'yes' }, /allowPreEip155 must be true or false/],
    [{ trail: 'on' }, /trail must be true or false/],
    [{ alarmEmail: 'ops' }, /alarmEmail "ops" is not an email address/],
    [{ signaturesPerHourAlarmThreshold: '0' }, /signaturesPerHourAlarmThreshold must be at least 1/],
  ])('names the context key when it is wrong (%o)', (context, message) => {
    expect(() => read(context)).toThrow(ContextError);
    expect(() => read(context)).toThrow(message);
  });
});
