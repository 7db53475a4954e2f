import { GetPublicKeyCommand, KMSClient, NotFoundException, SignCommand } from '@aws-sdk/client-kms';
import { Transaction } from 'ethers';
import type { Context } from 'aws-lambda';
import { createHandler } from '../../lambdas/handler';
import { KNOWN_KEYS } from '../fixtures/known-keys';
import { KEY_ARN, mockKms } from '../helpers/kms-mock';

const KEY = KNOWN_KEYS[0];
const TO = KNOWN_KEYS[1].address;
const transaction = { to: TO, value: '1000', nonce: 3, gasLimit: 21000, maxFeePerGas: '2000000000', maxPriorityFeePerGas: '1000000000' };
const context = { functionName: 'eth-signer-eip1559', awsRequestId: 'req-1' } as Context;
const ENV = { KMS_KEY_ID: 'alias/eth-signer', ETH_NETWORK: 'sepolia', LOG_LEVEL: 'SILENT' };

/** Runs the body with the given environment, restoring the real one after. */
async function withEnv<T>(env: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await body();
  } finally {
    process.env = saved;
  }
}

const newHandler = (kind: 'eip1559' | 'legacy' = 'eip1559') => createHandler(kind, { client: new KMSClient({ region: 'us-east-1' }) });

describe('signer handler', () => {
  it('answers status with the EIP-55 address, the key ARN and the chain id', async () => {
    mockKms(KEY.privateKey);
    const response = await withEnv(ENV, () => newHandler()({ operation: 'status' }, context));
    expect(response).toEqual({ address: KEY.address, keyId: KEY_ARN, chainId: 11155111 });
  });

  it('returns the signed transaction, its hash, the sender and r, s, v, yParity', async () => {
    mockKms(KEY.privateKey, 'high-s');
    const response = await withEnv(ENV, () => newHandler()({ operation: 'sign', transaction }, context));
    if (!('signedTransaction' in response)) throw new Error('expected a sign response');
    const parsed = Transaction.from(response.signedTransaction);
    expect(parsed.from).toBe(KEY.address);
    expect(response.from).toBe(KEY.address);
    expect(response.transactionHash).toBe(parsed.hash);
    expect(response.signature).toEqual({ r: parsed.signature!.r, s: parsed.signature!.s, v: parsed.signature!.yParity, yParity: parsed.signature!.yParity });
    expect(response.signature.r).toMatch(/^0x[0-9a-f]{64}$/);
    expect(response.signature.s).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('makes exactly one KMS call (Sign) per warm signature', async () => {
    const kms = mockKms(KEY.privateKey);
    const handler = newHandler();
    await withEnv(ENV, async () => {
      await handler({ operation: 'sign', transaction }, context);
      kms.resetHistory();
      for (let nonce = 4; nonce < 14; nonce++) await handler({ operation: 'sign', transaction: { ...transaction, nonce } }, context);
    });
    expect(kms.calls()).toHaveLength(10);
    expect(kms.commandCalls(SignCommand)).toHaveLength(10);
  });

  const badEvents: Array<[string, unknown]> = [
    ['no event', undefined],
    ['an array', []],
    ['an unknown operation', { operation: 'export_key' }],
    ['a transaction with a bad checksum', { operation: 'sign', transaction: { ...transaction, to: '0x70997970c51812dc3a010c7d01b50e0d17dc79C8' } }],
    ['a negative nonce', { operation: 'sign', transaction: { ...transaction, nonce: -1 } }],
    ['gasPrice on the EIP-1559 signer', { operation: 'sign', transaction: { ...transaction, gasPrice: 1 } }],
    ['another chain', { operation: 'sign', transaction: { ...transaction, chainId: 1 } }],
    ['an unknown field', { operation: 'sign', transaction: { ...transaction, gas: 21000 } }],
  ];
  it.each(badEvents)('fails %s with InvalidRequestError and makes no KMS call', async (_label, event) => {
    const kms = mockKms(KEY.privateKey);
    const failure = withEnv(ENV, () => newHandler()(event, context));
    await expect(failure).rejects.toMatchObject({ name: 'InvalidRequestError' });
    expect(kms.calls()).toHaveLength(0);
  });

  it('fails with ConfigurationError naming the variable when a setting is missing, and makes no KMS call', async () => {
    const kms = mockKms(KEY.privateKey);
    const failure = withEnv({ ...ENV, ETH_NETWORK: '' }, () => newHandler()({ operation: 'status' }, context));
    await expect(failure).rejects.toMatchObject({ name: 'ConfigurationError', message: expect.stringContaining('ETH_NETWORK') });
    expect(kms.calls()).toHaveLength(0);
  });

  it('gives callers an error type and message but no stack frames', async () => {
    mockKms(KEY.privateKey).on(GetPublicKeyCommand).rejects(new NotFoundException({ message: 'Alias not found', $metadata: {} }));
    const error = (await withEnv(ENV, () => newHandler()({ operation: 'status' }, context)).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('KmsKeyNotFoundError');
    expect(error.message).toMatch(/Check KMS_KEY_ID/);
    expect(error.stack).toBe(`KmsKeyNotFoundError: ${error.message}`);
    expect(error.cause).toBeInstanceOf(NotFoundException);
  });

  it('hides unexpected failures behind InternalSignerError', async () => {
    mockKms(KEY.privateKey).on(GetPublicKeyCommand).resolves(undefined as never);
    const error = (await withEnv(ENV, () => newHandler()({ operation: 'status' }, context)).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('InternalSignerError');
    expect(error.stack).not.toMatch(/\bat /);
  });

  describe('logging', () => {
    // Powertools writes INFO lines to stdout and WARN/ERROR lines to stderr.
    let lines: string[];
    let spies: jest.SpyInstance[];
    beforeEach(() => {
      lines = [];
      spies = [process.stdout, process.stderr].map((stream) =>
        jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
          lines.push(String(chunk));
          return true;
        }),
      );
    });
    afterEach(() => spies.forEach((spy) => spy.mockRestore()));

    it('writes one structured line per signature with the chosen fields, and never the data or the event', async () => {
      mockKms(KEY.privateKey);
      const data = '0x' + 'de'.repeat(100);
      await withEnv({ ...ENV, LOG_LEVEL: 'INFO' }, () => newHandler()({ operation: 'sign', transaction: { ...transaction, data } }, context));
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const signed = entries.filter((entry) => entry.message === 'transaction signed');
      expect(signed).toHaveLength(1);
      expect(signed[0]).toMatchObject({
        keyId: 'alias/eth-signer',
        chainId: 11155111,
        address: KEY.address,
        nonce: 3,
        to: TO,
        value: '1000',
        dataLength: 100,
        transactionHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
        kmsLatencyMs: expect.any(Number),
      });
      expect(lines.join('')).not.toContain('dede');
      expect(lines.join('')).not.toContain(KEY.privateKey.slice(2));
    });

    it('warns when it signs a pre-EIP-155 transaction', async () => {
      mockKms(KEY.privateKey);
      const legacy = { to: TO, nonce: 0, gasLimit: 21000, gasPrice: 1 };
      await withEnv({ ...ENV, LOG_LEVEL: 'INFO' }, () => newHandler('legacy')({ operation: 'sign', transaction: legacy, replayProtection: false }, context));
      expect(lines.some((line) => /"level":"WARN".*valid on every chain/.test(line))).toBe(true);
    });
  });
});
