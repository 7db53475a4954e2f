import { ConfigurationError } from '../../../lambdas/signer/errors';
import { readPolicyStateConfig, sharedPolicyStateClient } from '../../../lambdas/policy-state/config';
import { freshModule } from '../../helpers/fresh-module';
import { thrownBy } from '../../helpers/rejection';

const problemsOf = (env: NodeJS.ProcessEnv, options?: { needsTable?: boolean }): string[] =>
  thrownBy(ConfigurationError, () => readPolicyStateConfig(env, options)).problems;

describe('readPolicyStateConfig', () => {
  it('uses no table and no idempotency by default', () => {
    expect(readPolicyStateConfig({})).toStrictEqual({ idempotency: false, idempotencyWindowSeconds: 3600, callTimeoutMs: 3000 });
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

  it('accepts spending limits with a table', () => {
    expect(readPolicyStateConfig({ POLICY_TABLE_NAME: 'policy-state' }, { needsTable: true }).tableName).toBe('policy-state');
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

  it('reads the process environment when given none', () => {
    const saved = process.env.POLICY_STATE_TIMEOUT_MS;
    process.env.POLICY_STATE_TIMEOUT_MS = '2500';
    try {
      expect(readPolicyStateConfig().callTimeoutMs).toBe(2500);
    } finally {
      if (saved === undefined) delete process.env.POLICY_STATE_TIMEOUT_MS;
      else process.env.POLICY_STATE_TIMEOUT_MS = saved;
    }
  });

  it('trims the settings and treats blank ones as unset', () => {
    expect(readPolicyStateConfig({ POLICY_TABLE_NAME: '  policy-state  ', IDEMPOTENCY: ' Off ', IDEMPOTENCY_WINDOW_SECONDS: ' 120 ', POLICY_STATE_TIMEOUT_MS: '  ' })).toEqual({
      tableName: 'policy-state',
      idempotency: false,
      idempotencyWindowSeconds: 120,
      callTimeoutMs: 3000,
    });
    expect(readPolicyStateConfig({ POLICY_TABLE_NAME: '   ', IDEMPOTENCY: '' })).toEqual({ idempotency: false, idempotencyWindowSeconds: 3600, callTimeoutMs: 3000 });
  });

  it('turns idempotency on when asked, in any case', () => {
    expect(readPolicyStateConfig({ POLICY_TABLE_NAME: 'abc', IDEMPOTENCY: 'ON' }).idempotency).toBe(true);
  });

  it('accepts table names of 3 and 255 characters from DynamoDB\'s alphabet', () => {
    expect(readPolicyStateConfig({ POLICY_TABLE_NAME: 'a-b' }).tableName).toBe('a-b');
    const longest = `A_.-9${'z'.repeat(250)}`;
    expect(readPolicyStateConfig({ POLICY_TABLE_NAME: longest }).tableName).toBe(longest);
  });

  it.each([
    ['2 characters', 'ab'],
    ['256 characters', 't'.repeat(256)],
    ['a slash', 'team/table'],
    ['a name after other text', 'arn:aws:dynamodb:us-east-1:1:table/x y'],
  ])('refuses a table name of %s', (_label, name) => {
    expect(problemsOf({ POLICY_TABLE_NAME: name, IDEMPOTENCY: 'off' })).toEqual([`POLICY_TABLE_NAME "${name.slice(0, 80)}" is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)`]);
  });

  it('states each problem in full', () => {
    expect(problemsOf({}, { needsTable: true })).toEqual([
      'POLICY_TABLE_NAME is not set, but the signing policy has spending limits: deploy the policy table (infra/policy-table.ts) and set its name',
    ]);
    expect(problemsOf({ POLICY_TABLE_NAME: 'abc', IDEMPOTENCY: 'enabled-for-every-request' })).toEqual(['IDEMPOTENCY "enabled-for-every-re" must be on or off']);
    expect(problemsOf({ IDEMPOTENCY: 'on' })).toEqual(['IDEMPOTENCY is on but POLICY_TABLE_NAME is not set: idempotency records live in the policy table']);
  });

  it.each([
    ['IDEMPOTENCY_WINDOW_SECONDS', 60, 604_800, 'idempotencyWindowSeconds'],
    ['POLICY_STATE_TIMEOUT_MS', 100, 10_000, 'callTimeoutMs'],
  ] as const)('accepts %s from %d to %d and nothing outside', (name, min, max, field) => {
    const base = { POLICY_TABLE_NAME: 'abc' };
    expect(readPolicyStateConfig({ ...base, [name]: String(min) })[field]).toBe(min);
    expect(readPolicyStateConfig({ ...base, [name]: String(max) })[field]).toBe(max);
    for (const bad of [String(min - 1), String(max + 1), '-5', '1.5', '0x10', '1234567890', 'ten', `${min}s`, `s${min}`]) {
      expect(problemsOf({ ...base, [name]: bad })).toEqual([`${name} "${bad}" must be a whole number from ${min} to ${max}`]);
    }
  });

  it('quotes at most 20 characters of a bad number', () => {
    expect(problemsOf({ POLICY_STATE_TIMEOUT_MS: '9'.repeat(30) })).toEqual([`POLICY_STATE_TIMEOUT_MS "${'9'.repeat(20)}" must be a whole number from 100 to 10000`]);
  });
});

describe('sharedPolicyStateClient', () => {
  type Timeouts = { connectionTimeout?: number; requestTimeout?: number };
  // The SDK's NodeHttpHandler resolves its options asynchronously; they are not part of its typed interface.
  const timeoutsOf = (client: ReturnType<typeof sharedPolicyStateClient>) => (client.config.requestHandler as unknown as { configProvider: Promise<Timeouts> }).configProvider;
  const freshClient = (callTimeoutMs: number) =>
    freshModule(() => require('../../../lambdas/policy-state/config') as typeof import('../../../lambdas/policy-state/config')).sharedPolicyStateClient({ callTimeoutMs });

  it('is one client per process, retrying a throttled call once', async () => {
    const client = sharedPolicyStateClient({ callTimeoutMs: 3000 });
    expect(sharedPolicyStateClient({ callTimeoutMs: 5000 })).toBe(client);
    expect(await client.config.maxAttempts()).toBe(2);
  });

  it('bounds each call by POLICY_STATE_TIMEOUT_MS, and connecting by 1 s at most', async () => {
    expect(await timeoutsOf(freshClient(3000))).toMatchObject({ connectionTimeout: 1000, requestTimeout: 3000 });
    expect(await timeoutsOf(freshClient(500))).toMatchObject({ connectionTimeout: 500, requestTimeout: 500 });
  });

  it('is trimmed as the KMS client is: cached middleware stack, no logger middleware, user-agent headers reused', () => {
    const client = freshClient(3000);
    expect(client.config.cacheMiddleware).toBe(true);
    const names = client.middlewareStack.identify().map((entry) => entry.split(' ')[0]);
    expect(names).not.toContain('loggerMiddleware');
    expect(names).not.toContain('getUserAgentMiddleware');
    expect(names).toContain('cachedUserAgentMiddleware');
  });
});
