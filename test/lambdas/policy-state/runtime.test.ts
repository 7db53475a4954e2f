import type { SpendingLimit } from '../../../lambdas/policy/spending';
import * as policyStateConfig from '../../../lambdas/policy-state/config';
import { SpendingLimitExceededError } from '../../../lambdas/policy-state/errors';
import type { IdempotentSignRequest } from '../../../lambdas/policy-state/idempotency';
import { createPolicyState, invocationDeadline, type PolicyState } from '../../../lambdas/policy-state/runtime';
import { lambdaContext } from '../../../scripts/local-stack/lambda-context';
import { idempotencyRecords, startLocalDynamoDb, type LocalDynamoDb } from '../../helpers/dynalite';
import { rejectionOf } from '../../helpers/rejection';

const KEY = 'arn:aws:kms:us-east-1:111122223333:key/runtime';
const request: IdempotentSignRequest = {
  transaction: { type: 2, chainId: 1n, nonce: 0, to: '0x000000000000000000000000000000000000dEaD', gasLimit: 21000n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n },
  replayProtection: true,
};

/** Reserves twice against a once-per-minute limit through the state's store: the second must be refused. */
async function expectCountedOnce({ store }: PolicyState, limitId: string): Promise<void> {
  if (!store) throw new Error('expected the policy state to have a spending store');
  const once: SpendingLimit = { id: limitId, windowSeconds: 60, maxCount: 1, asset: 'native' };
  const keyArn = `${KEY}/${limitId}`;
  await store.reserve([{ limit: once, amount: 0n }], { keyArn, reservationId: 'first' });
  expect(await rejectionOf(store.reserve([{ limit: once, amount: 0n }], { keyArn, reservationId: 'second' }))).toBeInstanceOf(SpendingLimitExceededError);
}

let dynamo: LocalDynamoDb;
beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
});
afterAll(async () => dynamo.close());

describe('createPolicyState', () => {
  it('has no store and passes signing straight through without a table', async () => {
    const state = createPolicyState({ idempotency: false, idempotencyWindowSeconds: 3600, callTimeoutMs: 3000 });
    expect(state.store).toBeUndefined();
    let calls = 0;
    const sign = state.idempotent(async () => ({ n: ++calls }), { keyArn: KEY, scope: 'a' });
    await sign(request);
    await sign(request);
    expect(calls).toBe(2);
  });

  it('with a table and idempotency on, replays a retried request from DynamoDB', async () => {
    const state = createPolicyState({ tableName: dynamo.tableName, idempotency: true, idempotencyWindowSeconds: 600, callTimeoutMs: 3000 }, dynamo.client);
    expect(state.store).toBeDefined();
    let calls = 0;
    const sign = state.idempotent(async () => ({ n: ++calls }), { keyArn: KEY, scope: 'b' });
    expect(await sign(request, lambdaContext('f'))).toEqual({ n: 1 });
    expect(await sign(request, lambdaContext('f'))).toEqual({ n: 1 });
    expect(calls).toBe(2); // the retry's step ran; what it made ({ n: 2 }) was dropped for the first response
    // The record lives in the key's partition under the scope, and expires after the configured window.
    const records = await idempotencyRecords(dynamo, KEY, 'b');
    expect(records).toHaveLength(1);
    const expiry = Number(records[0]?.expiration?.N);
    expect(expiry).toBeGreaterThan(Date.now() / 1000 + 590);
    expect(expiry).toBeLessThanOrEqual(Date.now() / 1000 + 601);
  });

  it('with a table, counts spending in that table through its store', async () => {
    const state = createPolicyState({ tableName: dynamo.tableName, idempotency: false, idempotencyWindowSeconds: 600, callTimeoutMs: 3000 }, dynamo.client);
    await expectCountedOnce(state, 'key:runtime-store');
  });

  describe('its DynamoDB client', () => {
    afterEach(() => jest.restoreAllMocks());

    it('is the process-wide policy-state client when none is given', async () => {
      const shared = jest.spyOn(policyStateConfig, 'sharedPolicyStateClient').mockReturnValue(dynamo.client);
      const config = { tableName: dynamo.tableName, idempotency: true, idempotencyWindowSeconds: 600, callTimeoutMs: 3000 };
      const state = createPolicyState(config);
      expect(shared).toHaveBeenCalledWith(config);
      await expectCountedOnce(state, 'key:runtime-shared');
    });

    it('is never created without a table (a signer without policy state needs no DynamoDB)', () => {
      const shared = jest.spyOn(policyStateConfig, 'sharedPolicyStateClient');
      createPolicyState({ idempotency: false, idempotencyWindowSeconds: 3600, callTimeoutMs: 3000 });
      expect(shared).not.toHaveBeenCalled();
    });
  });

  it('with idempotency off, keeps the store but signs every request', async () => {
    const state = createPolicyState({ tableName: dynamo.tableName, idempotency: false, idempotencyWindowSeconds: 600, callTimeoutMs: 3000 }, dynamo.client);
    expect(state.store).toBeDefined();
    let calls = 0;
    const sign = state.idempotent(async () => ({ n: ++calls }), { keyArn: KEY, scope: 'c' });
    await sign(request);
    await sign(request);
    expect(calls).toBe(2);
  });
});

describe('invocationDeadline', () => {
  const NOW = 1_700_000_000_000;
  beforeEach(() => jest.spyOn(Date, 'now').mockReturnValue(NOW)); // a still clock: no dependence on how fast this runs
  afterEach(() => jest.restoreAllMocks());

  it('keeps time back for KMS and the response', () => {
    expect(invocationDeadline(lambdaContext('f', 10_000), { reserveMs: 2000 })).toBe(NOW + 8_000);
  });

  it('falls back to a fixed budget without a usable context', () => {
    expect(invocationDeadline({} as never, { reserveMs: 2000, fallbackMs: 5000 })).toBe(NOW + 5000);
    expect(invocationDeadline(undefined, { reserveMs: 2000, fallbackMs: 5000 })).toBe(NOW + 5000);
  });

  it('is now when less time remains than the reserve', () => {
    expect(invocationDeadline(lambdaContext('f', 1000), { reserveMs: 2000 })).toBe(NOW);
  });
});
