import { readFile } from 'node:fs/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { SignerError } from '../../lambdas/signer/errors';
import { storeBackup, type BackupTarget } from '../recovery/backup-store';
import { sealPrivateKey } from '../recovery/envelope';
import { parseRecoveryPublicKey, type RecoveryPublicKey } from '../recovery/recovery-key';
import type { PrivateKey } from './private-key';
import { UsageError } from './usage';

/** The backup import-key makes before ImportKeyMaterial: where, and to which recovery key. */
export interface BackupPlan {
  readonly recoveryKey: RecoveryPublicKey;
  readonly recoveryKeyFile: string;
  readonly target: { kind: 'dir'; dir: string } | { kind: 's3'; bucket: string; kmsKeyArn?: string };
}

/** The backup options of import-key, as given on the command line. */
export interface BackupOptions {
  readonly 'backup-public-key'?: string;
  readonly 'backup-dir'?: string;
  readonly 'backup-bucket'?: string;
  readonly 'backup-kms-key-arn'?: string;
}

/** Checks the backup options and reads the recovery public key, before anything is sent to KMS. */
export async function planBackup(options: BackupOptions): Promise<BackupPlan | undefined> {
  const file = options['backup-public-key'];
  const dir = options['backup-dir'];
  const bucket = options['backup-bucket'];
  const kmsKeyArn = options['backup-kms-key-arn'];
  if (file === undefined) {
    if (dir !== undefined || bucket !== undefined || kmsKeyArn !== undefined) throw new UsageError('--backup-dir, --backup-bucket and --backup-kms-key-arn need --backup-public-key FILE');
    return undefined;
  }
  if ((dir !== undefined) === (bucket !== undefined)) throw new UsageError('--backup-public-key needs exactly one of --backup-dir DIR or --backup-bucket NAME');
  if (kmsKeyArn !== undefined && bucket === undefined) throw new UsageError('--backup-kms-key-arn goes with --backup-bucket');
  if (kmsKeyArn !== undefined && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(kmsKeyArn)) {
    throw new UsageError(`--backup-kms-key-arn "${kmsKeyArn}" is not a KMS key ARN`);
  }
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch (cause) {
    throw new UsageError(`cannot read the recovery public key ${file}: ${(cause as Error).message}`, cause);
  }
  return {
    recoveryKey: parseRecoveryPublicKey(content, file),
    recoveryKeyFile: file,
    target: dir !== undefined ? { kind: 'dir', dir } : { kind: 's3', bucket: bucket as string, ...(kmsKeyArn && { kmsKeyArn }) },
  };
}

/**
 * Encrypts the private key to the recovery public key and stores it as <key_id>/recovery_shard-0.txt,
 * read back and checked. Any failure is a BackupFailedError: the caller must then import nothing.
 */
export async function makeBackup(plan: BackupPlan, key: PrivateKey, keyId: string, s3: () => S3Client): Promise<string> {
  try {
    const envelope = sealPrivateKey(key.scalar, plan.recoveryKey.key, keyId);
    const target: BackupTarget = plan.target.kind === 'dir' ? plan.target : { ...plan.target, client: s3() };
    return await storeBackup(target, envelope);
  } catch (cause) {
    throw new BackupFailedError(cause);
  }
}

/** The S3 client for backups: the SDK's default chain (credentials, AWS_REGION, AWS_ENDPOINT_URL_S3). */
export function createS3Client(): S3Client {
  return new S3Client({});
}

/** The backup could not be written or verified; nothing was imported. */
export class BackupFailedError extends SignerError {
  override readonly name = 'BackupFailedError';
  constructor(cause: unknown) {
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`The backup could not be stored and verified (${detail}), so nothing was imported; the KMS key is still PendingImport. Fix the backup target and run the command again.`, { cause });
  }
}
