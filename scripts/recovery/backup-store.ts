import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvalidBackupError } from './errors';
import { parseEnvelope, type RecoveryEnvelope } from './envelope';

/** Where a backup goes: a local directory, or an S3 bucket encrypted with SSE-KMS. */
export type BackupTarget =
  | { readonly kind: 'dir'; readonly dir: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly client: S3Client; readonly kmsKeyArn?: string };

/** The object name of a key's backup: `<key_id>/recovery_shard-0.txt`. */
export function backupObjectKey(keyId: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(keyId)) throw new InvalidBackupError(`"${keyId}" is not a bare KMS key id; name backups by key id, not alias or ARN`);
  return `${keyId}/recovery_shard-0.txt`;
}

/**
 * Stores an envelope, never overwriting an existing backup, then reads it back and checks that what is
 * stored parses and equals what was written. Returns where it is (a path or an s3:// URL).
 */
export async function storeBackup(target: BackupTarget, envelope: RecoveryEnvelope): Promise<string> {
  const objectKey = backupObjectKey(envelope.keyId);
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
    await target.client.send(
      new PutObjectCommand({
        Bucket: target.bucket,
        Key: objectKey,
        Body: body,
        ContentType: 'application/json',
        ServerSideEncryption: 'aws:kms',
        ...(target.kmsKeyArn && { SSEKMSKeyId: target.kmsKeyArn }),
      }),
    );
  }
  const stored = await loadBackup(location, target.kind === 's3' ? target.client : undefined);
  if (JSON.stringify(stored) !== JSON.stringify(envelope)) throw new InvalidBackupError(`what was read back from ${location} differs from what was written`);
  return location;
}

/** Reads an envelope from a file path or an s3://bucket/key URL and checks its structure. */
export async function loadBackup(location: string, s3?: S3Client): Promise<RecoveryEnvelope> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!match) return parseEnvelope(await readFile(location, 'utf8'));
  if (!s3) throw new InvalidBackupError(`reading ${location} needs an S3 client`);
  const response = await s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
  return parseEnvelope((await response.Body?.transformToString('utf8')) ?? '');
}

async function s3ObjectExists(target: Extract<BackupTarget, { kind: 's3' }>, objectKey: string): Promise<boolean> {
  try {
    await target.client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: objectKey }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'NotFound' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw error;
  }
}
