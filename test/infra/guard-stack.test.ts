// The guard, deployed rather than printed (issue 23): the guard stack's SCPs and RCP for the management account.
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readSettings, ContextError } from '../../infra/context';
import { readGuardSettings } from '../../infra/guard-context';
import { GUARD_NOBODY, guardInputs } from '../../infra/guard-inputs';
import { guardPolicy, keyGuardPolicy, recordsGuardPolicy, SCP_MAX_CHARACTERS } from '../../infra/guard-policy';
import { GuardStack } from '../../infra/guard-stack';
import { nagReport } from './stack-fixture';

const TABLE = 'arn:aws:dynamodb:eu-west-1:111122223333:table/KmsEthSigner-PolicyStateTable-EXAMPLE';
const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const DEPLOYER = 'arn:aws:iam::111122223333:role/cdk-ethsigner-cfn-exec-role-111122223333-eu-west-1';
const BREAK_GLASS = 'arn:aws:iam::111122223333:role/KeyBreakGlass';
const settings = (context: Record<string, unknown> = {}) =>
  readSettings((key) => ({ policyFile: 'examples/policies/relayer.json', bootstrapQualifier: 'ethsigner', breakGlassPrincipalArns: BREAK_GLASS, invokerPrincipalArns: 'arn:aws:iam::111122223333:role/PaymentsApp', ...context })[key]);
const inputs = guardInputs(settings(), { partition: 'aws', account: '111122223333', region: 'eu-west-1', policyTableArn: TABLE, deployRoleArn: DEPLOYER });

function guardStack(key = true) {
  const app = new App();
  const stack = new GuardStack(app, 'KmsEthSignerGuard', {
    signers: inputs.signers,
    records: inputs.records,
    ...(key && { key: { keyArn: KEY, signerRoleArns: inputs.signerRoleArns, changerPrincipalArns: inputs.changerPrincipalArns } }),
    targetIds: ['111122223333'],
    namePrefix: 'eth-signer',
  });
  return { template: Template.fromStack(stack), nag: nagReport(stack) };
}

