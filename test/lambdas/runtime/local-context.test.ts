// A handler invoked without Lambda's context (npm run local's `node -e`, scripts, tests) runs quietly: Powertools
// idempotency gets a remaining time and does not warn "Could not determine remaining time left".
import { KMSClient } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { Transaction } from 'ethers';
import { createHandler } from '../../../lambdas/handler';
import { LOCAL_INVOCATION_MS, withRemainingTime } from '../../../lambdas/runtime/local-context';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { mockKms } from '../../helpers/kms-mock';
import { startLocalDynamoDb, type LocalDynamoDb } from '../../helpers/dynalite';

jest.setTimeout(30_000);

describe('withRemainingTime', () => {
  it("returns Lambda's context itself when it tells the remaining time", () => {
    const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 1234 } as Context;
    expect(withRemainingTime(context)).toBe(context);
  });

  it('completes a partial context (its fields kept) with a remaining time counted down from the local budget', () => {
    const completed = withRemainingTime({ awsRequestId: 'req-2' });
    expect(completed.awsRequestId).toBe('req-2');
    expect(completed.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(completed.getRemainingTimeInMillis()).toBeLessThanOrEqual(LOCAL_INVOCATION_MS);
  });

  it('never reports a negative remaining time', () => {
    expect(withRemainingTime(undefined, -5).getRemainingTimeInMillis()).toBe(0);
  });
});

describe('a handler with idempotency (dynalite), invoked without a context', () => {
  let db: LocalDynamoDb;
  const saved = { ...process.env };
  beforeAll(async () => {
    db = await startLocalDynamoDb();
  });
  afterAll(async () => {
    process.env = saved;
    await db?.close();
  });

  it('signs, and neither Powertools nor the SDK writes a warning', async () => {
    mockKms(KNOWN_KEYS[0].privateKey);
    Object.assign(process.env, {
      KMS_KEY_ID: 'alias/eth-signer',
      ETH_NETWORK: 'sepolia',
      LOG_LEVEL: 'SILENT',
      POLICY_TABLE_NAME: db.tableName,
      IDEMPOTENCY: 'on',
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      AWS_ACCESS_KEY_ID: 'DYNALITE',
      AWS_SECRET_ACCESS_KEY: 'DYNALITE',
      AWS_REGION: 'us-east-1',
    });
    const warn = jest.spyOn(console, 'warn');
    try {
      const handler = createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }) });
      const transaction = { to: KNOWN_KEYS[1].address, value: '1', nonce: 0, gasLimit: 21000, maxFeePerGas: '2', maxPriorityFeePerGas: '1' };
      const response = await handler({ operation: 'sign', transaction, idempotencyKey: 'local-1' });
      if (!('signedTransaction' in response)) throw new Error('expected a sign response');
      expect(Transaction.from(response.signedTransaction).from).toBe(KNOWN_KEYS[0].address);
      expect(warn.mock.calls.map((args) => String(args[0]))).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });
});
