import { captureOutputPerTest } from '../../helpers/captured-output';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { getAddress, getBytes, hashMessage, hexlify, parseEther, Signature, verifyAuthorization, verifyMessage, verifyTypedData } from 'ethers';
import { verifyMessage as viemVerifyMessage } from 'viem';
import { recoverPersonalSignature } from '@metamask/eth-sig-util';
import { safeTx, safeTxHash, safeTxSignRequest } from '../../../safe/safe-tx';
import type { SpendingReserver } from '../../../lambdas/operations/policy-gate';
import type { SpendCharge } from '../../../lambdas/policy';
import { createHandler } from '../../../lambdas/handler';
import { MessagePolicyDeniedError } from '../../../lambdas/operations/message-operation';
import type { MessageSignResponse } from '../../../lambdas/operations/message-signing';
import type { MessagesDocument } from '../../../lambdas/policy/message-policy';
import { EIP191_HASHES, WEB3_SIGN_VECTOR } from '../../fixtures/eip191';
import { MAIL, MAIL_VECTOR } from '../../fixtures/eip712-mail';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { derSign, KEY_ARN, mockKms } from '../../helpers/kms-mock';

const context = { functionName: 'eth-signer-eip1559', awsRequestId: 'req-1' } as Context;
const ENV = { KMS_KEY_ID: 'alias/eth-signer', ETH_NETWORK: 'mainnet', LOG_LEVEL: 'SILENT' };
const DELEGATE = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const ALLOW_ALL: MessagesDocument = {
  signMessage: { allow: true },
  signTypedData: [{ id: 'mail', primaryType: 'Mail' }],
  signAuthorization: { delegates: [DELEGATE], allowAnyChain: true },
};
let directory: string;
let policyFile: string;
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'message-policy-'));
  policyFile = join(directory, 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ version: 1, rules: [{ id: 'no-transactions', effect: 'deny' }], messages: ALLOW_ALL }));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const { EIP712Domain: _domain, ...MAIL_TYPES } = MAIL.types;

/** Invokes a fresh handler; `policy: null` runs it with examples/policies/allow-all.json, which has no messages section. */
async function invoke(event: unknown, { policy = 'messages' as 'messages' | null, kind = 'eip1559' as 'eip1559' | 'legacy', logLevel = 'SILENT' } = {}): Promise<MessageSignResponse> {
  const saved = { ...process.env };
  Object.assign(process.env, ENV, { SIGNING_POLICY_FILE: policy ? policyFile : 'examples/policies/allow-all.json', LOG_LEVEL: logLevel });
  try {
    const handler = createHandler(kind, { client: new KMSClient({ region: 'us-east-1' }) });
    return (await handler(event, context)) as MessageSignResponse;
  } finally {
    process.env = saved;
  }
}

