// The local KMS's wire protocol, persistence and fault injection.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, GetPublicKeyCommand, SignCommand } from '@aws-sdk/client-kms';
import { secp256k1 } from '@noble/curves/secp256k1';
import { localKmsClient, startLocalKms, type LocalKms } from '../../../scripts/local-kms';
import { useLocalKmsSigningKey } from '../../helpers/local-kms';

const clientFor = (kms: LocalKms, maxAttempts = 3) => localKmsClient(kms, { maxAttempts });

describe('local KMS server', () => {
  const local = useLocalKmsSigningKey();
  afterEach(() => local.kms.faults.reset());

  const post = (target: string, body: unknown, signal?: AbortSignal) =>
    fetch(local.kms.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target }, body: JSON.stringify(body), signal });
  const sign = (c = local.client) => c.send(new SignCommand({ KeyId: local.keyId, Message: Buffer.alloc(32, 7), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));

  it('speaks JSON 1.1: errors are HTTP 400 with __type and message', async () => {
    const response = await post('TrentService.DescribeKey', { KeyId: 'alias/none' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await response.json()).toEqual({ __type: 'NotFoundException', message: expect.stringContaining('alias/none') });
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('answers UnknownOperationException for TrentService.%s, an Object.prototype member', async (name) => {
    const response = await post(`TrentService.${name}`, { KeyId: local.keyId });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('answers UnknownOperationException for an operation it does not implement', async () => {
    const response = await post('TrentService.Encrypt', { KeyId: local.keyId });
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('throttles the next N calls; the SDK retries one away and reports ThrottlingException after its attempts', async () => {
    const withDefaults = localKmsClient(local.kms); // the SDK's default maxAttempts, 3
    local.kms.faults.set({ throttle: 1 });
    await expect(sign(withDefaults)).resolves.toMatchObject({ SigningAlgorithm: 'ECDSA_SHA_256' });
    expect(local.kms.faults.current().throttle).toBe(0);
    local.kms.faults.set({ throttle: 5 });
    await expect(sign(withDefaults)).rejects.toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400, attempts: 3 } });
    expect(local.kms.faults.current().throttle).toBe(2);
    withDefaults.destroy();
  });

  it('answers HTTP 500 (KMSInternalException) when asked to, which the SDK also retries', async () => {
    local.kms.faults.set({ internalError: 1 });
    const response = await post('TrentService.GetPublicKey', { KeyId: local.keyId });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ __type: 'KMSInternalException' });
    local.kms.faults.set({ internalError: 1 });
    await expect(sign()).resolves.toMatchObject({ $metadata: { attempts: 2 } });
    const single = clientFor(local.kms, 1);
    local.kms.faults.set({ internalError: 1 });
    await expect(sign(single)).rejects.toMatchObject({ name: 'KMSInternalException', $metadata: { httpStatusCode: 500 } });
    single.destroy();
  });

  it('adds latency to every answer', async () => {
    local.kms.faults.set({ latencyMs: 200 });
    const started = performance.now();
    await local.client.send(new GetPublicKeyCommand({ KeyId: local.keyId }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('returns a well-formed DER signature that does not verify for the message, when asked to corrupt the next Sign', async () => {
    const { PublicKey } = await local.client.send(new GetPublicKeyCommand({ KeyId: local.keyId }));
    const spki = createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' });
    const Message = Buffer.from('corrupt me');
    const signRaw = () => local.client.send(new SignCommand({ KeyId: local.keyId, Message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }));
    local.kms.faults.set({ corruptSignature: 1 });
    const corrupted = (await signRaw()).Signature!;
    const honest = (await signRaw()).Signature!;
    const nobleVerifies = (der: Uint8Array) => secp256k1.verify(secp256k1.Signature.fromDER(der), createHash('sha256').update(Message).digest(), Buffer.from(PublicKey!).subarray(-65), { lowS: false });
    expect(nobleVerifies(corrupted)).toBe(false);
    expect(verify('sha256', Message, spki, Buffer.from(corrupted))).toBe(false);
    expect(nobleVerifies(honest)).toBe(true);
    expect(verify('sha256', Message, spki, Buffer.from(honest))).toBe(true);
  });

  it('accepts the next N calls and never answers them, when asked to hang', async () => {
    local.kms.faults.set({ hang: 1 });
    await expect(post('TrentService.DescribeKey', { KeyId: local.keyId }, AbortSignal.timeout(300))).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(local.kms.faults.current().hang).toBe(0);
    expect((await post('TrentService.DescribeKey', { KeyId: local.keyId })).status).toBe(200);
  });

  it('takes fault settings over HTTP at /__faults', async () => {
    const set = await fetch(`${local.kms.url}/__faults`, { method: 'POST', body: JSON.stringify({ throttle: 2, latencyMs: 5 }) });
    expect(await set.json()).toEqual({ throttle: 2, internalError: 0, latencyMs: 5, corruptSignature: 0, hang: 0 });
    await fetch(`${local.kms.url}/__faults`, { method: 'POST', body: JSON.stringify({ reset: true }) });
    expect(local.kms.faults.current()).toEqual({ throttle: 0, internalError: 0, latencyMs: 0, corruptSignature: 0, hang: 0 });
    const current = await fetch(`${local.kms.url}/__faults`);
    expect(await current.json()).toEqual({ throttle: 0, internalError: 0, latencyMs: 0, corruptSignature: 0, hang: 0 });
  });

  it('refuses fault settings that are not JSON or not non-negative integers with HTTP 400, changing nothing', async () => {
    for (const body of ['{not json', JSON.stringify({ throttle: -1 }), JSON.stringify({ latencyMs: 'slow' })]) {
      const response = await fetch(`${local.kms.url}/__faults`, { method: 'POST', body });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ message: expect.any(String) });
    }
    expect(local.kms.faults.current()).toEqual({ throttle: 0, internalError: 0, latencyMs: 0, corruptSignature: 0, hang: 0 });
  });

  it('keeps keys and aliases across a restart with a data directory (state file mode 0600, directory 0700)', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'local-kms-')), 'state');
    const first = await startLocalKms({ dataDir });
    const c1 = clientFor(first);
    const id = (await c1.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
    await c1.send(new CreateAliasCommand({ AliasName: 'alias/persisted', TargetKeyId: id }));
    const before = (await c1.send(new GetPublicKeyCommand({ KeyId: id }))).PublicKey;
    c1.destroy();
    await first.close();
    expect(statSync(join(dataDir, 'state.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);

    const second = await startLocalKms({ dataDir });
    const c2 = clientFor(second);
    expect((await c2.send(new GetPublicKeyCommand({ KeyId: 'alias/persisted' }))).PublicKey).toEqual(before);
    c2.destroy();
    await second.close();
  });

  it('tightens a data directory that already exists to mode 0700', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'local-kms-'));
    chmodSync(dataDir, 0o755);
    const started = await startLocalKms({ dataDir });
    await started.close();
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  });

  it('forgets everything on restart without a data directory', async () => {
    const first = await startLocalKms();
    const c1 = clientFor(first);
    const id = (await c1.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
    c1.destroy();
    await first.close();
    const second = await startLocalKms();
    const c2 = clientFor(second);
    await expect(c2.send(new GetPublicKeyCommand({ KeyId: id }))).rejects.toMatchObject({ name: 'NotFoundException' });
    c2.destroy();
    await second.close();
  });
});
