// The handler's start at init (StartOptions.atInit, initialized): what Lambda's INIT phase does before the first
// event, and that a start failing there is reported, or made again, by the first invocation.
import { GetPublicKeyCommand, KMSClient, KMSInternalException, SignCommand } from '@aws-sdk/client-kms';
import { Transaction } from 'ethers';
import type { Context } from 'aws-lambda';
import { createHandler, initialized } from '../../lambdas/handler';
import { SIGNER_NODE_OPTIONS } from '../../lambdas/runtime/config';
import { KNOWN_KEYS } from '../fixtures/known-keys';
import { mockKms, publicKeyResponse } from '../helpers/kms-mock';
import { rejectionOf } from '../helpers/rejection';
import { captureOutputPerTest } from '../helpers/captured-output';

const KEY = KNOWN_KEYS[0];
const transaction = { to: KNOWN_KEYS[1].address, value: '1000', nonce: 3, gasLimit: 21000, maxFeePerGas: '2000000000', maxPriorityFeePerGas: '1000000000' };
const context = { functionName: 'eth-signer-eip1559', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
// In Lambda as the stack deploys it: the start-up self-check of lambdas/runtime/config.ts passes.
const IN_LAMBDA = { AWS_LAMBDA_FUNCTION_NAME: 'eth-signer-eip1559', NODE_OPTIONS: SIGNER_NODE_OPTIONS, POWERTOOLS_METRICS_DISABLED: undefined, KMS_KEY_ID: 'alias/eth-signer', ETH_NETWORK: 'sepolia', LOG_LEVEL: 'SILENT' };

/** Runs the body with these variables set (undefined: removed), restoring the real environment after. */
async function withEnv<T>(env: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    return await body();
  } finally {
    process.env = saved;
  }
}

const atInit = () => createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }) }, { atInit: true });
const signed = (response: unknown) => {
  if (typeof response !== 'object' || response === null || !('signedTransaction' in response)) throw new Error('expected a sign response');
  return Transaction.from(response.signedTransaction as string);
};

describe('a handler started at init', () => {
  captureOutputPerTest([process.stdout, process.stderr]); // the EMF metrics lines of a deployed function

  it('fetches the public key during init, so that the first invocation makes only the Sign call', async () => {
    const kms = mockKms(KEY.privateKey);
    await withEnv(IN_LAMBDA, async () => {
      const handler = atInit();
      await initialized(handler);
      expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
      expect(kms.commandCalls(SignCommand)).toHaveLength(0);

      expect(signed(await handler({ operation: 'sign', transaction }, context)).from).toBe(KEY.address);
      expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
      expect(kms.commandCalls(SignCommand)).toHaveLength(1);
    });
  });

  it('starts nothing outside Lambda (AWS_LAMBDA_FUNCTION_NAME unset): importing the module makes no call', async () => {
    const kms = mockKms(KEY.privateKey);
    await withEnv({ ...IN_LAMBDA, AWS_LAMBDA_FUNCTION_NAME: undefined }, async () => {
      const handler = atInit();
      await initialized(handler);
      expect(kms.calls()).toHaveLength(0);
      expect(signed(await handler({ operation: 'sign', transaction }, context)).from).toBe(KEY.address);
    });
  });

  it('makes no KMS call when KMS_KEY_ID is unset, reports the ConfigurationError on the first invocation, and starts again once it is set', async () => {
    const kms = mockKms(KEY.privateKey);
    await withEnv({ ...IN_LAMBDA, KMS_KEY_ID: undefined }, async () => {
      const handler = atInit();
      await initialized(handler);
      expect(kms.calls()).toHaveLength(0);

      const error = await rejectionOf(handler({ operation: 'sign', transaction }, context));
      expect(error.name).toBe('ConfigurationError');
      expect(error.message).toContain('KMS_KEY_ID is not set');
      expect(kms.calls()).toHaveLength(0);

      process.env.KMS_KEY_ID = 'alias/eth-signer'; // nothing was kept from the failed start
      expect(signed(await handler({ operation: 'sign', transaction }, context)).from).toBe(KEY.address);
    });
  });

  it('reports a bad setting on the first invocation as the ConfigurationError naming it, never at init', async () => {
    mockKms(KEY.privateKey);
    await withEnv({ ...IN_LAMBDA, ETH_NETWORK: 'not-a-chain' }, async () => {
      const handler = atInit();
      await expect(initialized(handler)).resolves.toBeUndefined();
      const error = await rejectionOf(handler({ operation: 'status' }, context));
      expect(error.name).toBe('ConfigurationError');
      expect(error.message).toContain('ETH_NETWORK "not-a-chain"');
    });
  });

  it('looks the key up again on the first invocation when GetPublicKey failed at init, and signs', async () => {
    const kms = mockKms(KEY.privateKey);
    kms.on(GetPublicKeyCommand).rejectsOnce(new KMSInternalException({ message: 'internal failure', $metadata: {} })).resolves(publicKeyResponse(KEY.privateKey));
    await withEnv(IN_LAMBDA, async () => {
      const handler = atInit();
      await initialized(handler);
      expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);

      expect(signed(await handler({ operation: 'sign', transaction }, context)).from).toBe(KEY.address);
      expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
      expect(kms.commandCalls(SignCommand)).toHaveLength(1);
    });
  });

  it('stops waiting after maxWaitMs while GetPublicKey is still on the wire; the first invocation joins that lookup', async () => {
    const kms = mockKms(KEY.privateKey);
    let answer: (value: ReturnType<typeof publicKeyResponse>) => void = () => undefined;
    kms.on(GetPublicKeyCommand).callsFake(() => new Promise((resolve) => (answer = resolve)));
    await withEnv(IN_LAMBDA, async () => {
      const handler = atInit();
      await initialized(handler, 20);
      expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);

      const invocation = handler({ operation: 'sign', transaction }, context);
      answer(publicKeyResponse(KEY.privateKey));
      expect(signed(await invocation).from).toBe(KEY.address);
      expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
    });
  });

  it('is not waited for when the handler was built to start on its first invocation', async () => {
    const kms = mockKms(KEY.privateKey);
    await withEnv(IN_LAMBDA, async () => {
      const handler = createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }) });
      await initialized(handler);
      expect(kms.calls()).toHaveLength(0);
    });
  });
});