describe('message operations through the signer handler', () => {
  it("signs EIP-712's Mail example byte-exactly: digest, r, s, v of the published vector", async () => {
    mockKms(MAIL_VECTOR.privateKey, 'rfc6979');
    const response = await invoke({ operation: 'signTypedData', ...MAIL });
    expect(response).toEqual({
      signature: Signature.from({ r: MAIL_VECTOR.r, s: MAIL_VECTOR.s, v: MAIL_VECTOR.v }).serialized,
      r: MAIL_VECTOR.r,
      s: MAIL_VECTOR.s,
      v: MAIL_VECTOR.v,
      yParity: 1,
      digest: MAIL_VECTOR.digest,
      address: MAIL_VECTOR.address,
    });
    expect(verifyTypedData(MAIL.domain, MAIL_TYPES, MAIL.message, response.signature)).toBe(MAIL_VECTOR.address);
  });

  it("signs web3.js's EIP-191 example byte-exactly, from both Lambdas", async () => {
    mockKms(WEB3_SIGN_VECTOR.privateKey, 'rfc6979');
    for (const kind of ['eip1559', 'legacy'] as const) {
      const response = await invoke({ operation: 'signMessage', message: WEB3_SIGN_VECTOR.message }, { kind });
      expect(response).toMatchObject({ signature: WEB3_SIGN_VECTOR.signature, digest: WEB3_SIGN_VECTOR.messageHash, v: 28, yParity: 1, address: WEB3_SIGN_VECTOR.address });
    }
  });

  it.each(EIP191_HASHES)('signs the EIP-191 digest of $message ($encoding)', async ({ message, encoding, hash }) => {
    mockKms(KNOWN_KEYS[0].privateKey, 'high-s');
    const response = await invoke({ operation: 'signMessage', message, encoding });
    expect(response.digest).toBe(hash);
    expect(verifyMessage(message.startsWith('0x') ? Buffer.from(message.slice(2), 'hex') : message, response.signature)).toBe(KNOWN_KEYS[0].address);
    expect(BigInt(response.s)).toBeLessThanOrEqual(2n ** 255n); // low s even when KMS returns a high s
  });

  it('signs an EIP-7702 authorization (nonce 2^64-2, chain id 0) that recovers to the KMS address', async () => {
    mockKms(KNOWN_KEYS[0].privateKey, 'high-s');
    const response = await invoke({ operation: 'signAuthorization', address: DELEGATE, nonce: '18446744073709551614', chainId: 0 });
    expect(response.authorization).toEqual({ chainId: '0', address: DELEGATE, nonce: '18446744073709551614', yParity: response.yParity, r: response.r, s: response.s });
    const auth = { address: DELEGATE, nonce: 2n ** 64n - 2n, chainId: 0n };
    expect(verifyAuthorization(auth, response.signature)).toBe(KNOWN_KEYS[0].address);
    expect(response.address).toBe(KNOWN_KEYS[0].address);
  });

  it('for random messages and authorizations, returns low-s signatures that recover to the KMS address (property)', async () => {
    mockKms(KNOWN_KEYS[0].privateKey, 'random');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 200 }).filter((t) => !/[\uD800-\uDFFF]/.test(t)), fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => hexlify(bytes))),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 2n }),
        async (message, nonce) => {
          const signed = await invoke({ operation: 'signMessage', message, encoding: message.startsWith('0x') && message.length > 2 ? 'hex' : 'utf8' });
          const bytes = message.startsWith('0x') && message.length > 2 ? Buffer.from(message.slice(2), 'hex') : message;
          expect(verifyMessage(bytes, signed.signature)).toBe(KNOWN_KEYS[0].address);
          expect(BigInt(signed.s)).toBeLessThanOrEqual(2n ** 255n);
          const authorized = await invoke({ operation: 'signAuthorization', address: DELEGATE, nonce: nonce.toString() });
          expect(verifyAuthorization({ address: DELEGATE, nonce, chainId: 1n }, authorized.signature)).toBe(KNOWN_KEYS[0].address);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('calls KMS once per warm signature', async () => {
    const kms = mockKms(KNOWN_KEYS[0].privateKey);
    const saved = { ...process.env };
    Object.assign(process.env, ENV, { SIGNING_POLICY_FILE: policyFile });
    try {
      const handler = createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }) });
      await handler({ operation: 'signMessage', message: 'warm up' }, context);
      kms.resetHistory();
      await handler({ operation: 'signMessage', message: 'one' }, context);
      await handler({ operation: 'signTypedData', ...MAIL }, context);
      await handler({ operation: 'signAuthorization', address: DELEGATE, nonce: 1 }, context);
    } finally {
      process.env = saved;
    }
    expect(kms.calls()).toHaveLength(3);
    expect(kms.commandCalls(SignCommand)).toHaveLength(3);
  });

  it.each([
    ['signMessage', { operation: 'signMessage', message: 'hi' }],
    ['signTypedData', { operation: 'signTypedData', ...MAIL }],
    ['signAuthorization', { operation: 'signAuthorization', address: DELEGATE, nonce: 0 }],
  ])('denies %s under a policy without a messages section (allow-all.json), without a KMS Sign', async (_label, event) => {
    const kms = mockKms(KNOWN_KEYS[0].privateKey);
    const error = await invoke(event, { policy: null }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'PolicyDeniedError', message: expect.stringMatching(/^The signing policy refused this sign\w+ and nothing was signed: .*messages section of the signing policy \(SIGNING_POLICY_FILE\)/) });
    expect((error as Error).stack).toBe(`PolicyDeniedError: ${(error as Error).message}`);
    expect(kms.commandCalls(SignCommand)).toHaveLength(0); // a cold start may have looked the key up (GetPublicKey first)
  });

  it.each([
    ['signMessage', { operation: 'signMessage', message: 'hi' }],
    ['signTypedData', { operation: 'signTypedData', ...MAIL }],
    ['signAuthorization', { operation: 'signAuthorization', address: DELEGATE, nonce: 0 }],
  ])('fails closed on %s when KMS answers with a signature by another key', async (_label, event) => {
    const kms = mockKms(KNOWN_KEYS[0].privateKey);
    kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => ({ KeyId: KEY_ARN, Signature: derSign(input.Message, KNOWN_KEYS[1].privateKey), SigningAlgorithm: 'ECDSA_SHA_256' }));
    await expect(invoke(event)).rejects.toMatchObject({ name: 'SignatureRecoveryError' });
  });

  it('rejects an invalid request before KMS is called, naming the field', async () => {
    const kms = mockKms(KNOWN_KEYS[0].privateKey);
    await expect(invoke({ operation: 'signTypedData', ...MAIL, message: { ...MAIL.message, contents: 7 } })).rejects.toMatchObject({
      name: 'InvalidRequestError',
      issues: [{ field: 'message.contents', problem: expect.stringMatching(/must be a string/) }],
    });
    expect(kms.commandCalls(SignCommand)).toHaveLength(0); // a cold start may have looked the key up (GetPublicKey first)
  });

  it('returns a 65-byte r ‖ s ‖ v signature whose parts are the response fields', async () => {
    mockKms(KNOWN_KEYS[1].privateKey);
    const response = await invoke({ operation: 'signMessage', message: 'parts' });
    expect(response.signature).toMatch(/^0x[0-9a-f]{130}$/);
    expect(response.signature).toBe(`${response.r}${response.s.slice(2)}${(27 + response.yParity).toString(16)}`);
    expect(response.digest).toBe(hashMessage('parts'));
    expect(response.address).toBe(KNOWN_KEYS[1].address);
  });
});

