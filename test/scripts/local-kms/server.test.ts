// The local KMS's wire protocol, persistence and fault injection.
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { secp256k1 } from '@noble/curves/secp256k1';
import { localKmsClient, startLocalKms, type LocalKms } from '../../../scripts/local-kms';

const clientFor = (kms: LocalKms, maxAttempts = 3) => localKmsClient(kms, { maxAttempts });

describe('local KMS server', () => {
  let kms: LocalKms;
  let client: KMSClient;
  let keyId: string;
  beforeAll(async () => {
    kms = await startLocalKms();
    client = clientFor(kms);
    keyId = (await client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
  });
  afterAll(async () => {
    client.destroy();
    await kms.close();
  });
  afterEach(() => kms.faults.reset());

  const post = (target: string, body: unknown) =>
    fetch(kms.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target }, body: JSON.stringify(body) });
  const sign = (c = client) => c.send(new SignCommand({ KeyId: keyId, Message: Buffer.alloc(32, 7), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));

  it('speaks JSON 1.1: errors are HTTP 400 with __type and message', async () => {
    const response = await post('TrentService.DescribeKey', { KeyId: 'alias/none' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await response.json()).toEqual({ __type: 'NotFoundException', message: expect.stringContaining('alias/none') });
  });

  it('answers UnknownOperationException for an operation it does not implement', async () => {
    const response = await post('TrentService.Encrypt', { KeyId: keyId });
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('throttles the next N calls; the SDK retries one away and reports ThrottlingException after its attempts', async () => {
    kms.faults.set({ throttle: 1 });
    await expect(sign()).resolves.toMatchObject({ SigningAlgorithm: 'ECDSA_SHA_256' });
    kms.faults.set({ throttle: 5 });
    const single = clientFor(kms, 1);
    await expect(sign(single)).rejects.toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    single.destroy();
  });

  it('answers HTTP 500 (KMSInternalException) when asked to', async () => {
    kms.faults.set({ internalError: 1 });
    const response = await post('TrentService.GetPublicKey', { KeyId: keyId });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ __type: 'KMSInternalException' });
  });

  it('adds latency to every answer', async () => {
    kms.faults.set({ latencyMs: 200 });
    const started = performance.now();
    await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('returns a well-formed signature that does not verify, when asked to corrupt the next Sign', async () => {
    const { PublicKey } = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    kms.faults.set({ corruptSignature: 1 });
    const corrupted = await sign();
    const honest = await sign();
    const verifies = (der: Uint8Array) => secp256k1.verify(secp256k1.Signature.fromDER(der), Buffer.alloc(32, 7), Buffer.from(PublicKey!).subarray(-65), { lowS: false });
    expect(verifies(corrupted.Signature!)).toBe(false);
    expect(verifies(honest.Signature!)).toBe(true);
  });

  it('takes fault settings over HTTP at /__faults', async () => {
    const set = await fetch(`${kms.url}/__faults`, { method: 'POST', body: JSON.stringify({ throttle: 2, latencyMs: 5 }) });
    expect(await set.json()).toEqual({ throttle: 2, internalError: 0, latencyMs: 5, corruptSignature: 0 });
    await fetch(`${kms.url}/__faults`, { method: 'POST', body: JSON.stringify({ reset: true }) });
    expect(kms.faults.current()).toEqual({ throttle: 0, internalError: 0, latencyMs: 0, corruptSignature: 0 });
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
