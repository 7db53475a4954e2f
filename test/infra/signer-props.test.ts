// The EthereumSigner's props: the CDK context's defaults, rules and messages, as typed values.
import { ContextError, readSettings } from '../../infra/context';
import { contextKeysOfProps, EthereumSignerPropsError, propsFromSettings, settingsFromProps, type EthereumSignerProps } from '../../infra/signer-props';
import { thrownBy } from '../helpers/rejection';

const POLICY = 'examples/policies/allow-all.json';
const ROLE = 'arn:aws:iam::111122223333:role/Backend';
const KEY_ARN = 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const PROFILE = 'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/Signer_1/abcdefghij';

const QUALIFIER = 'ethsigner';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:111122223333:security-alerts';

// Every synth needs a dedicated bootstrap qualifier (or a deploy role): the base of every case below.
const fromContext = (context: Record<string, unknown>) => readSettings((key) => ({ policyFile: POLICY, bootstrapQualifier: QUALIFIER, ...context })[key]);
const propsProblems = (props: Partial<EthereumSignerProps>) => thrownBy(EthereumSignerPropsError, () => settingsFromProps({ policyFile: POLICY, bootstrapQualifier: QUALIFIER, ...props })).problems;
const contextProblems = (context: Record<string, unknown>) => thrownBy(ContextError, () => fromContext(context)).problems;

