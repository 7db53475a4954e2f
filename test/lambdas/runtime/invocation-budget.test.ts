// The invocation's time budget, and the handler against a local KMS (real SDK over HTTP) that stops answering.
import type { Context } from 'aws-lambda';
import { Transaction } from 'ethers';
import { DEFAULT_TIMEOUT_MARGIN_MS, invocationBudget, InvocationBudgetExhausted, InvocationTimers, signalAt } from '../../../lambdas/runtime/invocation-budget';
import { createHandler } from '../../../lambdas/handler';
import { KmsSigner } from '../../../lambdas/signer/kms-signer';
import { lambdaContext } from '../../../scripts/local-stack/lambda-context';
import { localKmsClient, startLocalKms, type LocalKms } from '../../../scripts/local-kms';
import { createSigningKey } from '../../../scripts/local-stack/stack';
import { logger } from '../../../lambdas/runtime/logger';
import { startLocalDynamoDb } from '../../helpers/dynalite';
import { startDynamoDbFaultProxy } from '../../helpers/dynamodb-fault-proxy';
import { writePolicyFile } from '../../helpers/policy-file';
import { rejectionOf } from '../../helpers/rejection';

const remaining = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

describe('invocationBudget', () => {
  it('aborts the margin before the invocation would time out, with the budget as reason', async () => {
    const signal = invocationBudget(remaining(300), 200)!;
    expect(signal.aborted).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(InvocationBudgetExhausted);
    expect((signal.reason as Error).message).toMatch(/100 ms.*TIMEOUT_MARGIN_MS=200/);
  });

  it('is already aborted when no more than the margin is left', () => {
    expect(invocationBudget(remaining(500), 500)!.aborted).toBe(true);
  });

  it('sets no budget without a Lambda context (local calls)', () => {
    expect(invocationBudget(undefined, 500)).toBeUndefined();
    expect(invocationBudget({} as Context, 500)).toBeUndefined();
  });

  it('keeps back one second by default', () => {
    expect(DEFAULT_TIMEOUT_MARGIN_MS).toBe(1000);
  });

  describe('on a controlled clock', () => {
    beforeEach(() => jest.useFakeTimers({ now: 1_700_000_000_000 }));
    afterEach(() => jest.useRealTimers());

    it('aborts exactly when the remaining time minus the margin has passed, not a millisecond earlier', () => {
      const signal = invocationBudget(remaining(3000), 1000)!;
      jest.advanceTimersByTime(1999);
      expect(signal.aborted).toBe(false);
      jest.advanceTimersByTime(1);
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toMatchObject({ name: 'InvocationBudgetExhausted', budgetMs: 2000, marginMs: 1000 });
    });

    it('runs for one millisecond when that is all that is left after the margin', () => {
      const signal = invocationBudget(remaining(1001), 1000)!;
      expect(signal.aborted).toBe(false);
      jest.advanceTimersByTime(1);
      expect(signal.aborted).toBe(true);
    });

    it('is aborted from the start when less than the margin is left, saying 0 ms were left for KMS', () => {
      const signal = invocationBudget(remaining(200), 1000)!;
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(InvocationBudgetExhausted);
      expect(signal.reason).toMatchObject({ budgetMs: -800, marginMs: 1000 });
      expect((signal.reason as Error).message).toBe(
        "the invocation's time for KMS (0 ms: the Lambda's remaining time minus TIMEOUT_MARGIN_MS=1000) ran out",
      );
    });
  });

  it('does not keep the process alive once the invocation is over (its timer is unreferenced)', () => {
    const refTimers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = refTimers();
    const budget = invocationBudget(remaining(600_000), 1000);
    const step = signalAt(Date.now() + 600_000);
    expect(refTimers()).toBe(before);
    expect([budget!.aborted, step.aborted]).toEqual([false, false]);
  });
});

