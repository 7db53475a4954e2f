import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvalidBackupError } from './errors';
import { parseBackup, type Backup } from './shards';
import { toS3Error } from './s3-errors';

/** Where a backup goes: a local directory, or an S3 bucket (SSE-KMS with kmsKeyArn, else the bucket's default encryption). */
export type BackupTarget =
  | { readonly kind: 'dir'; readonly dir: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly client: S3Client; readonly kmsKeyArn?: string };

/** The object name of a key's backup: `<key_id>/recovery_shard-<index>.txt` (index 0: the single-key envelope). */
export function backupObjectKey(keyId: string, index = 0): string {
  if (!/^[A-Za-z0-9-]+$/.test(keyId)) throw new InvalidBackupError(`"${keyId.slice(0, 80)}" is not a bare KMS key id; name backups by key id, not alias or ARN`);
  return `${keyId}/recovery_shard-${index}.txt`;
}

function objectKeyOf(backup: Backup): string {
  return backupObjectKey(backup.keyId, backup.version === 1 ? 0 : backup.index);
}

/**
 * Stores every shard of one backup, never overwriting: first checks that none exists, then writes each and
 * reads each back (storeBackup). Returns the locations in order.
 */
export async function storeBackups(target: BackupTarget, backups: readonly Backup[]): Promise<string[]> {
  for (const backup of backups) {
    const objectKey = objectKeyOf(backup);
    const exists = target.kind === 'dir' ? await fileExists(join(target.dir, objectKey)) : await s3ObjectExists(target, objectKey);
    if (exists) throw new InvalidBackupError(`${locationOf(target, objectKey)} already exists; a backup is never overwritten`);
  }
  const locations: string[] = [];
  for (const backup of backups) locations.push(await storeBackup(target, backup));
  return locations;
}

/** Where a key's backup (index 0) or shard (1..N) is, or would be, stored: a path or an s3:// URL. */
export function backupLocation(target: BackupTarget, keyId: string, index = 0): string {
  return locationOf(target, backupObjectKey(keyId, index));
}

function locationOf(target: BackupTarget, objectKey: string): string {
  return target.kind === 'dir' ? join(target.dir, objectKey) : `s3://${target.bucket}/${objectKey}`;
}

async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
}

/**
 * Stores an envelope, never overwriting an existing backup, then reads it back and checks that what is
 * stored parses and equals what was written. Returns where it is (a path or an s3:// URL).
 */
export async function storeBackup(target: BackupTarget, envelope: Backup): Promise<string> {
  const objectKey = objectKeyOf(envelope);
  const body = `${JSON.stringify(envelope, null, 2)}\n`;
  let location: string;
  if (target.kind === 'dir') {
    location = join(target.dir, objectKey);
    await mkdir(join(target.dir, envelope.keyId), { recursive: true, mode: 0o700 });
    await writeFile(location, body, { mode: 0o600, flag: 'wx' }).catch((cause: NodeJS.ErrnoException) => {
      throw new InvalidBackupError(cause.code === 'EEXIST' ? `${location} already exists; a backup is never overwritten` : `cannot write ${location}: ${cause.message}`, cause);
    });
  } else {
    location = `s3://${target.bucket}/${objectKey}`;
    if (await s3ObjectExists(target, objectKey)) throw new InvalidBackupError(`${location} already exists; a backup is never overwritten`);
    // If-None-Match: * makes S3 itself refuse an overwrite (the check above has a race) and the SHA-256
    // checksum makes it refuse a corrupted upload. Local S3 servers (s3rver) ignore both, so the read-back
    // below stays: it is what proves the backup is there and readable, on every S3.
    await target.client.send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: objectKey,
        Body: body,
        ContentType: 'application/json',
        IfNoneMatch: '*',
        ChecksumSHA256: createHash('sha256').update(body, 'utf8').digest('base64'),
        ...(target.kmsKeyArn && { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: target.kmsKeyArn }),
      }),
    ).catch((error: unknown) => {
      throw toS3Error(error, 'PutObject', target.bucket, objectKey);
    });
  }
  const stored = await loadBackup(location, target.kind === 's3' ? target.client : undefined);
  if (JSON.stringify(stored) !== JSON.stringify(envelope)) throw new InvalidBackupError(`what was read back from ${location} differs from what was written`);
  return location;
}

/** A backup or share file is about 1.2 KB; anything far larger is not one, and is not read into memory. */
export const MAX_BACKUP_BYTES = 64 * 1024;

/** The backup (index 0) or shard (1..N) already stored for a key, if any: read and structure-checked, not decrypted. */
export async function findBackup(target: BackupTarget, keyId: string, index = 0): Promise<{ location: string; backup: Backup } | undefined> {
  const objectKey = backupObjectKey(keyId, index);
  const location = locationOf(target, objectKey);
  const exists = target.kind === 'dir' ? await fileExists(location) : await s3ObjectExists(target, objectKey);
  if (!exists) return undefined;
  return { location, backup: await loadBackup(location, target.kind === 's3' ? target.client : undefined) };
}

/** Reads a backup (either version) from a file path or an s3://bucket/key URL and checks its structure. */
export async function loadBackup(location: string, s3?: S3Client): Promise<Backup> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!match) return parseBackup(await readSmallFile(location));
  if (!s3) throw new InvalidBackupError(`reading ${location} needs an S3 client`);
  const [, bucket = '', objectKey = ''] = match;
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey })).catch((error: unknown) => {
    throw toS3Error(error, 'GetObject', bucket, objectKey);
  });
  if ((response.ContentLength ?? 0) > MAX_BACKUP_BYTES) {
    response.Body?.transformToWebStream().cancel().catch(() => undefined);
    throw new InvalidBackupError(`it is ${response.ContentLength} bytes, more than a backup ever is (${MAX_BACKUP_BYTES})`);
  }
  return parseBackup((await response.Body?.transformToString('utf8')) ?? '');
}

/** Reads a file of at most MAX_BACKUP_BYTES as UTF-8. */
export async function readSmallFile(path: string): Promise<string> {
  const { size } = await stat(path);
  if (size > MAX_BACKUP_BYTES) throw new InvalidBackupError(`it is ${size} bytes, more than a backup or share file ever is (${MAX_BACKUP_BYTES})`);
  return readFile(path, 'utf8');
}

async function s3ObjectExists(target: Extract<BackupTarget, { kind: 's3' }>, objectKey: string): Promise<boolean> {
  try {
    await target.client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: objectKey }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'NotFound' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw toS3Error(error, 'HeadObject', target.bucket, objectKey);
  }
}
