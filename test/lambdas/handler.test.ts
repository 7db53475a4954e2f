import { GetPublicKeyCommand, KMSClient, NotFoundException, SignCommand } from '@aws-sdk/client-kms';
import { Transaction } from 'ethers';
import type { Context } from 'aws-lambda';
import { createHandler } from '../../lambdas/handler';
import { KNOWN_KEYS } from '../fixtures/known-keys';
import { derSign, KEY_ARN, mockKms } from '../helpers/kms-mock';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpendCharge } from '../../lambdas/policy';
import type { IdempotentSignRequest } from '../../lambdas/policy-state/idempotency';
import * as policyStateRuntime from '../../lambdas/policy-state/runtime';
import type { PolicyState } from '../../lambdas/policy-state/runtime';
import { rejectionOf } from '../helpers/rejection';
import { decodeSignature } from '../../lambdas/signer/der';
import { SECP256K1_N } from '../../lambdas/signer/curve';
import { captureOutputPerTest } from '../helpers/captured-output';
import { PolicyStateUnavailableError, SpendingLimitExceededError } from '../../lambdas/policy-state/errors';

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

  it('returns the exact v of a legacy signature on the largest chain id it accepts (v stays a safe JSON integer)', async () => {
    mockKms(KEY.privateKey);
    const chainId = '4503599627370477';
    const legacy = { to: TO, nonce: 0, gasLimit: 21000, gasPrice: 1 };
    const response = await withEnv({ ...ENV, ETH_NETWORK: chainId }, () => newHandler('legacy')({ operation: 'sign', transaction: legacy }, context));
    if (!('signedTransaction' in response)) throw new Error('expected a sign response');
    const signed = Transaction.from(response.signedTransaction).signature!;
    expect(Number.isSafeInteger(response.signature.v)).toBe(true);
    expect(BigInt(response.signature.v)).toBe(signed.networkV);
    expect(JSON.parse(JSON.stringify(response)).signature.v).toBe(Number(signed.networkV));
  });

  it.each(['constructor', '__proto__', 'toString'])('refuses ETH_NETWORK=%s with ConfigurationError naming ETH_NETWORK, and signs nothing in KMS', async (network) => {
    const kms = mockKms(KEY.privateKey);
    const failure = withEnv({ ...ENV, ETH_NETWORK: network }, () => newHandler()({ operation: 'status' }, context));
    await expect(failure).rejects.toMatchObject({ name: 'ConfigurationError', message: expect.stringContaining(`ETH_NETWORK "${network}"`) });
    expect(kms.commandCalls(SignCommand)).toHaveLength(0); // a cold start may have looked the key up (GetPublicKey first)
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
  it.each(badEvents)('fails %s with InvalidRequestError and signs nothing in KMS', async (_label, event) => {
    const kms = mockKms(KEY.privateKey);
    const failure = withEnv(ENV, () => newHandler()(event, context));
    await expect(failure).rejects.toMatchObject({ name: 'InvalidRequestError' });
    expect(kms.commandCalls(SignCommand)).toHaveLength(0); // a cold start may have looked the key up (GetPublicKey first)
  });

  it('answers InvalidRequestError naming transaction.to for an array nested 100,000 deep', async () => {
    const kms = mockKms(KEY.privateKey);
    let to: unknown = [];
    for (let i = 0; i < 100_000; i++) to = [to];
    const failure = withEnv(ENV, () => newHandler()({ operation: 'sign', transaction: { ...transaction, to } }, context));
    await expect(failure).rejects.toMatchObject({ name: 'InvalidRequestError', message: expect.stringContaining('transaction.to must be an address') });
    expect(kms.commandCalls(SignCommand)).toHaveLength(0); // a cold start may have looked the key up (GetPublicKey first)
  });

  it('fails with ConfigurationError naming the variable when a setting is missing, and signs nothing in KMS', async () => {
    const kms = mockKms(KEY.privateKey);
    const failure = withEnv({ ...ENV, ETH_NETWORK: '' }, () => newHandler()({ operation: 'status' }, context));
    await expect(failure).rejects.toMatchObject({ name: 'ConfigurationError', message: expect.stringContaining('ETH_NETWORK') });
    expect(kms.commandCalls(SignCommand)).toHaveLength(0); // a cold start may have looked the key up (GetPublicKey first)
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
    expect(error.message).toBe('The signer failed unexpectedly and nothing was returned; see the function logs for details.');
    expect(error.cause).toBeInstanceOf(TypeError); // kept for the logs
    expect(error.stack).not.toMatch(/\bat /);
  });

  it('reads the settings again on the next invocation after a start that failed', async () => {
    mockKms(KEY.privateKey);
    const handler = newHandler();
    await expect(withEnv({ ...ENV, ETH_NETWORK: '' }, () => handler({ operation: 'status' }, context))).rejects.toMatchObject({ name: 'ConfigurationError' });
    await expect(withEnv(ENV, () => handler({ operation: 'status' }, context))).resolves.toMatchObject({ address: KEY.address, chainId: 11155111 });
  });

  describe('logging', () => {
    // Powertools writes INFO lines to stdout and WARN/ERROR lines to stderr.
    const output = captureOutputPerTest([process.stdout, process.stderr]);

    it('writes one structured line per signature with the chosen fields, and never the data or the event', async () => {
      mockKms(KEY.privateKey);
      const data = '0x' + 'de'.repeat(100);
      await withEnv({ ...ENV, LOG_LEVEL: 'INFO' }, () => newHandler()({ operation: 'sign', transaction: { ...transaction, data } }, context));
      const entries = output.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
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
      expect(output.lines.join('')).not.toContain('dede');
      expect(output.lines.join('')).not.toContain(KEY.privateKey.slice(2));
      expect(entries.filter((entry) => /pre-EIP-155/.test(String(entry.message)))).toEqual([]); // it has a chain id
    });

    it('keeps the log line and the error of an event with 10,000 bad fields under 16 KB and 4 KB', async () => {
      const kms = mockKms(KEY.privateKey);
      const bad: Record<string, unknown> = { ...transaction };
      for (let i = 0; i < 10_000; i++) bad[`field${i}${'z'.repeat(20)}`] = 'x'.repeat(10);
      const error = await rejectionOf(withEnv({ ...ENV, LOG_LEVEL: "INFO" }, () => newHandler()({ operation: "sign", transaction: bad }, context)));
      expect(error).toMatchObject({ name: 'InvalidRequestError', issueCount: 10_000 });
      expect(Buffer.byteLength(error.message)).toBeLessThan(4096);
      const invalid = output.lines.filter((line) => line.includes('"invalid request"'));
      expect(invalid).toHaveLength(1);
      expect(Buffer.byteLength(invalid[0]!)).toBeLessThan(16 * 1024);
      expect(JSON.parse(invalid[0]!)).toMatchObject({ message: 'invalid request', issueCount: 10_000 });
      expect(kms.commandCalls(SignCommand)).toHaveLength(0); // a cold start may have looked the key up (GetPublicKey first)
    });

    it("logs the KMS Sign call's latency in milliseconds to one decimal", async () => {
      // A clock that reads 1000 until KMS is called and 1012.345 once it has answered: a 12.345 ms Sign call.
      let now = 1000;
      const clock = jest.spyOn(performance, 'now').mockImplementation(() => now);
      try {
        const kms = mockKms(KEY.privateKey);
        kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => {
          now = 1012.345;
          return { KeyId: KEY_ARN, Signature: derSign(input.Message, KEY.privateKey), SigningAlgorithm: 'ECDSA_SHA_256' };
        });
        await withEnv({ ...ENV, LOG_LEVEL: 'INFO' }, () => newHandler()({ operation: 'sign', transaction }, context));
        expect(kms.commandCalls(SignCommand)).toHaveLength(1);
      } finally {
        clock.mockRestore();
      }
      const signed = output.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.message === 'transaction signed');
      expect(signed).toMatchObject({ kmsLatencyMs: 12.3 });
    });

    it('warns when it signs a pre-EIP-155 transaction', async () => {
      mockKms(KEY.privateKey);
      const legacy = { to: TO, nonce: 0, gasLimit: 21000, gasPrice: 1 };
      await withEnv({ ...ENV, LOG_LEVEL: 'INFO', ALLOW_PRE_EIP155: 'true' }, () => newHandler('legacy')({ operation: 'sign', transaction: legacy, replayProtection: false }, context));
      const warning = output.lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.level === 'WARN' && entry.message !== 'the signing policy allows any transaction: whoever can invoke this function can sign anything with the key');
      expect(warning).toMatchObject({ message: 'signed a pre-EIP-155 transaction: its signature is valid on every chain', transactionHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    });

    it("adds Lambda's context (function name, request id) to its lines", async () => {
      mockKms(KEY.privateKey);
      await withEnv({ ...ENV, LOG_LEVEL: 'INFO' }, () => newHandler()({ operation: 'sign', transaction }, context));
      expect(output.lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(
        expect.objectContaining({ message: 'transaction signed', function_name: 'eth-signer-eip1559', function_request_id: 'req-1' }),
      );
    });

    it("logs an unexpected failure as an error 'request failed' with its type, and a refused message request as a policy warning", async () => {
      mockKms(KEY.privateKey).on(GetPublicKeyCommand).resolves(undefined as never);
      await withEnv({ ...ENV, LOG_LEVEL: 'INFO' }, () => newHandler()({ operation: 'status' }, context)).catch(() => undefined);
      mockKms(KEY.privateKey);
      // examples/policies/allow-all.json (the tests' policy) has no messages section: every message operation is denied.
      await withEnv({ ...ENV, LOG_LEVEL: 'INFO' }, () => newHandler()({ operation: 'signMessage', message: 'hello' }, context)).catch(() => undefined);
      const entries = output.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(entries).toContainEqual(expect.objectContaining({ level: 'ERROR', message: 'request failed', error: expect.objectContaining({ name: 'InternalSignerError' }) }));
      expect(entries).toContainEqual(
        expect.objectContaining({ level: 'WARN', message: 'signing policy denied the request', errorType: 'PolicyDeniedError', operation: 'signMessage', reason: expect.any(String) }),
      );
      expect(entries.filter((entry) => entry.message === 'signing policy denied the transaction')).toEqual([]);
    });
  });

  describe('signing policy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    const policyFile = (name: string, policy: unknown) => {
      const file = join(dir, name);
      writeFileSync(file, typeof policy === 'string' ? policy : JSON.stringify(policy));
      return file;
    };
    const onlyTo = policyFile('only-to.json', {
      version: 1,
      rules: [
        { id: 'pay-recipient', effect: 'allow', to: [TO], maxValue: '1 ether' },
        { id: 'no-big-fees', effect: 'deny', maxGasPrice: '100 gwei', to: [KNOWN_KEYS[2]!.address] },
      ],
    });
    const env = (file: string) => ({ ...ENV, SIGNING_POLICY_FILE: file });

    it('signs what the policy allows', async () => {
      const kms = mockKms(KEY.privateKey);
      const response = await withEnv(env(onlyTo), () => newHandler()({ operation: 'sign', transaction }, context));
      expect(response).toHaveProperty('signedTransaction');
      expect(kms.commandCalls(SignCommand)).toHaveLength(1);
    });

    it.each([
      ['no allow rule matches (another recipient)', { ...transaction, to: KNOWN_KEYS[3]!.address }, undefined, /no rule allowed the transaction; closest: rule "pay-recipient": to \(/],
      ['a cap is exceeded', { ...transaction, value: '1000000000000000001' }, undefined, /rule "pay-recipient": maxValue \(value 1000000000000000001 is more than maxValue 1000000000000000000\)/],
      ['an explicit deny rule matches', { ...transaction, to: KNOWN_KEYS[2]!.address }, 'no-big-fees', /denied by rule "no-big-fees"/],
    ])('refuses with PolicyDeniedError and signs nothing in KMS when %s', async (_label, tx, ruleId, reason) => {
      const kms = mockKms(KEY.privateKey);
      const failure = withEnv(env(onlyTo), () => newHandler()({ operation: 'sign', transaction: tx }, context));
      await expect(failure).rejects.toMatchObject({ name: 'PolicyDeniedError', ruleId, message: expect.stringMatching(reason) });
      expect(kms.commandCalls(SignCommand)).toHaveLength(0); // a cold start may have looked the key up (GetPublicKey first)
    });

    it('makes no KMS call at all for a denial on a warm instance', async () => {
      const kms = mockKms(KEY.privateKey);
      const handler = newHandler();
      await withEnv(env(onlyTo), () => handler({ operation: 'status' }, context));
      kms.resetHistory();
      const failure = withEnv(env(onlyTo), () => handler({ operation: 'sign', transaction: { ...transaction, to: KNOWN_KEYS[3]!.address } }, context));
      await expect(failure).rejects.toMatchObject({ name: 'PolicyDeniedError' });
      expect(kms.calls()).toHaveLength(0);
    });

    it('starts GetPublicKey on a cold start before the signing policy is even read (the key lookup overlaps the start-up)', async () => {
      const kms = mockKms(KEY.privateKey);
      const failure = withEnv(env(policyFile('unreadable-start.json', '{')), () => newHandler()({ operation: 'sign', transaction }, context));
      await expect(failure).rejects.toMatchObject({ name: 'ConfigurationError' });
      expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
      expect(kms.commandCalls(SignCommand)).toHaveLength(0);
    });

    it('refuses a pre-EIP-155 signature unless a rule allows it, even with replayProtection false and the deployment\'s opt-in', async () => {
      const kms = mockKms(KEY.privateKey);
      const legacy = { to: TO, nonce: 0, gasLimit: 21000, gasPrice: 1 };
      const failure = withEnv({ ...env(onlyTo), ALLOW_PRE_EIP155: 'true' }, () => newHandler('legacy')({ operation: 'sign', transaction: legacy, replayProtection: false }, context));
      await expect(failure).rejects.toMatchObject({ name: 'PolicyDeniedError', message: expect.stringMatching(/preEip155 \(the transaction is signed without a chain id/) });
      expect(kms.commandCalls(SignCommand)).toHaveLength(0); // a cold start may have looked the key up (GetPublicKey first)
    });

    it('answers check with the decision, without signing or calling KMS', async () => {
      const kms = mockKms(KEY.privateKey);
      const handler = newHandler();
      const allowed = await withEnv(env(onlyTo), () => handler({ operation: 'check', transaction }, context));
      const denied = await withEnv(env(onlyTo), () => handler({ operation: 'check', transaction: { ...transaction, value: '2000000000000000000' } }, context));
      expect(allowed).toEqual({ allowed: true, ruleId: 'pay-recipient', charges: [] });
      expect(denied).toMatchObject({ allowed: false, reason: expect.stringMatching(/^no rule allowed/), closest: [{ ruleId: 'pay-recipient', failed: [{ condition: 'maxValue', reason: expect.any(String) }] }] });
      expect(kms.commandCalls(SignCommand)).toHaveLength(0); // a cold start may have looked the key up (GetPublicKey first)
    });

    it('validates the check operation\'s transaction like sign', async () => {
      mockKms(KEY.privateKey);
      await expect(withEnv(env(onlyTo), () => newHandler()({ operation: 'check', transaction: { ...transaction, nonce: -1 } }, context))).rejects.toMatchObject({ name: 'InvalidRequestError' });
    });

    it.each([
      ['no policy', '', /SIGNING_POLICY_FILE is not set: .*cdk deploy -c policyFile=.*examples\/policies/],
      ['a missing file', join(dir, 'nope.json'), /cannot be read \(ENOENT\)/],
      ['an invalid policy', policyFile('bad.json', { version: 1, rules: [{ id: 'r', effect: 'allow', maxValue: '1 eth' }] }), /is not a valid signing policy, so nothing will be signed: .*\$\.rules\[0\]\.maxValue/],
      ['limits without a spending store', policyFile('limits.json', { version: 1, limits: [{ name: 'daily', window: '24h', maxCount: 5 }], rules: [{ id: 'r', effect: 'allow' }] }), /declares spending limits, but POLICY_TABLE_NAME is not set, so this function has no spending-limit store to count them/],
    ])('fails closed with ConfigurationError and no KMS Sign with %s', async (_label, file, message) => {
      const kms = mockKms(KEY.privateKey);
      const failure = withEnv(env(file), () => newHandler()({ operation: 'sign', transaction }, context));
      await expect(failure).rejects.toMatchObject({ name: 'ConfigurationError', message: expect.stringMatching(message) });
      expect(kms.commandCalls(SignCommand)).toHaveLength(0); // a cold start may have looked the key up (GetPublicKey first)
    });

    it('names at most 200 characters of the policy file in the error about limits without a store', async () => {
      mockKms(KEY.privateKey);
      const file = policyFile(`${'long-name-'.repeat(23)}.json`, { version: 1, limits: [{ name: 'daily', window: '24h', maxCount: 5 }], rules: [{ id: 'r', effect: 'allow' }] });
      expect(file.length).toBeGreaterThan(230);
      const error = await rejectionOf(withEnv(env(file), () => newHandler()({ operation: 'sign', transaction }, context)));
      expect(error).toMatchObject({ name: 'ConfigurationError', message: expect.stringContaining(`the signing policy ${file.slice(0, 200)} declares spending limits`) });
      expect(error.message).not.toContain(file);
    });

    describe('with a spending store', () => {
      const limited = policyFile('limited.json', { version: 1, rules: [{ id: 'r', effect: 'allow', limits: [{ name: 'daily', window: '24h', maxValue: '1 ether' }] }] });
      const store = () => {
        const calls: string[] = [];
        return {
          calls,
          reserve: jest.fn(async (charges: readonly SpendCharge[], options: { keyArn: string; reservationId: string }) => {
            calls.push(`reserve ${charges.map((c) => `${c.limit.id}=${c.amount}`).join(',')} ${options.keyArn} ${options.reservationId}`);
            return { id: 'held' };
          }),
          release: jest.fn(async (reservation: unknown) => void calls.push(`release ${(reservation as { id: string }).id}`)),
        };
      };

      it('reserves the charges (with the key ARN and the request id) before signing', async () => {
        const kms = mockKms(KEY.privateKey);
        const spending = store();
        await withEnv(env(limited), () => createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }), spendingStore: spending })({ operation: 'sign', transaction }, context));
        expect(spending.calls).toEqual([`reserve rule:r:daily=1000 ${KEY_ARN} req-1`]);
        expect(kms.commandCalls(SignCommand)).toHaveLength(1);
      });

      it('answers a refused reservation with the refusal and no signature, whether or not Sign was sent', async () => {
        const kms = mockKms(KEY.privateKey);
        const spending = store();
        spending.reserve.mockRejectedValueOnce(Object.assign(new (class SpendingLimitExceededError extends Error {})('over'), { name: 'SpendingLimitExceededError' }));
        const failure = withEnv(env(limited), () => createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }), spendingStore: spending })({ operation: 'sign', transaction }, context));
        await expect(failure).rejects.toMatchObject({ name: 'InternalSignerError' });
        expect(kms.commandCalls(SignCommand).length).toBeLessThanOrEqual(1); // a refused limit may cost one Sign (issue 27)
        expect(spending.release).not.toHaveBeenCalled();
      });

      describe('when the reservation fails after Sign was sent', () => {
        const output = captureOutputPerTest([process.stdout, process.stderr]);

        it('never lets the signature leave the function: not in the answer, not in a log line', async () => {
          const kms = mockKms(KEY.privateKey);
          const spending = store();
          let signed!: () => void;
          const signAnswered = new Promise<void>((resolve) => (signed = resolve));
          const der: Uint8Array[] = [];
          kms.on(SignCommand).callsFake(async (input: { Message: Uint8Array }) => {
            const signature = derSign(input.Message, KEY.privateKey);
            der.push(signature);
            setImmediate(signed);
            return { KeyId: KEY_ARN, Signature: signature, SigningAlgorithm: 'ECDSA_SHA_256' };
          });
          spending.reserve.mockImplementationOnce(async () => {
            await signAnswered; // KMS has signed: the signature is in the function's memory
            throw Object.assign(new Error('DynamoDB failed: InternalServerError'), { name: 'PolicyStateUnavailableError' });
          });
          const error = await rejectionOf(
            withEnv({ ...env(limited), LOG_LEVEL: 'DEBUG' }, () => createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }), spendingStore: spending })({ operation: 'sign', transaction }, context)),
          );
          expect(kms.commandCalls(SignCommand)).toHaveLength(1);
          expect(der).toHaveLength(1);
          const { r, s } = decodeSignature(der[0] as Uint8Array);
          const secrets = [r, s, SECP256K1_N - s].map((value) => value.toString(16).padStart(64, '0'));
          const leaked = (text: string) => secrets.some((hex) => text.toLowerCase().includes(hex));
          expect(JSON.stringify({ ...error, message: error.message })).not.toMatch(/signedTransaction/);
          expect(leaked(JSON.stringify({ ...error, message: error.message }))).toBe(false);
          expect(output.lines.join('\n')).not.toContain('transaction signed');
          expect(output.lines.some(leaked)).toBe(false);
        });
      });

      it.each([
        ['a replay (the wrapper answers with the first response)', async () => ({ signedTransaction: '0xfirst' })],
        ['a duplicate in progress', async () => { throw Object.assign(new Error('in progress'), { name: 'SigningInProgressError' }); }],
      ])('gives the reservation back, once, and drops the new signature when the request is %s', async (_label, answer) => {
        mockKms(KEY.privateKey);
        const spending = store();
        const state: PolicyState = {
          config: { idempotency: true, idempotencyWindowSeconds: 3600, callTimeoutMs: 3000 },
          idempotent: () => answer as never, // never runs the sign step
        };
        const outcome = await withEnv(env(limited), () =>
          createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }), spendingStore: spending, policyState: state })({ operation: 'sign', transaction }, context),
        ).then((value) => ({ value }), (error: Error) => ({ error: error.name }));
        expect(JSON.stringify(outcome)).not.toMatch(/0x02f8/); // the new signature is not what the caller gets
        expect(spending.calls).toEqual([`reserve rule:r:daily=1000 ${KEY_ARN} req-1`, 'release held']);
      });

      describe('when the idempotency wrapper has run the sign step', () => {
        const output = captureOutputPerTest([process.stdout, process.stderr]);
        const run = (idempotent: PolicyState['idempotent']) => {
          mockKms(KEY.privateKey);
          const spending = store();
          const state: PolicyState = { config: { idempotency: true, idempotencyWindowSeconds: 3600, callTimeoutMs: 3000 }, idempotent };
          const outcome = withEnv({ ...env(limited), LOG_LEVEL: 'INFO' }, () =>
            createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }), spendingStore: spending, policyState: state })({ operation: 'sign', transaction }, context),
          ).then((value) => ({ value }), (error: Error) => ({ error: error.name }));
          return { spending, outcome };
        };

        it('answers a replay with the first response, gives its own reservation back and neither logs nor counts its own signature', async () => {
          const { spending, outcome } = run((sign) => async (request) => {
            await sign(request); // made, then found recorded already
            return { signedTransaction: '0xfirst' } as never;
          });
          expect(await outcome).toEqual({ value: { signedTransaction: '0xfirst' } });
          expect(spending.calls).toEqual([`reserve rule:r:daily=1000 ${KEY_ARN} req-1`, 'release held']);
          expect(output.lines.join('\n')).not.toContain('transaction signed');
        });

        it('keeps the reservation and returns nothing when the record could not be written (it may have been: a retry answered from it is counted once)', async () => {
          const { spending, outcome } = run((sign) => async (request) => {
            await sign(request);
            throw new PolicyStateUnavailableError('idempotency record: no answer from DynamoDB within 2700 ms');
          });
          expect(await outcome).toEqual({ error: 'PolicyStateUnavailableError' });
          expect(spending.calls).toEqual([`reserve rule:r:daily=1000 ${KEY_ARN} req-1`]);
          expect(output.lines.join('\n')).not.toContain('transaction signed');
          expect(output.lines.join('\n')).not.toMatch(/0x02f8/);
        });

        it('logs and counts the signature it returns, once', async () => {
          const { outcome } = run((sign) => (request) => sign(request));
          expect(await outcome).toMatchObject({ value: { signedTransaction: expect.stringMatching(/^0x02f8/) } });
          expect(output.lines.filter((line) => line.includes('"transaction signed"'))).toHaveLength(1);
        });
      });

      describe('logs', () => {
        const output = captureOutputPerTest([process.stdout, process.stderr]);
        const entries = () => output.lines.map((line) => JSON.parse(line) as Record<string, unknown>);

        it('logs a spending-limit refusal as a WARN with the limit and what remains, without a stack and without an ERROR line', async () => {
          mockKms(KEY.privateKey);
          const spending = store();
          const limit = { limitId: 'rule:r:daily', windowSeconds: 86400, asset: 'native', remainingAmount: 400000000000000000n };
          spending.reserve.mockRejectedValueOnce(new SpendingLimitExceededError(limit, 600000000000000000n));
          const error = await rejectionOf(withEnv({ ...env(limited), LOG_LEVEL: 'INFO' }, () => createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }), spendingStore: spending })({ operation: 'sign', transaction }, context)));
          expect(error).toMatchObject({ name: 'SpendingLimitExceededError' });
          const refusal = entries().find((entry) => entry.message === 'spending limit refused the transaction');
          expect(refusal).toMatchObject({ level: 'WARN', errorType: 'SpendingLimitExceededError', limitId: 'rule:r:daily', windowSeconds: 86400, requestedAmount: '600000000000000000', remainingAmount: '400000000000000000' });
          expect(JSON.stringify(refusal)).not.toMatch(/stack|\bat /);
          expect(entries().filter((entry) => entry.level === 'ERROR')).toEqual([]);
        });
      });

      it('releases the reservation when signing fails after it', async () => {
        const kms = mockKms(KEY.privateKey);
        kms.on(SignCommand).rejects(new NotFoundException({ message: 'gone', $metadata: {} }));
        const spending = store();
        const failure = withEnv(env(limited), () => createHandler('eip1559', { client: new KMSClient({ region: 'us-east-1' }), spendingStore: spending })({ operation: 'sign', transaction }, context));
        await expect(failure).rejects.toMatchObject({ name: 'KmsKeyNotFoundError' });
        expect(spending.calls).toEqual([`reserve rule:r:daily=1000 ${KEY_ARN} req-1`, 'release held']);
      });
    });

    describe('with the DynamoDB policy state (POLICY_TABLE_NAME, IDEMPOTENCY)', () => {
      const limited = policyFile('limited-state.json', { version: 1, rules: [{ id: 'r', effect: 'allow', limits: [{ name: 'daily', window: '24h', maxValue: '1 ether' }] }] });

      /** A policy state whose idempotency wrapper records how it was built and every sign step it ran. */
      const recordingState = () => {
        const targets: Array<{ keyArn: string; scope: string }> = [];
        const steps: IdempotentSignRequest[] = [];
        const state: PolicyState = {
          config: { idempotency: true, idempotencyWindowSeconds: 3600, callTimeoutMs: 3000 },
          idempotent: (sign, target) => {
            targets.push(target);
            return async (request) => {
              steps.push(request);
              return sign(request);
            };
          },
        };
        return { state, targets, steps };
      };

      it("runs every signature through the state's idempotency, built once per warm function for the key ARN and the signer kind", async () => {
        const kms = mockKms(KEY.privateKey);
        const { state, targets, steps } = recordingState();
        const handler = createHandler('legacy', { client: new KMSClient({ region: 'us-east-1' }), policyState: state });
        const legacy = { to: TO, nonce: 0, gasLimit: 21000, gasPrice: 1 };
        await withEnv(ENV, () => handler({ operation: 'sign', transaction: legacy, idempotencyKey: 'payout-42' }, context));
        await withEnv(ENV, () => handler({ operation: 'sign', transaction: { ...legacy, nonce: 1 } }, context));
        expect(targets).toEqual([{ keyArn: KEY_ARN, scope: 'legacy' }]);
        expect(steps.map((step) => [step.transaction.nonce, step.idempotencyKey])).toEqual([[0, 'payout-42'], [1, undefined]]);
        expect(kms.commandCalls(SignCommand)).toHaveLength(2);
      });

      it('loads no policy state (no DynamoDB code) when neither POLICY_TABLE_NAME nor IDEMPOTENCY is set, even if they are blank', async () => {
        const kms = mockKms(KEY.privateKey);
        const createPolicyState = jest.spyOn(policyStateRuntime, 'createPolicyState');
        await withEnv({ ...ENV, POLICY_TABLE_NAME: ' ', IDEMPOTENCY: '  ' }, () => newHandler()({ operation: 'sign', transaction }, context));
        expect(createPolicyState).not.toHaveBeenCalled();
        expect(kms.commandCalls(SignCommand)).toHaveLength(1);
        createPolicyState.mockRestore();
      });

      it('fails closed with ConfigurationError naming both variables when IDEMPOTENCY is on without POLICY_TABLE_NAME, and signs nothing in KMS', async () => {
        const kms = mockKms(KEY.privateKey);
        const failure = withEnv({ ...ENV, IDEMPOTENCY: 'on' }, () => newHandler()({ operation: 'sign', transaction }, context));
        await expect(failure).rejects.toMatchObject({ name: 'ConfigurationError', message: expect.stringContaining('IDEMPOTENCY is on but POLICY_TABLE_NAME is not set') });
        expect(kms.commandCalls(SignCommand)).toHaveLength(0); // a cold start may have looked the key up (GetPublicKey first)
      });

      it('counts spending limits in the table that POLICY_TABLE_NAME names, so a policy with limits starts', async () => {
        const kms = mockKms(KEY.privateKey);
        // check counts nothing; it reads what remains (the item is keyed by the key ARN: one GetPublicKey). Here
        // DynamoDB does not answer (a closed port), so check says the limits are unknown instead of guessing.
        const unreachable = { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1' };
        const decision = await withEnv({ ...env(limited), ...unreachable, POLICY_TABLE_NAME: 'eth-signer-policy' }, () => newHandler()({ operation: 'check', transaction }, context));
        expect(decision).toMatchObject({ allowed: true, ruleId: 'r', charges: [{ limitId: 'rule:r:daily', amount: '1000' }], limitsUnknown: expect.stringMatching(/DynamoDB.*Sign counts the limits and may refuse/) });
        expect(kms.commandCalls(SignCommand)).toHaveLength(0);
      });
    });

    describe('logs', () => {
      const output = captureOutputPerTest([process.stdout, process.stderr]);
      const entries = () => output.lines.map((line) => JSON.parse(line) as Record<string, unknown>);

      it('logs the rule that allowed a signature in the signature\'s line', async () => {
        mockKms(KEY.privateKey);
        await withEnv({ ...env(onlyTo), LOG_LEVEL: 'INFO' }, () => newHandler()({ operation: 'sign', transaction }, context));
        expect(entries()).toContainEqual(expect.objectContaining({ level: 'INFO', message: 'transaction signed', policyRuleId: 'pay-recipient' }));
      });

      it('logs a denial as a warning with the deny rule', async () => {
        mockKms(KEY.privateKey);
        await withEnv({ ...env(onlyTo), LOG_LEVEL: 'INFO' }, () => newHandler()({ operation: 'sign', transaction: { ...transaction, to: KNOWN_KEYS[2]!.address } }, context)).catch(() => undefined);
        expect(entries()).toContainEqual(expect.objectContaining({ level: 'WARN', message: 'signing policy denied the transaction', policyRuleId: 'no-big-fees' }));
      });

      it('caps the reason of a denial at 1,000 characters in its log line', async () => {
        mockKms(KEY.privateKey);
        // Three allow rules that each miss on a long list of chains make a reason of well over 1,000 characters.
        const chainId = Array.from({ length: 60 }, (_, i) => i + 1);
        const rules = ['a', 'b', 'c'].map((id) => ({ id: `other-chains-${id}`, effect: 'allow', chainId, maxValue: '1 wei' }));
        const wordy = policyFile('wordy.json', { version: 1, rules });
        const error = await rejectionOf(withEnv({ ...env(wordy), LOG_LEVEL: 'INFO' }, () => newHandler()({ operation: 'sign', transaction }, context)));
        expect(error).toMatchObject({ name: 'PolicyDeniedError' });
        expect(error.message.length).toBeGreaterThan(1100);
        const denial = entries().find((entry) => entry.message === 'signing policy denied the transaction');
        expect(denial).toMatchObject({ reason: expect.stringMatching(/^The signing policy refused this transaction and nothing was signed: no rule allowed/) });
        expect(String(denial!.reason)).toHaveLength(1000);
      });

      it('caps the reason of a refused message request at 1,000 characters in its log line', async () => {
        mockKms(KEY.privateKey);
        // Five typed-data rules that each want another long domain name make a reason of well over 1,000 characters.
        const signTypedData = [1, 2, 3, 4, 5].map((n) => ({ id: `mail-${n}`, primaryType: 'Mail', domain: { name: `Ether Mail ${n} ${'x'.repeat(200)}` } }));
        const wordy = policyFile('wordy-messages.json', { version: 1, rules: [{ id: 'none', effect: 'allow', to: [TO] }], messages: { signTypedData } });
        const typedData = {
          domain: { name: 'Ether Mail', version: '1', chainId: 11155111 },
          types: { EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' }, { name: 'chainId', type: 'uint256' }], Mail: [{ name: 'contents', type: 'string' }] },
          primaryType: 'Mail',
          message: { contents: 'hello' },
        };
        const error = await rejectionOf(withEnv({ ...env(wordy), LOG_LEVEL: 'INFO' }, () => newHandler()({ operation: 'signTypedData', ...typedData }, context)));
        expect(error).toMatchObject({ name: 'PolicyDeniedError' });
        expect(error.message.length).toBeGreaterThan(1100);
        const denial = entries().find((entry) => entry.message === 'signing policy denied the request');
        expect(denial).toMatchObject({ operation: 'signTypedData', reason: expect.stringMatching(/^no signTypedData rule matches/) });
        expect(String(denial!.reason)).toHaveLength(1000);
      });

      it('warns on every cold start with a policy that allows anything (examples/policies/allow-all.json), and not after', async () => {
        mockKms(KEY.privateKey);
        const allowAll = { ...ENV, SIGNING_POLICY_FILE: 'examples/policies/allow-all.json', LOG_LEVEL: 'INFO' };
        const handler = newHandler();
        await withEnv(allowAll, () => handler({ operation: 'status' }, context));
        await withEnv(allowAll, () => handler({ operation: 'status' }, context));
        await withEnv(allowAll, () => newHandler()({ operation: 'status' }, context));
        const warnings = entries().filter((entry) => entry.level === 'WARN' && /allows any transaction/.test(String(entry.message)));
        expect(warnings).toHaveLength(2);
        expect(warnings[0]).toMatchObject({ policyRuleIds: ['allow-everything'] });
      });

      it('names only the rules that allow anything, and at most 200 characters of the policy file, in that warning', async () => {
        mockKms(KEY.privateKey);
        const file = policyFile(`${'wide-open-'.repeat(23)}.json`, {
          version: 1,
          rules: [
            { id: 'pay-recipient', effect: 'allow', to: [TO] },
            { id: 'anything', effect: 'allow', contractCreation: true, preEip155: true },
          ],
        });
        await withEnv({ ...env(file), LOG_LEVEL: 'INFO' }, () => newHandler()({ operation: 'status' }, context));
        const warning = entries().find((entry) => /allows any transaction/.test(String(entry.message)));
        expect(warning).toMatchObject({ policyRuleIds: ['anything'], policyFile: file.slice(0, 200) });
      });

      it('warns at cold start about an allow rule without conditions, which allows any transfer or call (issue 22, item 6)', async () => {
        mockKms(KEY.privateKey);
        const file = policyFile('bare-allow.json', { version: 1, rules: [{ id: 'bare', effect: 'allow' }, { id: 'fees-only', effect: 'allow', chainId: 1, maxGasPrice: '1 gwei' }] });
        await withEnv({ ...env(file), LOG_LEVEL: 'INFO' }, () => newHandler()({ operation: 'status' }, context));
        const warning = entries().find((entry) => /allows any transaction/.test(String(entry.message)));
        expect(warning).toMatchObject({ level: 'WARN', policyRuleIds: ['bare', 'fees-only'] });
      });

      it('does not warn with a restrictive policy', async () => {
        mockKms(KEY.privateKey);
        await withEnv({ ...env(onlyTo), LOG_LEVEL: 'INFO' }, () => newHandler()({ operation: 'status' }, context));
        expect(entries().filter((entry) => entry.level === 'WARN')).toEqual([]);
      });
    });
  });
});