describe('settingsFromProps', () => {
  it('applies the defaults of the CDK context when only policyFile is given', () => {
    expect(settingsFromProps({ policyFile: POLICY, bootstrapQualifier: QUALIFIER })).toEqual(fromContext({}));
  });

  it('gives the settings the same context values give', () => {
    const props: EthereumSignerProps = {
      policyFile: POLICY,
      bootstrapQualifier: QUALIFIER,
      keyMode: 'external',
      importerPrincipalArns: [ROLE],
      ethNetwork: 'mainnet',
      expectedAddress: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
      logLevel: 'warn',
      logRetentionDays: 731,
      reservedConcurrency: 'none',
      invokerPrincipalArns: [ROLE, 'arn:aws:iam::111122223333:user/ops'],
      functionNamePrefix: 'team-signer',
      codeSigningProfileArn: PROFILE,
      signedCode: { eip1559: { bucket: 'signed-code', key: 'eip1559.zip', version: 'v1' }, legacy: { bucket: 'signed-code', key: 'legacy.zip', version: 'v2' } },
      allowPreEip155: true,
      alarmEmail: 'ops@example.com',
      alarmTopicArn: TOPIC_ARN,
      denialAlarmThreshold: 3,
      signaturesPerHourAlarmThreshold: 50,
      trail: true,
      backupBucket: true,
      backupObjectLockDays: 0,
      backupWriter: { accountId: '444455556666', externalId: 'a-long-random-external-id' },
    };
    expect(settingsFromProps(props)).toEqual(
      fromContext({
        keyMode: 'external',
        importerPrincipalArns: ROLE,
        ethNetwork: 'mainnet',
        expectedAddress: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
        logLevel: 'warn',
        logRetentionDays: '731',
        reservedConcurrency: 'none',
        invokerPrincipalArns: `${ROLE},arn:aws:iam::111122223333:user/ops`,
        functionNamePrefix: 'team-signer',
        codeSigningProfileArn: PROFILE,
        signedCodeEip1559: 's3://signed-code/eip1559.zip?versionId=v1',
        signedCodeLegacy: 's3://signed-code/legacy.zip?versionId=v2',
        allowPreEip155: 'true',
        alarmEmail: 'ops@example.com',
        alarmTopicArn: TOPIC_ARN,
        denialAlarmThreshold: '3',
        signaturesPerHourAlarmThreshold: '50',
        trail: 'true',
        backupBucket: 'true',
        backupObjectLockDays: '0',
        backupWriterAccount: '444455556666',
        backupWriterExternalId: 'a-long-random-external-id',
      }),
    );
  });

  it.each<[string, Partial<EthereumSignerProps>, Record<string, unknown>]>([
    ['an unknown key mode', { keyMode: 'old' as 'new' }, { keyMode: 'old' }],
    ['keyMode existing without keyArn', { keyMode: 'existing' }, { keyMode: 'existing' }],
    ['a keyArn with a key this construct creates', { keyArn: KEY_ARN }, { keyArn: KEY_ARN }],
    ['an unknown network', { ethNetwork: 'not-a-chain' }, { ethNetwork: 'not-a-chain' }],
    ['an address with a bad checksum', { expectedAddress: '0xF39fd6e51aad88f6f4ce6ab8827279cfffb92266' }, { expectedAddress: '0xF39fd6e51aad88f6f4ce6ab8827279cfffb92266' }],
    ['an unknown log level', { logLevel: 'LOUD' as 'INFO' }, { logLevel: 'LOUD' }],
    ['a retention CloudWatch Logs does not offer', { logRetentionDays: 42 }, { logRetentionDays: '42' }],
    ['a fractional retention', { logRetentionDays: 1.5 }, { logRetentionDays: '1.5' }],
    ['a reserved concurrency of 0', { reservedConcurrency: 0 }, { reservedConcurrency: '0' }],
    ['an invoker that is not a principal ARN', { invokerPrincipalArns: ['backend'] }, { invokerPrincipalArns: 'backend' }],
    ['a root account as break-glass', { breakGlassPrincipalArns: ['arn:aws:iam::111122223333:root'] }, { breakGlassPrincipalArns: 'arn:aws:iam::111122223333:root' }],
    ['a deploy role that is a user', { deployRoleArn: 'arn:aws:iam::111122223333:user/deployer' }, { deployRoleArn: 'arn:aws:iam::111122223333:user/deployer' }],
    ['a function name prefix with a dot', { functionNamePrefix: 'team.signer' }, { functionNamePrefix: 'team.signer' }],
    ['code signing without the signed bundles', { codeSigningProfileArn: PROFILE }, { codeSigningProfileArn: PROFILE }],
    ['signed bundles without code signing', { signedCode: { eip1559: { bucket: 'signed-code', key: 'a.zip' }, legacy: { bucket: 'signed-code', key: 'b.zip' } } }, { signedCodeEip1559: 's3://signed-code/a.zip', signedCodeLegacy: 's3://signed-code/b.zip' }],
    ['a signed bundle that is not a zip', { codeSigningProfileArn: PROFILE, signedCode: { eip1559: { bucket: 'signed-code', key: 'a.tar' }, legacy: { bucket: 'signed-code', key: 'b.zip' } } }, { codeSigningProfileArn: PROFILE, signedCodeEip1559: 's3://signed-code/a.tar', signedCodeLegacy: 's3://signed-code/b.zip' }],
    ['an alarm email that is no address', { alarmEmail: 'ops' }, { alarmEmail: 'ops' }],
    ['a signing-rate threshold of 0', { signaturesPerHourAlarmThreshold: 0 }, { signaturesPerHourAlarmThreshold: '0' }],
    ['importers with a new key', { importerPrincipalArns: [ROLE] }, { importerPrincipalArns: ROLE }],
    ['Object Lock days without the backup bucket', { backupObjectLockDays: 30 }, { backupObjectLockDays: '30' }],
    ['a backup writer without the backup bucket', { backupWriter: { accountId: '444455556666', externalId: 'a-long-random-external-id' } }, { backupWriterAccount: '444455556666', backupWriterExternalId: 'a-long-random-external-id' }],
    ['a backup writer account that is no account id', { backupBucket: true, backupWriter: { accountId: '4444', externalId: 'a-long-random-external-id' } }, { backupBucket: 'true', backupWriterAccount: '4444', backupWriterExternalId: 'a-long-random-external-id' }],
    ['a policy file that does not exist', { policyFile: 'examples/policies/none.json' }, { policyFile: 'examples/policies/none.json' }],
    ['the default bootstrap qualifier', { bootstrapQualifier: 'hnb659fds' }, { bootstrapQualifier: 'hnb659fds' }],
    ['neither a bootstrap qualifier nor a deploy role', { bootstrapQualifier: undefined }, { bootstrapQualifier: undefined }],
    ['a deploy role of the default bootstrap', { deployRoleArn: 'arn:aws:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1' }, { deployRoleArn: 'arn:aws:iam::111122223333:role/cdk-hnb659fds-cfn-exec-role-111122223333-eu-west-1' }],
    ['an alarm topic that is no SNS topic ARN', { alarmTopicArn: 'security-alerts' }, { alarmTopicArn: 'security-alerts' }],
    ['a management trail log group beside trail: true', { managementTrailLogGroup: 'org-trail', trail: true }, { managementTrailLogGroup: 'org-trail', trail: 'true' }],
    ['mainnet without an alarm subscription, a pinned address or a trail', { ethNetwork: 'mainnet' }, { ethNetwork: 'mainnet' }],
    ['a string where a number belongs', { denialAlarmThreshold: 'ten' as unknown as number }, { denialAlarmThreshold: 'ten' }],
    ['an object where a string belongs', { alarmEmail: { to: 'ops@example.com' } as unknown as string }, { alarmEmail: { to: 'ops@example.com' } }],
  ])('refuses %s with the message the CDK context gives', (_case, props, context) => {
    const problems = propsProblems(props);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems).toEqual(contextProblems(context));
  });

  it('refuses a missing policyFile with the message the CDK context gives', () => {
    const problems = thrownBy(EthereumSignerPropsError, () => settingsFromProps({} as EthereumSignerProps)).problems;
    expect(problems).toEqual(thrownBy(ContextError, () => readSettings(() => undefined)).problems);
  });

  it('names every problem at once, keeps the context error as cause, and says where to fix them', () => {
    const error = thrownBy(EthereumSignerPropsError, () => settingsFromProps({ policyFile: POLICY, bootstrapQualifier: QUALIFIER, keyMode: 'existing', alarmEmail: 'ops' }));
    expect(error.name).toBe('EthereumSignerPropsError');
    expect(error.problems).toHaveLength(2);
    expect(error.cause).toBeInstanceOf(ContextError);
    expect(error.message).toBe(`Invalid EthereumSigner props: ${error.problems.join('; ')}. Fix them where the construct is created.`);
  });

  it('refuses props it does not know, so a misspelt prop is not ignored', () => {
    const props = { policyFile: POLICY, alarmEmial: 'ops@example.com' } as EthereumSignerProps;
    const [problem] = propsProblems(props);
    expect(problem).toMatch(/^unknown prop "alarmEmial" \(EthereumSignerProps: policyFile, keyMode, .*codeDirectories\)$/);
  });

  it('has a prop for every context key the CDK context reads', () => {
    const read = new Set<string>();
    try {
      readSettings((key) => {
        read.add(key);
        return undefined;
      });
    } catch {
      // a policyFile is required: the keys are read before the error
    }
    expect(read.size).toBeGreaterThan(20);
    expect([...read].filter((key) => !contextKeysOfProps().includes(key))).toEqual([]);
  });
});