describe('message operation logging', () => {
  // Powertools writes INFO lines to stdout.
  const stdout = captureOutputPerTest();
  const signedLines = (operation: string) => stdout.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.message === `${operation} signed`);

  it('logs a signed message by its length only, never its text', async () => {
    mockKms(KNOWN_KEYS[0].privateKey);
    const message = `0x${'5e'.repeat(32)}`;
    const response = await invoke({ operation: 'signMessage', message, encoding: 'hex' }, { logLevel: 'INFO' });
    expect(signedLines('signMessage')).toEqual([
      expect.objectContaining({ operation: 'signMessage', messageBytes: 32, policyRuleId: 'signMessage', address: KNOWN_KEYS[0].address, digest: response.digest, kmsLatencyMs: expect.any(Number) }),
    ]);
    expect(stdout.lines.join('')).not.toContain('5e5e');
  });

  it('logs the time KMS took to answer Sign, to a tenth of a millisecond', async () => {
    const kms = mockKms(KNOWN_KEYS[0].privateKey);
    let clock = 1000;
    jest.spyOn(performance, 'now').mockImplementation(() => clock);
    kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => {
      clock += 12.34; // KMS takes 12.34 ms to answer
      return { KeyId: KEY_ARN, Signature: derSign(input.Message, KNOWN_KEYS[0].privateKey), SigningAlgorithm: 'ECDSA_SHA_256' };
    });
    try {
      await invoke({ operation: 'signMessage', message: 'timed' }, { logLevel: 'INFO' });
    } finally {
      jest.restoreAllMocks();
    }
    expect(signedLines('signMessage')).toEqual([expect.objectContaining({ kmsLatencyMs: 12.3 })]);
  });

  it('logs signed typed data by its primary type and domain, never its message', async () => {
    mockKms(KNOWN_KEYS[0].privateKey);
    await invoke({ operation: 'signTypedData', ...MAIL }, { logLevel: 'INFO' });
    expect(signedLines('signTypedData')).toEqual([
      expect.objectContaining({ operation: 'signTypedData', primaryType: 'Mail', domainName: 'Ether Mail', verifyingContract: MAIL.domain.verifyingContract, policyRuleId: 'mail', digest: MAIL_VECTOR.digest }),
    ]);
    expect(stdout.lines.join('')).not.toContain('Hello, Bob!');
  });

  it('logs a signed authorization by its delegate, nonce and chain id (as strings: a nonce may exceed 2^53)', async () => {
    mockKms(KNOWN_KEYS[0].privateKey);
    await invoke({ operation: 'signAuthorization', address: DELEGATE, nonce: '18446744073709551614', chainId: 0 }, { logLevel: 'INFO' });
    expect(signedLines('signAuthorization')).toEqual([
      expect.objectContaining({ operation: 'signAuthorization', delegate: DELEGATE, nonce: '18446744073709551614', authorizationChainId: '0', address: KNOWN_KEYS[0].address }),
    ]);
  });
});

