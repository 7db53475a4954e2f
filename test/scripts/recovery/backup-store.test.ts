import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { backupObjectKey, loadBackup, storeBackup } from '../../../scripts/recovery/backup-store';
import { openEnvelope, sealPrivateKey } from '../../../scripts/recovery/envelope';
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
    expect(openEnvelope(await loadBackup(location), recovery.privateKey)).toEqual(secret);
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
    const object = await s3.client.send(new GetObjectCommand({ Bucket: 'backups', Key: 'key-2/recovery_shard-0.txt' }));
    expect(JSON.parse(await object.Body!.transformToString())).toEqual(envelope);
    expect(openEnvelope(await loadBackup(location, s3.client), recovery.privateKey)).toEqual(secret);
  });

  it('refuses to overwrite an existing S3 backup', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'backups', Key: 'key-3/recovery_shard-0.txt', Body: '{}' }));
    const envelope = sealPrivateKey(secret, recovery.publicKey, 'key-3');
    await expect(storeBackup({ kind: 's3', bucket: 'backups', client: s3.client }, envelope)).rejects.toThrow(/already exists/);
    await expect(s3.client.send(new HeadObjectCommand({ Bucket: 'backups', Key: 'key-3/recovery_shard-0.txt' }))).resolves.toMatchObject({ ContentLength: 2 });
  });
});