describe('propsFromSettings', () => {
  it.each<[string, Record<string, unknown>]>([
    ['the defaults', {}],
    ['no reserved concurrency', { reservedConcurrency: 'none' }],
    ['a deploy role instead of a qualifier', { bootstrapQualifier: undefined, deployRoleArn: 'arn:aws:iam::111122223333:role/Deployer' }],
    ['mainnet with its checklist', { ethNetwork: 'mainnet', expectedAddress: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266', alarmTopicArn: TOPIC_ARN, managementTrailLogGroup: 'org-trail' }],
    [
      'every optional setting',
      {
        keyMode: 'existing',
        keyArn: KEY_ARN,
        expectedAddress: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
        logLevel: 'debug',
        invokerPrincipalArns: ROLE,
        adminPrincipalArns: ROLE,
        deployRoleArn: 'arn:aws:iam::111122223333:role/Deployer',
        codeSigningProfileArn: PROFILE,
        signedCodeEip1559: 's3://signed-code/eip1559.zip',
        signedCodeLegacy: 's3://signed-code/legacy.zip',
        alarmEmail: 'ops@example.com',
        backupBucket: 'true',
        backupObjectLockDays: '30',
        backupWriterAccount: '444455556666',
        backupWriterExternalId: 'a-long-random-external-id',
      },
    ],
  ])('gives props that check back into the same settings (%s)', (_case, context) => {
    const settings = fromContext(context);
    expect(settingsFromProps(propsFromSettings(settings))).toEqual(settings);
  });
});
