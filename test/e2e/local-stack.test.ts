// End to end: the signer handlers -> the real AWS SDK over HTTP -> the local KMS -> anvil, which must mine
// every transaction from the KMS key's address. Nothing here is mocked.
import { setMaxListeners } from 'node:events';
import { CreateKeyCommand, DisableKeyCommand } from '@aws-sdk/client-kms';
import { getCreateAddress, parseEther, Transaction, Wallet } from 'ethers';
import { createHandler, type SignerHandler } from '../../lambdas/handler';
import type { SignResponse } from '../../lambdas/operations/response';
import { DEV_ACCOUNTS, waitForReceipt } from '../../scripts/local-chain';
import { lambdaContext } from '../../scripts/local-stack/lambda-context';
import { untilAborted } from '../../lambdas/signer/abort';
import { createSigningKey, startLocalStack, type LocalStack } from '../../scripts/local-stack/stack';
import { localKmsClient } from '../../scripts/local-kms';
import { resolve } from 'node:path';
import type { KMSClient } from '@aws-sdk/client-kms';

const RECIPIENT = DEV_ACCOUNTS[1].address;
// Init code that deploys a contract whose runtime code is the single byte 0x00 (STOP).
const INIT_CODE = '0x600180600b6000396000f300'; // CODECOPY(0, 11, 1); RETURN(0, 1); then the runtime byte

