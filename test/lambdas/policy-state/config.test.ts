import { ConfigurationError } from '../../../lambdas/config';
import { readPolicyStateConfig } from '../../../lambdas/policy-state/config';

describe('readPolicyStateConfig', () => {
  it('uses no table and no idempotency by default', () => {
    expect(readPolicyStateConfig({})).toEqual({ idempotency: false, idempotencyWindowSeconds: 3600, callTimeoutMs: 3000 });
  });

  it('turns idempotency on by default when the table is set', () => {
    expect(readPolicyStateConfig({ POLICY_TABLE_NAME: 'signer-policy-state' })).toEqual({
      tableName: 'signer-policy-state',
      idempotency: true,
      idempotencyWindowSeconds: 3600,
      callTimeoutMs: 3000,
    });
  });

  it('reads every setting', () => {
    expect(readPolicyStateConfig({ POLICY_TABLE_NAME: 't.1_x', IDEMPOTENCY: 'OFF', IDEMPOTENCY_WINDOW_SECONDS: '600', POLICY_STATE_TIMEOUT_MS: '1500' })).toEqual({
      tableName: 't.1_x',
      idempotency: false,
      idempotencyWindowSeconds: 600,
      callTimeoutMs: 1500,
    });
  });

  it('refuses spending limits without a table, saying how to fix it', () => {
    expect(() => readPolicyStateConfig({}, { needsTable: true })).toThrow(/POLICY_TABLE_NAME is not set, but the signing policy has spending limits/);
  });

  it('names every bad setting at once', () => {
    let error: unknown;
    try {
      readPolicyStateConfig({ POLICY_TABLE_NAME: 'a b', IDEMPOTENCY: 'yes', IDEMPOTENCY_WINDOW_SECONDS: '59', POLICY_STATE_TIMEOUT_MS: '1e3' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const problems = (error as ConfigurationError).problems.join('\n');
    for (const name of ['POLICY_TABLE_NAME', 'IDEMPOTENCY "yes"', 'IDEMPOTENCY_WINDOW_SECONDS', 'POLICY_STATE_TIMEOUT_MS']) expect(problems).toContain(name);
  });

  it('refuses idempotency without a table', () => {
    expect(() => readPolicyStateConfig({ IDEMPOTENCY: 'on' })).toThrow(/IDEMPOTENCY is on but POLICY_TABLE_NAME is not set/);
  });
});