describe('signMessage: one meaning per message, as viem, eth-sig-util and ethers read it', () => {
  it('signs "0xdeadbeef" with encoding "hex" as its 4 bytes: eth-sig-util (personal_sign), viem ({ raw }) and ethers recover the key', async () => {
    mockKms(KNOWN_KEYS[0].privateKey);
    const { signature } = await invoke({ operation: 'signMessage', message: '0xdeadbeef', encoding: 'hex' });
    expect(getAddress(recoverPersonalSignature({ data: '0xdeadbeef', signature }))).toBe(KNOWN_KEYS[0].address);
    await expect(viemVerifyMessage({ address: KNOWN_KEYS[0].address as `0x${string}`, message: { raw: '0xdeadbeef' }, signature: signature as `0x${string}` })).resolves.toBe(true);
    expect(verifyMessage(getBytes('0xdeadbeef'), signature)).toBe(KNOWN_KEYS[0].address);
  });

  it('signs "0xdeadbeef" with encoding "utf8" as its 10 characters: viem and ethers (a string is text to both) recover the key', async () => {
    mockKms(KNOWN_KEYS[0].privateKey);
    const { signature } = await invoke({ operation: 'signMessage', message: '0xdeadbeef', encoding: 'utf8' });
    await expect(viemVerifyMessage({ address: KNOWN_KEYS[0].address as `0x${string}`, message: '0xdeadbeef', signature: signature as `0x${string}` })).resolves.toBe(true);
    expect(verifyMessage('0xdeadbeef', signature)).toBe(KNOWN_KEYS[0].address);
  });

  it('signs "0x" with encoding "hex" as the empty message, as personal_sign does', async () => {
    mockKms(KNOWN_KEYS[0].privateKey);
    const { signature, digest } = await invoke({ operation: 'signMessage', message: '0x', encoding: 'hex' });
    expect(digest).toBe(hashMessage(new Uint8Array()));
    expect(getAddress(recoverPersonalSignature({ data: '0x', signature }))).toBe(KNOWN_KEYS[0].address);
    await expect(viemVerifyMessage({ address: KNOWN_KEYS[0].address as `0x${string}`, message: { raw: '0x' }, signature: signature as `0x${string}` })).resolves.toBe(true);
  });

  it.each(['0xdeadbeef', '0x', '0xabc'])('refuses %s without an encoding and calls no KMS Sign', async (message) => {
    const kms = mockKms(KNOWN_KEYS[0].privateKey);
    await expect(invoke({ operation: 'signMessage', message })).rejects.toMatchObject({ name: 'InvalidRequestError', message: expect.stringMatching(/looks like 0x-hex/) });
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });
});

describe('MessagePolicyDeniedError', () => {
  it('is printable ASCII whatever the reason quotes from the request', () => {
    const error = new MessagePolicyDeniedError('signTypedData', 'mail: domain.name is "\u00c9ther \u2192 Mail", not "Ether Mail"; \u2026'.replace(/\\u([0-9a-f]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))));
    expect(error.message).toMatch(/^[\x20-\x7e]*$/);
    expect(error.message).toContain('domain.name is "\\u00c9ther \\u2192 Mail"');
  });


  it('names the operation and the reason, and keeps a long reason to its first 2,000 characters', () => {
    const error = new MessagePolicyDeniedError('signTypedData', 'r'.repeat(5000));
    expect(error).toMatchObject({ name: 'PolicyDeniedError', operation: 'signTypedData', reason: 'r'.repeat(5000) });
    expect(error.message).toBe(
      `The signing policy refused this signTypedData and nothing was signed: ${'r'.repeat(2000)}. To allow it, change the messages section of the signing policy (SIGNING_POLICY_FILE) and deploy.`,
    );
  });
});