describe('signer handlers on the local stack (SDK over HTTP to the local KMS, anvil)', () => {
  let stack: LocalStack;
  let keyId: string;
  let address: string;
  let nonce: number;
  let gasPrice: bigint;
  const handlers: Partial<Record<'eip1559' | 'legacy', SignerHandler>> = {};

  /** A handler for a key, configured from the environment on its first invocation, as on Lambda. */
  function handlerFor(kind: 'eip1559' | 'legacy', kmsKeyId: string): SignerHandler {
    const handler = createHandler(kind, { client: stack.kmsClient });
    return async (event, context) => {
      Object.assign(process.env, { KMS_KEY_ID: kmsKeyId, ETH_NETWORK: String(stack.anvil.chainId), LOG_LEVEL: 'SILENT', ALLOW_PRE_EIP155: 'true' });
      return handler(event, context ?? lambdaContext(`eth-signer-${kind}`));
    };
  }

  const fees = () => ({ maxFeePerGas: String(gasPrice * 2n), maxPriorityFeePerGas: String(gasPrice / 10n + 1n) });
  async function sign(kind: 'eip1559' | 'legacy', transaction: Record<string, unknown>, extra: Record<string, unknown> = {}, signal?: AbortSignal): Promise<SignResponse> {
    signal?.throwIfAborted();
    const fee = kind === 'eip1559' ? fees() : { gasPrice: String(gasPrice) };
    return (await untilAborted(handlers[kind]!({ operation: 'sign', transaction: { gasLimit: 21000, ...fee, ...transaction }, ...extra }), signal)) as SignResponse;
  }
  async function mine(signed: SignResponse, signal?: AbortSignal) {
    signal?.throwIfAborted();
    const hash = (await untilAborted(stack.anvil.provider.broadcastTransaction(signed.signedTransaction), signal)).hash;
    return untilAborted(waitForReceipt(stack.anvil.provider, hash, { signal }), signal);
  }

  /**
   * A long test whose loop stops when its time is up: the signal aborts 5 s before Jest's timeout, so the test
   * fails on its own and leaves no signing or mining running into the next tests.
   */
  function longTest(name: string, body: (signal: AbortSignal) => Promise<void>, timeoutMs: number) {
    it(
      name,
      async () => {
        const controller = new AbortController();
        setMaxListeners(100, controller.signal); // 50 concurrent signatures each wait on it
        const timer = setTimeout(() => controller.abort(new Error(`"${name}" ran out of time after ${timeoutMs - 5000} ms`)), timeoutMs - 5000);
        try {
          await body(controller.signal);
        } finally {
          clearTimeout(timer);
          controller.abort();
        }
      },
      timeoutMs,
    );
  }

  beforeAll(async () => {
    stack = await startLocalStack();
    ({ keyId } = await createSigningKey(stack.kmsClient, 'alias/e2e'));
    handlers.eip1559 = handlerFor('eip1559', 'alias/e2e');
    handlers.legacy = handlerFor('legacy', 'alias/e2e');
    const status = await handlers.eip1559({ operation: 'status' });
    address = (status as { address: string }).address;
    const funder = new Wallet(DEV_ACCOUNTS[0].privateKey, stack.anvil.provider);
    await waitForReceipt(stack.anvil.provider, (await funder.sendTransaction({ to: address, value: parseEther('100') })).hash);
    gasPrice = (await stack.anvil.provider.getFeeData()).gasPrice ?? 10n ** 9n;
  });
  // From the chain, not a counter: a test that failed half-way must not leave the next one a nonce gap.
  beforeEach(async () => {
    nonce = await stack.anvil.provider.getTransactionCount(address);
  });
  afterAll(() => stack.close());

  it('reports the address of the KMS key, identical from both Lambdas', async () => {
    expect(await handlers.legacy!({ operation: 'status' })).toEqual({ address, keyId: expect.stringContaining(keyId), chainId: 31337 });
  });

  it.each([
    ['an EIP-1559 transfer', 'eip1559', {}, {}, 2],
    ['an EIP-1559 transfer with an access list', 'eip1559', { accessList: [{ address: RECIPIENT, storageKeys: [`0x${'00'.repeat(32)}`] }], gasLimit: 30000 }, {}, 2],
    ['a legacy EIP-155 transfer', 'legacy', {}, {}, 0],
    ['an EIP-2930 transfer', 'legacy', { accessList: [], gasLimit: 21000 }, {}, 1],
    ['a pre-EIP-155 legacy transfer', 'legacy', {}, { replayProtection: false }, 0],
  ] as const)('gets %s mined from the KMS address', async (_label, kind, fields, extra, type) => {
    const signed = await sign(kind, { to: RECIPIENT, value: '1000', nonce: nonce++, ...fields }, extra);
    const receipt = await mine(signed);
    expect(receipt.status).toBe(1);
    expect(receipt.from).toBe(address);
    expect(receipt.hash).toBe(signed.transactionHash);
    expect(Transaction.from(signed.signedTransaction).type).toBe(type);
  });

  it('deploys a contract (no to, init code as data)', async () => {
    const deployer = nonce++;
    const receipt = await mine(await sign('eip1559', { data: INIT_CODE, nonce: deployer, gasLimit: 100000 }));
    expect(receipt.contractAddress).toBe(getCreateAddress({ from: address, nonce: deployer }));
    expect(await stack.anvil.provider.getCode(receipt.contractAddress!)).toBe('0x00');
  });

  longTest('signs 200 transactions in sequence, and anvil mines every one', async (signal) => {
    const first = nonce;
    const signed: SignResponse[] = [];
    for (let i = 0; i < 200; i++) signed.push(await sign(i % 2 === 0 ? 'eip1559' : 'legacy', { to: RECIPIENT, value: String(i + 1), nonce: nonce++ }, {}, signal));
    const receipts = [];
    for (const transaction of signed) receipts.push(await mine(transaction, signal));
    expect(receipts.every((receipt) => receipt.status === 1 && receipt.from === address)).toBe(true);
    expect(await stack.anvil.provider.getTransactionCount(address)).toBe(first + 200);
  }, 120_000);

  longTest('signs 50 transactions concurrently, and anvil mines every one', async (signal) => {
    const first = nonce;
    const signed = await Promise.all(Array.from({ length: 50 }, (_, i) => sign('eip1559', { to: RECIPIENT, value: '1', nonce: first + i }, {}, signal)));
    expect(new Set(signed.map((s) => s.transactionHash)).size).toBe(50);
    for (const transaction of signed) expect((await mine(transaction, signal)).from).toBe(address);
    expect(await stack.anvil.provider.getTransactionCount(address)).toBe(first + 50);
  }, 120_000);

  describe('faults', () => {
    afterEach(() => stack.kms.faults.reset());

    longTest("absorbs a throttled call and an HTTP 500 with the SDK's retries", async (signal) => {
      stack.kms.faults.set({ throttle: 1, internalError: 1 });
      const receipt = await mine(await sign('eip1559', { to: RECIPIENT, value: '1', nonce: nonce++ }, {}, signal), signal);
      expect(receipt.from).toBe(address);
    }, 30_000);

    it('surfaces throttling that outlasts the retries as KmsThrottledError', async () => {
      stack.kms.faults.set({ throttle: 10 });
      await expect(sign('eip1559', { to: RECIPIENT, value: '1', nonce })).rejects.toMatchObject({ name: 'KmsThrottledError', message: expect.stringMatching(/after 3 attempt/) });
    });

    it('refuses a corrupted signature from KMS (fail closed) and returns nothing', async () => {
      stack.kms.faults.set({ corruptSignature: 1 });
      await expect(sign('eip1559', { to: RECIPIENT, value: '1', nonce })).rejects.toMatchObject({ name: 'SignatureRecoveryError' });
    });

    it('reports a disabled key as KmsKeyDisabledError', async () => {
      const disabled = await createSigningKey(stack.kmsClient);
      await stack.kmsClient.send(new DisableKeyCommand({ KeyId: disabled.keyId }));
      await expect(handlerFor('eip1559', disabled.keyId)({ operation: 'status' })).rejects.toMatchObject({ name: 'KmsKeyDisabledError' });
    });

    it('reports a key pending import as KmsKeyStateError', async () => {
      const { KeyMetadata } = await stack.kmsClient.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' }));
      await expect(handlerFor('legacy', KeyMetadata!.KeyId!)({ operation: 'status' })).rejects.toMatchObject({ name: 'KmsKeyStateError' });
    });

    it('reports a key of the wrong spec (ECC_NIST_P256) as KmsKeyUsageError', async () => {
      const { KeyMetadata } = await stack.kmsClient.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
      await expect(handlerFor('eip1559', KeyMetadata!.KeyId!)({ operation: 'status' })).rejects.toMatchObject({ name: 'KmsKeyUsageError' });
    });

    it('reports an unknown key as KmsKeyNotFoundError', async () => {
      await expect(handlerFor('eip1559', 'alias/does-not-exist')({ operation: 'status' })).rejects.toMatchObject({ name: 'KmsKeyNotFoundError' });
    });
  });

  describe('with a signing policy (examples/policies/local-demo.json)', () => {
    const POLICY = resolve('examples/policies/local-demo.json');
    let client: KMSClient;
    let kmsRequests: string[];
    let policed: Record<'eip1559' | 'legacy', SignerHandler>;
    // Its own key and nonces, so that a failure above (a nonce gap anvil would wait on) cannot stall these tests.
    let policyAddress: string;
    let policyNonce = 0;

    beforeAll(async () => {
      await createSigningKey(stack.kmsClient, 'alias/e2e-policy');
      // Its own SDK client, whose every request to the local KMS is counted on the wire side of the SDK.
      client = localKmsClient(stack.kms);
      kmsRequests = [];
      client.middlewareStack.add((next, context) => async (args) => {
        kmsRequests.push(String(context.commandName));
        return next(args);
      }, { step: 'finalizeRequest', name: 'countKmsRequests' });
      const make = (kind: 'eip1559' | 'legacy'): SignerHandler => {
        const handler = createHandler(kind, { client });
        return (event) => {
          Object.assign(process.env, { KMS_KEY_ID: 'alias/e2e-policy', ETH_NETWORK: String(stack.anvil.chainId), LOG_LEVEL: 'SILENT', SIGNING_POLICY_FILE: POLICY });
          return handler(event, lambdaContext(`eth-signer-${kind}`)).finally(() => {
            process.env.SIGNING_POLICY_FILE = 'examples/policies/allow-all.json';
          });
        };
      };
      policed = { eip1559: make('eip1559'), legacy: make('legacy') };
      policyAddress = ((await policed.eip1559({ operation: 'status' })) as { address: string }).address;
      const funder = new Wallet(DEV_ACCOUNTS[2].privateKey, stack.anvil.provider);
      await (await funder.sendTransaction({ to: policyAddress, value: parseEther('10') })).wait();
    });
    afterAll(() => client.destroy());

    const event = (kind: 'eip1559' | 'legacy', transaction: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      operation: 'sign',
      transaction: { gasLimit: 21000, ...(kind === 'eip1559' ? fees() : { gasPrice: String(gasPrice) }), ...transaction },
      ...extra,
    });

    it.each(['eip1559', 'legacy'] as const)('signs an allowed transfer with the %s signer, and anvil mines it', async (kind) => {
      kmsRequests.length = 0;
      const signed = (await policed[kind](event(kind, { to: RECIPIENT, value: parseEther('0.05').toString(), nonce: policyNonce++ }))) as SignResponse;
      const receipt = await mine(signed);
      expect(receipt.status).toBe(1);
      expect(receipt.from).toBe(policyAddress);
      expect(kmsRequests).toContain('SignCommand');
    });

    it.each([
      ['a transfer above the cap', 'eip1559', { to: RECIPIENT, value: (parseEther('0.05') + 1n).toString() }, {}],
      ['a transfer to another address', 'eip1559', { to: DEV_ACCOUNTS[2].address, value: '1' }, {}],
      ['a contract deployment', 'eip1559', { data: INIT_CODE, gasLimit: 100000 }, {}],
      ['a pre-EIP-155 signature', 'legacy', { to: RECIPIENT, value: '1' }, { replayProtection: false }],
      ['an unlimited approve (explicit deny)', 'eip1559', { to: RECIPIENT, data: `0x095ea7b3${'00'.repeat(12)}${RECIPIENT.slice(2).toLowerCase()}${'ff'.repeat(32)}`, gasLimit: 60000 }, {}],
    ] as const)('refuses %s with PolicyDeniedError and makes no KMS request', async (_label, kind, transaction, extra) => {
      await policed[kind]({ operation: 'status' }); // warm: the address is cached, as on a warm Lambda
      kmsRequests.length = 0;
      await expect(policed[kind](event(kind, { ...transaction, nonce: policyNonce }, extra))).rejects.toMatchObject({ name: 'PolicyDeniedError' });
      expect(kmsRequests).toEqual([]);
    });

    it('makes no KMS request on a cold start that denies', async () => {
      kmsRequests.length = 0;
      const cold = createHandler('eip1559', { client });
      Object.assign(process.env, { SIGNING_POLICY_FILE: POLICY, LOG_LEVEL: 'SILENT' });
      try {
        await expect(cold(event('eip1559', { to: RECIPIENT, value: parseEther('1').toString(), nonce: policyNonce }), lambdaContext('eth-signer-eip1559'))).rejects.toMatchObject({ name: 'PolicyDeniedError' });
      } finally {
        process.env.SIGNING_POLICY_FILE = 'examples/policies/allow-all.json';
      }
      expect(kmsRequests).toEqual([]);
    });

    it('answers check without signing', async () => {
      kmsRequests.length = 0;
      const response = await policed.eip1559({ ...event('eip1559', { to: RECIPIENT, value: '1', nonce: policyNonce }), operation: 'check' });
      expect(response).toEqual({ allowed: true, ruleId: 'small-transfers-to-dev-account-1', charges: [] });
      expect(kmsRequests).toEqual([]);
    });
  });
});