describe('GuardStack', () => {
  const { template, nag } = guardStack();
  const policies = Object.values(template.findResources('AWS::Organizations::Policy')).map((p) => p.Properties);

  it('deploys two SCPs and an RCP on the key, attached to the signer account', () => {
    expect(policies.map((p) => [p.Name, p.Type, p.TargetIds])).toEqual([
      ['eth-signer-SignerGuard', 'SERVICE_CONTROL_POLICY', ['111122223333']],
      ['eth-signer-RecordsGuard', 'SERVICE_CONTROL_POLICY', ['111122223333']],
      ['eth-signer-KeyGuard', 'RESOURCE_CONTROL_POLICY', ['111122223333']],
    ]);
    expect(policies.map((p) => p.Content)).toEqual([guardPolicy(inputs.signers), recordsGuardPolicy(inputs.records), keyGuardPolicy({ keyArn: KEY, signerRoleArns: inputs.signerRoleArns, changerPrincipalArns: inputs.changerPrincipalArns })]);
    template.hasOutput('SignerGuardId', { Export: { Name: 'KmsEthSignerGuard-SignerGuardId' } });
  });

  it('deploys no RCP without the key\'s ARN', () => {
    expect(Object.values(guardStack(false).template.findResources('AWS::Organizations::Policy')).map((p) => p.Properties.Type)).toEqual(['SERVICE_CONTROL_POLICY', 'SERVICE_CONTROL_POLICY']);
  });

  it('covers the signer roles (PassRole, any change), the functions (code, configuration, permissions, code signing, aliases), the table, the trail, alarms, topic, log groups, rules and the deploy role', () => {
    const text = JSON.stringify(policies.map((p) => p.Content));
    for (const expected of [
      'iam:PassRole',
      'iam:PutRolePolicy',
      'role/eth-signer-eip1559',
      'lambda:UpdateFunctionCode',
      'lambda:UpdateFunctionConfiguration',
      'lambda:AddPermission',
      'lambda:UpdateFunctionCodeSigningConfig',
      'lambda:UpdateAlias',
      'dynamodb:PutResourcePolicy',
      'cloudtrail:StopLogging',
      'trail/eth-signer-audit',
      'cloudwatch:DeleteAlarms',
      'alarm:eth-signer-*',
      'sns:Unsubscribe',
      'eth-signer-alarms:*',
      'logs:DeleteLogGroup',
      'log-group:/aws/lambda/eth-signer-*',
      'events:DisableRule',
      'role/cdk-ethsigner-*',
      'OnlyTheDeployRolePassesTheExecutionRole',
    ]) {
      expect(text).toContain(expected);
    }
    expect(text).not.toContain('hnb659fds');
  });

  it('lets only break-glass change the bootstrap roles, and nobody when there is no break-glass', () => {
    const records = (document: Record<string, unknown>) => (document as { Statement: Array<Record<string, any>> }).Statement.find((s) => s.Sid === 'OnlyBreakGlassChangesTheDeployRoles')!;
    expect(records(recordsGuardPolicy(inputs.records)).Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': [BREAK_GLASS] } });
    const without = guardInputs(settings({ breakGlassPrincipalArns: undefined }), { partition: 'aws', account: '111122223333', region: 'eu-west-1', policyTableArn: TABLE, deployRoleArn: DEPLOYER });
    expect(records(recordsGuardPolicy(without.records)).Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': [GUARD_NOBODY] } });
  });

  it('keeps each SCP under 5,120 characters with the longest names (56-character prefix, aws-us-gov, 3 invokers, 2 break-glass roles)', () => {
    const role = (name: string) => `arn:aws-us-gov:iam::123456789012:role/${name.padEnd(64, '0')}`;
    const longest = guardInputs(
      settings({ functionNamePrefix: 'p'.repeat(56), bootstrapQualifier: 'qualifier0', breakGlassPrincipalArns: [role('B1'), role('B2')].join(','), invokerPrincipalArns: [role('I1'), role('I2'), role('I3')].join(',') }),
      { partition: 'aws-us-gov', account: '123456789012', region: 'ap-southeast-5', policyTableArn: `arn:aws-us-gov:dynamodb:ap-southeast-5:123456789012:table/${'t'.repeat(255)}`, deployRoleArn: role('Deployer') },
    );
    expect(JSON.stringify(guardPolicy(longest.signers)).length).toBeLessThan(SCP_MAX_CHARACTERS);
    expect(JSON.stringify(recordsGuardPolicy(longest.records)).length).toBeLessThan(SCP_MAX_CHARACTERS);
    expect(JSON.stringify(keyGuardPolicy({ keyArn: KEY, signerRoleArns: longest.signerRoleArns, changerPrincipalArns: longest.changerPrincipalArns })).length).toBeLessThan(SCP_MAX_CHARACTERS);
  });

  it("passes cdk-nag's five packs", () => {
    expect(nag.violations).toEqual([]);
  });
});

describe('readGuardSettings (the guard stack\'s context)', () => {
  const context = { guardTargetIds: 'ou-ab12-cdef3456', signerAccount: '111122223333', signerRegion: 'eu-west-1', policyTableArn: TABLE, signingKeyArn: KEY };
  const read = (overrides: Record<string, unknown>) => readGuardSettings((key) => ({ ...context, ...overrides })[key]);

  it('builds no guard stack without guardTargetIds', () => {
    expect(readGuardSettings(() => undefined)).toBeUndefined();
  });

  it('reads the targets, the signer\'s account and Region, the table and the key', () => {
    expect(read({})).toEqual({ targetIds: ['ou-ab12-cdef3456'], signer: { account: '111122223333', region: 'eu-west-1' }, partition: 'aws', policyTableArn: TABLE, keyArn: KEY });
  });

  it.each([
    [{ guardTargetIds: 'prod' }, /guardTargetIds: "prod" is not an account id, an OU id/],
    [{ signerAccount: undefined }, /signerAccount must be the 12-digit account/],
    [{ signerRegion: 'Ireland' }, /signerRegion must be the Region/],
    [{ policyTableArn: 'KmsEthSigner-PolicyStateTable' }, /policyTableArn must be the signer stack's PolicyTableArn output/],
    [{ signingKeyArn: 'alias/eth-signer' }, /signingKeyArn must be the signer stack's KeyArn output/],
  ])('names the context key when it is wrong (%o)', (overrides, message) => {
    expect(() => read(overrides)).toThrow(ContextError);
    expect(() => read(overrides)).toThrow(message);
  });
});
