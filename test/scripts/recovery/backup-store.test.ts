import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, type KeyObject } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { backupObjectKey, loadBackup, storeBackup, storeBackups } from '../../../scripts/recovery/backup-store';
import { openEnvelope, sealPrivateKey, type RecoveryEnvelope } from '../../../scripts/recovery/envelope';
import { splitPrivateKey } from '../../../scripts/recovery/shards';
import { generateRecoveryKeyPair } from '../../../scripts/recovery/recovery-key';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { startLocalS3, type LocalS3 } from '../../helpers/s3-server';

const secret = Buffer.from(KNOWN_KEYS[0].privateKey.slice(2), 'hex');

describe('backup store', () => {
  let recovery: { publicKey: KeyObject; privateKey: KeyObject };
  let s3: LocalS3;
  beforeAll(async () => {
    [recovery, s3] = await Promise.all([generateRecoveryKeyPair(), startLocalS3(['backups'])]);
  });
  afterAll(() => s3.close());

  it('names the object <key_id>/recovery_shard-0.txt and refuses an alias or ARN as key id', () => {
    expect(backupObjectKey('0b1f8c6e-1d3a-4d2b-9a57-2b1c3d4e5f60')).toBe('0b1f8c6e-1d3a-4d2b-9a57-2b1c3d4e5f60/recovery_shard-0.txt');
    expect(() => backupObjectKey('alias/x')).toThrow(/bare KMS key id/);
  });

  it('writes a backup file with mode 0600, reads it back, and never overwrites it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backup-'));
    const envelope = sealPrivateKey(secret, recovery.publicKey, 'key-1');
    const location = await storeBackup({ kind: 'dir', dir }, envelope);
    expect(location).toBe(join(dir, 'key-1', 'recovery_shard-0.txt'));
    expect(statSync(location).mode & 0o777).toBe(0o600);
    expect(openEnvelope((await loadBackup(location)) as RecoveryEnvelope, recovery.privateKey)).toEqual(secret);
    await expect(storeBackup({ kind: 'dir', dir }, envelope)).rejects.toThrow(/already exists; a backup is never overwritten/);
  });

  it('puts the backup in S3 with SSE-KMS and the given key, then reads it back', async () => {
    const envelope = sealPrivateKey(secret, recovery.publicKey, 'key-2');
    const kmsKeyArn = 'arn:aws:kms:us-east-1:111122223333:key/backup-key';
    const sent: unknown[] = [];
    s3.client.middlewareStack.add((next) => async (args) => {
      sent.push(args.input);
      return next(args);
    }, { step: 'initialize', name: 'record-input' });
    const location = await storeBackup({ kind: 's3', bucket: 'backups', client: s3.client, kmsKeyArn }, envelope);
    s3.client.middlewareStack.remove('record-input');
    expect(location).toBe('s3://backups/key-2/recovery_shard-0.txt');
    expect(sent).toContainEqual(expect.objectContaining({ Bucket: 'backups', Key: 'key-2/recovery_shard-0.txt', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKeyArn }));
    // S3 itself refuses an overwrite and a corrupted upload (s3rver ignores both, hence the read-back).
    const object0 = await s3.client.send(new GetObjectCommand({ Bucket: 'backups', Key: 'key-2/recovery_shard-0.txt' }));
    const body = await object0.Body!.transformToString();
    expect(sent).toContainEqual(expect.objectContaining({ Key: 'key-2/recovery_shard-0.txt', IfNoneMatch: '*', ChecksumSHA256: createHash('sha256').update(body).digest('base64') }));
    const object = await s3.client.send(new GetObjectCommand({ Bucket: 'backups', Key: 'key-2/recovery_shard-0.txt' }));
    expect(JSON.parse(await object.Body!.transformToString())).toEqual(envelope);
    expect(openEnvelope((await loadBackup(location, s3.client)) as RecoveryEnvelope, recovery.privateKey)).toEqual(secret);
  });

  it('refuses to overwrite an existing S3 backup', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'backups', Key: 'key-3/recovery_shard-0.txt', Body: '{}' }));
    const envelope = sealPrivateKey(secret, recovery.publicKey, 'key-3');
    await expect(storeBackup({ kind: 's3', bucket: 'backups', client: s3.client }, envelope)).rejects.toThrow(/already exists/);
    await expect(s3.client.send(new HeadObjectCommand({ Bucket: 'backups', Key: 'key-3/recovery_shard-0.txt' }))).resolves.toMatchObject({ ContentLength: 2 });
  });

  it('names shard i of an M-of-N backup <key_id>/recovery_shard-i.txt', () => {
    expect(backupObjectKey('key-9', 3)).toBe('key-9/recovery_shard-3.txt');
  });

  it('stores every shard of a 2-of-3 backup as recovery_shard-1..3.txt, with no SSE header unless a KMS key is given', async () => {
    const others = await Promise.all([generateRecoveryKeyPair(), generateRecoveryKeyPair()]);
    const shards = await splitPrivateKey(secret, [recovery.publicKey, ...others.map((o) => o.publicKey)], 2, 'key-4');
    const sent: Array<Record<string, unknown>> = [];
    s3.client.middlewareStack.add((next) => async (args) => {
      sent.push(args.input as Record<string, unknown>);
      return next(args);
    }, { step: 'initialize', name: 'record-shards' });
    const locations = await storeBackups({ kind: 's3', bucket: 'backups', client: s3.client }, shards);
    s3.client.middlewareStack.remove('record-shards');
    expect(locations).toEqual([1, 2, 3].map((i) => `s3://backups/key-4/recovery_shard-${i}.txt`));
    const puts = sent.filter((input) => 'Body' in input);
    expect(puts).toHaveLength(3);
    for (const put of puts) expect(put).not.toHaveProperty('ServerSideEncryption');
    for (const [i, location] of locations.entries()) expect(await loadBackup(location, s3.client)).toEqual(shards[i]);
  });

  it('writes no shard when any of them already exists (checked before the first write)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'backup-'));
    const others = await Promise.all([generateRecoveryKeyPair()]);
    const shards = await splitPrivateKey(secret, [recovery.publicKey, others[0]!.publicKey], 2, 'key-5');
    await storeBackup({ kind: 'dir', dir }, shards[1]!);
    await expect(storeBackups({ kind: 'dir', dir }, shards)).rejects.toThrow(/recovery_shard-2.txt already exists/);
    expect(() => statSync(join(dir, 'key-5', 'recovery_shard-1.txt'))).toThrow();
  });
});