describe('signalAt', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_700_000_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('aborts at the given deadline, not a millisecond earlier', () => {
    const signal = signalAt(Date.now() + 250);
    jest.advanceTimersByTime(249);
    expect(signal.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(InvocationBudgetExhausted);
    expect(signal.reason).toMatchObject({ budgetMs: 250, marginMs: 0 });
  });

  it('is aborted from the start when the deadline is now or past', () => {
    for (const deadline of [Date.now(), Date.now() - 5000]) {
      const signal = signalAt(deadline);
      expect(signal.aborted).toBe(true);
      expect((signal.reason as Error).message).toMatch(/^the invocation's time for KMS \(0 ms: .*TIMEOUT_MARGIN_MS=0\) ran out$/);
    }
  });
});

describe('InvocationTimers (the timers of one invocation, stopped when it ends)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_700_000_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('lets the signals made with it abort on time while the invocation runs', () => {
    const timers = new InvocationTimers();
    const budget = invocationBudget(remaining(3000), 1000, timers)!;
    const step = signalAt(Date.now() + 500, timers);
    jest.advanceTimersByTime(500);
    expect([budget.aborted, step.aborted]).toEqual([false, true]);
    jest.advanceTimersByTime(1500);
    expect(budget.aborted).toBe(true);
  });

  it('stops them all when the invocation ends: its signals never abort, and no timer is left to fire in a later invocation', () => {
    const timers = new InvocationTimers();
    const budget = invocationBudget(remaining(3000), 1000, timers)!;
    const step = signalAt(Date.now() + 500, timers);
    const others = new InvocationTimers();
    const anotherInvocation = signalAt(Date.now() + 500, others);
    expect(jest.getTimerCount()).toBe(3);
    timers.clear();
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(60_000);
    expect([budget.aborted, step.aborted, anotherInvocation.aborted]).toEqual([false, false, true]);
    timers.clear(); // again: nothing left to stop
    expect(jest.getTimerCount()).toBe(0);
  });

  it('forgets a timer once it has fired (a long warm instance holds none of its invocations\u2019 timers)', () => {
    const timers = new InvocationTimers();
    const spy = jest.spyOn(global, 'clearTimeout');
    try {
      signalAt(Date.now() + 10, timers);
      jest.advanceTimersByTime(10);
      timers.clear();
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});

describe('InvocationBudgetExhausted', () => {
  it('has its stable name and says how much time KMS had', () => {
    const reason = new InvocationBudgetExhausted(1500, 500);
    expect(reason).toBeInstanceOf(Error);
    expect(reason.name).toBe('InvocationBudgetExhausted');
    expect(reason.message).toBe("the invocation's time for KMS (1500 ms: the Lambda's remaining time minus TIMEOUT_MARGIN_MS=500) ran out");
  });
});

describe('signer handler when KMS stops answering', () => {
  let kms: LocalKms;
  const saved = { ...process.env };
  beforeAll(async () => {
    kms = await startLocalKms();
  });
  afterAll(async () => {
    process.env = saved;
    await kms.close();
  });
  afterEach(() => kms.faults.reset());

  /** A handler as deployed: the process-wide client built from the environment, here pointed at the local KMS. */
  async function deployedHandler(env: Record<string, string> = {}) {
    const { keyId } = await createSigningKey(localKmsClient(kms));
    process.env = {
      ...saved,
      AWS_ENDPOINT_URL_KMS: kms.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      KMS_KEY_ID: keyId,
      ETH_NETWORK: 'sepolia',
      LOG_LEVEL: 'SILENT',
      ...env,
    };
    return createHandler('eip1559');
  }
  const transaction = { to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', nonce: 0, gasLimit: 21000, maxFeePerGas: '2', maxPriorityFeePerGas: '1' };

  it('answers KmsUnavailableError before Lambda would time out, when a call hangs longer than the invocation', async () => {
    const handler = await deployedHandler({ KMS_REQUEST_TIMEOUT_MS: '600000', TIMEOUT_MARGIN_MS: '500' });
    kms.faults.set({ hang: 1 });
    const started = performance.now();
    const error = await rejectionOf(handler({ operation: 'status' }, lambdaContext('eth-signer-eip1559', 1500)));
    // Ended by the invocation's budget (1500 ms less the 500 ms margin), not by the client's 600 s timeout; how
    // soon after the budget the answer comes depends on the machine's load, so only the lower bound is asserted.
    expect(error).toMatchObject({ name: 'KmsUnavailableError', message: expect.stringMatching(/GetPublicKey.*time left for this invocation ran out.*retry/) });
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('stops the timers of its time budget when it answers, signed or refused: none fires in a later invocation', async () => {
    const handler = await deployedHandler();
    await handler({ operation: 'status' }, lambdaContext('eth-signer-eip1559', 60_000)); // started: the key is fetched
    // The budget's timers run for about the invocation's remaining time (here a minute); the SDK's own are shorter.
    const pending = new Set<unknown>();
    const realSetTimeout = global.setTimeout;
    const realClearTimeout = global.clearTimeout;
    const set = jest.spyOn(global, 'setTimeout').mockImplementation(((run: () => void, ms?: number) => {
      const timer = realSetTimeout(run, ms);
      if ((ms ?? 0) >= 30_000) pending.add(timer);
      return timer;
    }) as typeof setTimeout);
    const clear = jest.spyOn(global, 'clearTimeout').mockImplementation((timer) => {
      pending.delete(timer);
      realClearTimeout(timer);
    });
    try {
      await handler({ operation: 'sign', transaction }, lambdaContext('eth-signer-eip1559', 60_000));
      expect(set.mock.calls.filter(([, ms]) => (ms ?? 0) >= 30_000).length).toBeGreaterThanOrEqual(2); // the budget and the Sign step's deadline
      expect(pending.size).toBe(0);
      await rejectionOf(handler({ operation: 'sign', transaction: { ...transaction, chainId: 1 } }, lambdaContext('eth-signer-eip1559', 60_000)));
      expect(pending.size).toBe(0);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });

  it('keeps no hung GetPublicKey in the key cache: the next invocation looks the key up again and succeeds', async () => {
    const handler = await deployedHandler({ KMS_REQUEST_TIMEOUT_MS: '600000', TIMEOUT_MARGIN_MS: '500' });
    kms.faults.set({ hang: 1 });
    await expect(handler({ operation: 'status' }, lambdaContext('eth-signer-eip1559', 1000))).rejects.toMatchObject({ name: 'KmsUnavailableError' });
    await expect(handler({ operation: 'status' }, lambdaContext('eth-signer-eip1559', 60_000))).resolves.toMatchObject({ chainId: 11155111 });
  });

  it('answers KmsUnavailableError for a hung Sign, and signs on the next invocation', async () => {
    const handler = await deployedHandler({ KMS_REQUEST_TIMEOUT_MS: '600000', TIMEOUT_MARGIN_MS: '500' });
    await handler({ operation: 'status' }, lambdaContext('eth-signer-eip1559', 60_000));
    kms.faults.set({ hang: 1 });
    // Signing keeps 2 s of a 3 s invocation for the policy state's records: KMS gets 1 s.
    await expect(handler({ operation: 'sign', transaction }, lambdaContext('eth-signer-eip1559', 3000))).rejects.toMatchObject({
      name: 'KmsUnavailableError',
      message: expect.stringContaining('kms:Sign'),
    });
    await expect(handler({ operation: 'sign', transaction }, lambdaContext('eth-signer-eip1559', 60_000))).resolves.toHaveProperty('signedTransaction');
  });

  it("retries after KMS_REQUEST_TIMEOUT_MS and reports KmsUnavailableError after AWS_MAX_ATTEMPTS, even without a Lambda context", async () => {
    const handler = await deployedHandler({ KMS_REQUEST_TIMEOUT_MS: '300', AWS_MAX_ATTEMPTS: '2' });
    kms.faults.set({ hang: 5 });
    const error = await rejectionOf(handler({ operation: 'status' }));
    expect(error).toMatchObject({ name: 'KmsUnavailableError', message: expect.stringMatching(/within the KMS client's timeouts/) });
    expect(kms.faults.current().hang).toBe(3); // two attempts, each abandoned after 300 ms
  });

  // Whether the default timeouts hold for 200 concurrent invocations depends on how fast the machine signs: that
  // claim is measured by `npm run bench` (bench/network-model.ts). Here only what does not depend on speed: no
  // invocation's budget or signature is mixed up with another's (each gets its own transaction, signed once).
  it('signs 50 concurrent invocations on one warm instance, each its own transaction, by the key', async () => {
    const handler = await deployedHandler({ KMS_REQUEST_TIMEOUT_MS: '600000' });
    const { address } = (await handler({ operation: 'status' }, lambdaContext('eth-signer-eip1559', 600_000))) as { address: string };
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, nonce) => handler({ operation: 'sign', transaction: { ...transaction, nonce } }, lambdaContext('eth-signer-eip1559', 600_000))),
    );
    const signed = responses.map((response) => Transaction.from((response as { signedTransaction: string }).signedTransaction));
    expect(signed.map((tx) => tx.nonce)).toEqual(Array.from({ length: 50 }, (_, nonce) => nonce));
    expect(new Set(signed.map((tx) => tx.from))).toEqual(new Set([address]));
  });

  it('gives the release after a hung Sign only what is left of the invocation, not a call timeout of its own (issue 22 item 5)', async () => {
    const dynamo = await startLocalDynamoDb();
    const proxy = await startDynamoDbFaultProxy(dynamo.endpoint);
    const policyFile = writePolicyFile({ version: 1, limits: [{ name: 'daily', window: '24h', maxCount: 10 }], rules: [{ id: 'any', effect: 'allow' }] });
    const logged = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    try {
      const handler = await deployedHandler({
        SIGNING_POLICY_FILE: policyFile,
        POLICY_TABLE_NAME: dynamo.tableName,
        AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
        IDEMPOTENCY: 'off',
        POLICY_STATE_TIMEOUT_MS: '10000', // each DynamoDB call alone could take longer than the whole invocation
        KMS_REQUEST_TIMEOUT_MS: '600000',
        TIMEOUT_MARGIN_MS: '500',
      });
      await handler({ operation: 'status' }, lambdaContext('eth-signer-eip1559', 60_000));
      kms.faults.set({ hang: 1 });
      proxy.inject({ fault: 'hang-before', when: (call) => call.operation === 'UpdateItem' && String(call.input.UpdateExpression).includes('- :one') });
      const invocationMs = 4000;
      const error = await rejectionOf(handler({ operation: 'sign', transaction }, lambdaContext('eth-signer-eip1559', invocationMs)));
      expect(error).toMatchObject({ name: 'KmsUnavailableError' });
      expect(proxy.pending()).toEqual([]); // the release was sent, and hung
      const [message, releaseError] = logged.mock.calls.find(([text]) => text === 'could not release a spending reservation after signing failed') ?? [];
      expect(message).toBeDefined();
      const releaseMs = Number(/within (\d+) ms/.exec((releaseError as Error).message)?.[1]);
      // Given up by the invocation's end less TIMEOUT_MARGIN_MS, never after its own 10 s.
      expect(releaseMs).toBeGreaterThan(0);
      expect(releaseMs).toBeLessThanOrEqual(invocationMs - 500);
    } finally {
      logged.mockRestore();
      await proxy.close();
      await dynamo.close();
    }
  });

  it("lets a caller with time left look the key up again when the lookup it joined was abandoned by another caller's budget", async () => {
    const { keyId } = await createSigningKey(localKmsClient(kms));
    const client = localKmsClient(kms);
    const signer = new KmsSigner({ keyId, client });
    kms.faults.set({ hang: 1 });
    const short = signer.withSignal(AbortSignal.timeout(200)).getAddress();
    const long = signer.withSignal(AbortSignal.timeout(5000)).getAddress();
    await expect(short).rejects.toMatchObject({ name: 'KmsUnavailableError' });
    await expect(long).resolves.toMatch(/^0x[0-9a-fA-F]{40}$/);
    client.destroy();
  });
});