describe('signTypedData of a Safe SafeTx: counted against the spending limits as the transaction it authorizes', () => {
  const SAFE = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
  const RECIPIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
  let safeDirectory: string;
  let safePolicyFile: string;
  beforeAll(() => {
    safeDirectory = mkdtempSync(join(tmpdir(), 'safe-policy-'));
    safePolicyFile = join(safeDirectory, 'policy.json');
    writeFileSync(safePolicyFile, JSON.stringify({
      version: 1,
      limits: [{ name: 'daily', window: '1d', maxValue: '1 ether' }],
      rules: [{ id: 'payments', effect: 'allow', maxValue: '1 ether' }],
      messages: { signTypedData: [{ id: 'treasury', primaryType: 'SafeTx', domain: { verifyingContract: [SAFE] }, safeTransaction: true }] },
    }));
  });
  afterAll(() => rmSync(safeDirectory, { recursive: true, force: true }));

  const safeTxEvent = (value: bigint) => safeTxSignRequest(SAFE, 1n, safeTx({ to: RECIPIENT, value, nonce: 0n }));
  async function invokeWithStore(event: unknown, store: SpendingReserver): Promise<MessageSignResponse> {
    const saved = { ...process.env };
    Object.assign(process.env, ENV, { SIGNING_POLICY_FILE: safePolicyFile });
    try {
      return (await createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }), spendingStore: store })(event, context)) as MessageSignResponse;
    } finally {
      process.env = saved;
    }
  }

  it('reserves the inner value against the key limit before KMS signs (under the invocation deadline), and returns the SafeTx hash signed', async () => {
    const kms = mockKms(KNOWN_KEYS[0].privateKey);
    const order: string[] = [];
    kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => {
      order.push('sign');
      return { KeyId: KEY_ARN, Signature: derSign(input.Message, KNOWN_KEYS[0].privateKey), SigningAlgorithm: 'ECDSA_SHA_256' };
    });
    const reserved: Array<{ charges: readonly SpendCharge[]; reservationId: string; deadlineMs?: number }> = [];
    const store: SpendingReserver = {
      reserve: async (charges, options) => void (order.push('reserve'), reserved.push({ charges, reservationId: options.reservationId, deadlineMs: options.deadlineMs })),
      release: async () => void order.push('release'),
    };
    const response = await invokeWithStore(safeTxEvent(parseEther('0.4')), store);
    expect(response.digest).toBe(safeTxHash(SAFE, 1n, safeTx({ to: RECIPIENT, value: parseEther('0.4'), nonce: 0n })));
    expect(order).toEqual(['reserve', 'sign']);
    expect(reserved).toEqual([{ charges: [{ limit: expect.objectContaining({ id: 'key:daily', asset: 'native' }), amount: parseEther('0.4') }], reservationId: 'req-1', deadlineMs: expect.any(Number) }]);
  });

  it('signs nothing when the limit would be exceeded', async () => {
    const kms = mockKms(KNOWN_KEYS[0].privateKey);
    const store: SpendingReserver = {
      reserve: async () => {
        throw Object.assign(new Error('the daily limit would be exceeded'), { name: 'SpendingLimitExceededError' });
      },
      release: async () => undefined,
    };
    await expect(invokeWithStore(safeTxEvent(parseEther('0.9')), store)).rejects.toThrow();
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });

  it('refuses a SafeTx above the rule\'s maxValue before the store or KMS is asked', async () => {
    const kms = mockKms(KNOWN_KEYS[0].privateKey);
    const store: SpendingReserver = { reserve: jest.fn(), release: jest.fn() };
    await expect(invokeWithStore(safeTxEvent(parseEther('2')), store)).rejects.toMatchObject({ name: 'PolicyDeniedError', message: expect.stringMatching(/treasury: the SafeTx's transaction .* is not allowed by the transaction rules/) });
    expect(store.reserve).not.toHaveBeenCalled();
    expect(kms.commandCalls(SignCommand)).toHaveLength(0);
  });
});
