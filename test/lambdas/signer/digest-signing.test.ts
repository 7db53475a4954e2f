import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { recoverAddress } from 'ethers';
import { InvalidDigestError, signDigest, yieldToNetwork } from '../../../lambdas/signer/digest-signing';
import { recoveryTablesReady } from '../../../lambdas/signer/signature';
import { fetchKmsKey } from '../../../lambdas/signer/kms-key';
import { freshModule } from '../../helpers/fresh-module';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { derSign, mockKms } from '../../helpers/kms-mock';

const KEY = KNOWN_KEYS[0];

describe('signDigest', () => {
  afterEach(() => jest.restoreAllMocks());

  async function request(digest: string) {
    const client = new KMSClient({ region: 'us-east-1' });
    return { client, keyId: 'alias/eth-signer', key: await fetchKmsKey(client, 'alias/eth-signer'), digest };
  }

  it('returns plain r, s (32 bytes each, low s) and the parity that recovers to the key, with the KMS latency', async () => {
    mockKms(KEY.privateKey, 'high-s');
    const digest = `0x${'5a'.repeat(32)}`;
    const { signature, kmsLatencyMs } = await signDigest(await request(digest));
    expect(signature.r).toMatch(/^0x[0-9a-f]{64}$/);
    expect(BigInt(signature.s) <= 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n).toBe(true);
    expect(recoverAddress(digest, signature)).toBe(KEY.address);
    expect(kmsLatencyMs).toBeGreaterThanOrEqual(0);
  });

  it('reports as KMS latency no more than the time the whole call took', async () => {
    mockKms(KEY.privateKey);
    const signing = await request(`0x${'5b'.repeat(32)}`);
    const before = performance.now();
    const { kmsLatencyMs } = await signDigest(signing);
    expect(kmsLatencyMs).toBeLessThanOrEqual(performance.now() - before);
  });

  it("builds the recovery check's tables for a key at its first signature", async () => {
    mockKms(KNOWN_KEYS[2].privateKey);
    const client = new KMSClient({ region: 'us-east-1' });
    const key = await fetchKmsKey(client, 'alias/eth-signer');
    expect(recoveryTablesReady(key.publicKey)).toBe(false);
    await signDigest({ client, keyId: 'alias/eth-signer', key, digest: `0x${'5c'.repeat(32)}` });
    expect(recoveryTablesReady(key.publicKey)).toBe(true);
  });

  it.each([
    ['not hex', 'hello', 'The digest to sign is not 0x-prefixed hex; it must be exactly 32 bytes (a keccak256 hash).'],
    ['hex after other text', `zz0x${'ab'.repeat(32)}`, 'The digest to sign is not 0x-prefixed hex; it must be exactly 32 bytes (a keccak256 hash).'],
    ['odd-length hex', `0x${'a'.repeat(63)}`, 'The digest to sign is not 0x-prefixed hex; it must be exactly 32 bytes (a keccak256 hash).'],
    ['20 bytes', `0x${'ab'.repeat(20)}`, 'The digest to sign is 20 bytes; it must be exactly 32 (a keccak256 hash).'],
  ])('refuses a digest that is %s, without calling KMS Sign', async (_case, digest, message) => {
    const kms = mockKms(KEY.privateKey);
    const signing = signDigest(await request(digest));
    await expect(signing).rejects.toThrow(InvalidDigestError);
    await expect(signing).rejects.toThrow(message);
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });

  it("checks a process's first signature without building the recovery tables (a cold start), and builds them during the next Sign", async () => {
    // A fresh process: its own digest-signing and signature modules.
    const { signDigest: freshSignDigest, recoveryTablesReady: freshTablesReady } = freshModule(() => ({
      ...(require('../../../lambdas/signer/digest-signing') as typeof import('../../../lambdas/signer/digest-signing')),
      ...(require('../../../lambdas/signer/signature') as typeof import('../../../lambdas/signer/signature')),
    }));
    // A client whose Sign answers as KMS would (the fresh modules have their own SDK classes for a class-level mock).
    mockKms(KEY.privateKey);
    const key = await fetchKmsKey(new KMSClient({ region: 'us-east-1' }), 'alias/eth-signer');
    const client = { send: async ({ input }: SignCommand) => ({ Signature: derSign(input.Message as Uint8Array, KEY.privateKey, 'high-s') }) } as unknown as KMSClient;
    const first = { client, keyId: 'alias/eth-signer', key, digest: `0x${'01'.repeat(32)}` };
    const { signature } = await freshSignDigest(first);
    expect(recoverAddress(first.digest, signature)).toBe(KEY.address);
    expect(freshTablesReady(first.key.publicKey)).toBe(false);
    const second = { ...first, digest: `0x${'02'.repeat(32)}` };
    const { signature: next } = await freshSignDigest(second);
    expect(recoverAddress(second.digest, next)).toBe(KEY.address);
    expect(freshTablesReady(first.key.publicKey)).toBe(true);
  });
});

describe('yieldToNetwork', () => {
  it('resolves only after the callbacks already queued for the event loop have run', async () => {
    let ran = false;
    setImmediate(() => (ran = true));
    await yieldToNetwork();
    expect(ran).toBe(true);
  });
});
