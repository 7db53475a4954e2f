import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SignerError } from '../../lambdas/signer/errors';
import { backupLocation, findBackup, storeBackups, type BackupTarget } from '../recovery/backup-store';
import { fingerprint, sealPrivateKey } from '../recovery/envelope';
import { InvalidBackupError } from '../recovery/errors';
import { parseRecoveryPublicKey, type RecoveryPublicKey } from '../recovery/recovery-key';
import { checkThreshold, MAX_SHARES, splitPrivateKey, type Backup } from '../recovery/shards';
import type { PrivateKey } from './private-key';
import { cliRegion } from './aws-setup';
import { capped, userPath } from './cli-io';
import { UsageError } from './usage';

/** The backup import-key makes before ImportKeyMaterial: where, to which recovery keys, and how many recover. */
export interface BackupPlan {
  /** Recovery key i (from 1) receives shard i; one key means the single-key envelope (recovery_shard-0.txt). */
  readonly recoveryKeys: readonly { readonly key: RecoveryPublicKey; readonly file: string }[];
  /** M: how many shards recover the key (1 with a single recovery key). */
  readonly threshold: number;
  readonly target: { kind: 'dir'; dir: string } | { kind: 's3'; bucket: string; kmsKeyArn?: string; profile?: string };
}

/** The backup options of import-key, as given on the command line. */
export interface BackupOptions {
  readonly 'backup-public-key'?: readonly string[];
  readonly threshold?: string;
  readonly 'backup-dir'?: string;
  readonly 'backup-bucket'?: string;
  readonly 'backup-kms-key-arn'?: string;
  readonly 'backup-profile'?: string;
}

/** Checks the backup options and reads the recovery public keys, before anything is sent to KMS. */
export async function planBackup(options: BackupOptions): Promise<BackupPlan | undefined> {
  const files = (options['backup-public-key'] ?? []).map(userPath);
  const dir = options['backup-dir'] === undefined ? undefined : userPath(options['backup-dir']);
  const bucket = options['backup-bucket'];
  const kmsKeyArn = options['backup-kms-key-arn'];
  if (files.length === 0) {
    if (dir !== undefined || bucket !== undefined || kmsKeyArn !== undefined || options.threshold !== undefined) {
      throw new UsageError('--backup-dir, --backup-bucket, --backup-kms-key-arn and --threshold need --backup-public-key FILE');
    }
    return undefined;
  }
  if ((dir !== undefined) === (bucket !== undefined)) throw new UsageError('--backup-public-key needs exactly one of --backup-dir DIR or --backup-bucket NAME');
  if (kmsKeyArn !== undefined && bucket === undefined) throw new UsageError('--backup-kms-key-arn goes with --backup-bucket');
  const profile = options['backup-profile'];
  if (profile !== undefined && bucket === undefined) throw new UsageError('--backup-profile goes with --backup-bucket');
  if (profile !== undefined && !/^[\w.+=@-]{1,64}$/.test(profile)) throw new UsageError('--backup-profile must be the name of a profile in the AWS config file');
  if (kmsKeyArn !== undefined && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(kmsKeyArn)) {
    throw new UsageError(`--backup-kms-key-arn "${kmsKeyArn.slice(0, 120)}" is not a KMS key ARN`);
  }
  const recoveryKeys = await readRecoveryKeys(files);
  const threshold = parseThreshold(options.threshold, recoveryKeys.length);
  return {
    recoveryKeys,
    threshold,
    target: dir !== undefined ? { kind: 'dir', dir } : { kind: 's3', bucket: bucket as string, ...(kmsKeyArn && { kmsKeyArn }), ...(profile && { profile }) },
  };
}

// Each --backup-public-key is a key file, or a directory whose files (in name order) are one key per holder.
async function readRecoveryKeys(paths: readonly string[]): Promise<BackupPlan['recoveryKeys']> {
  const files: string[] = [];
  for (const path of paths) {
    const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
    if (!isDir) {
      files.push(path);
      continue;
    }
    const names = (await readdir(path, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
    if (names.length === 0) throw new UsageError(`the directory ${path} given to --backup-public-key holds no key files`);
    files.push(...names.map((name) => join(path, name)));
  }
  if (files.length > MAX_SHARES) throw new UsageError(`${files.length} recovery public keys were given; at most ${MAX_SHARES} are supported`);
  const keys: Array<{ key: RecoveryPublicKey; file: string }> = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    let content: Buffer;
    try {
      content = await readFile(file);
    } catch (cause) {
      throw new UsageError(`cannot read the recovery public key ${capped(file)}: ${(cause as NodeJS.ErrnoException).code ?? 'unreadable'}`, cause);
    }
    const key = parseRecoveryPublicKey(content, file);
    const print = fingerprint(key.key);
    const earlier = seen.get(print);
    if (earlier !== undefined) {
      throw new UsageError(`${earlier} and ${file} are the same recovery key: its holder would get two shards. Give each holder's public key once (for a directory, keep one file per holder)`);
    }
    seen.set(print, file);
    keys.push({ key, file });
  }
  return keys;
}

function parseThreshold(text: string | undefined, n: number): number {
  if (text === undefined) {
    if (n === 1) return 1;
    throw new UsageError(`--threshold M is required with ${n} recovery keys: how many of the ${n} holders must come together to recover the key (2 to ${n})`);
  }
  if (!/^[0-9]{1,3}$/.test(text)) throw new UsageError(`--threshold must be a whole number from 1 to the number of recovery keys (${n}), not "${text.slice(0, 20)}"`);
  try {
    checkThreshold(Number(text), n);
  } catch (cause) {
    throw new UsageError(`--threshold ${text}: ${(cause as Error).message.replace(/^The backup cannot be used: /, '')}`, cause);
  }
  return Number(text);
}

/**
 * Encrypts the private key to the recovery key (one key: <key_id>/recovery_shard-0.txt, version 1), or splits
 * it into M-of-N shards, shard i encrypted to recovery key i (<key_id>/recovery_shard-i.txt), then stores every
 * one and reads it back. A backup already stored by an earlier, interrupted run of the same import (every
 * object there, each for this key id, address and its recovery key, and for shards the same M and N: what
 * the headers say, nothing decrypted) is reused; any other is never overwritten. Any failure is a
 * BackupFailedError: the caller must then import nothing.
 */
export async function makeBackup(
  plan: BackupPlan,
  key: PrivateKey,
  keyId: string,
  s3: (profile?: string) => S3Client,
): Promise<{ locations: string[]; reused: boolean }> {
  try {
    const target: BackupTarget = plan.target.kind === 'dir' ? plan.target : { kind: 's3', bucket: plan.target.bucket, ...(plan.target.kmsKeyArn && { kmsKeyArn: plan.target.kmsKeyArn }), client: s3(plan.target.profile) };
    const existing = await findEarlierBackup(plan, key, keyId, target);
    if (existing) return { locations: existing, reused: true };
    const publicKeys = plan.recoveryKeys.map((r) => r.key.key);
    const backups: Backup[] = publicKeys.length === 1 ? [sealPrivateKey(key.scalar, publicKeys[0]!, keyId)] : await splitPrivateKey(key.scalar, publicKeys, plan.threshold, keyId);
    if (backups.length !== plan.recoveryKeys.length) throw new InvalidBackupError('the number of shards differs from the number of recovery keys');
    return { locations: await storeBackups(target, backups), reused: false };
  } catch (cause) {
    throw new BackupFailedError(cause);
  }
}

/** The locations of a complete earlier backup of this very import, undefined if there is none at all. */
async function findEarlierBackup(plan: BackupPlan, key: PrivateKey, keyId: string, target: BackupTarget): Promise<string[] | undefined> {
  const single = plan.recoveryKeys.length === 1;
  const problems: string[] = [];
  const found = await Promise.all(
    plan.recoveryKeys.map((_, i) =>
      findBackup(target, keyId, single ? 0 : i + 1).catch((error: unknown) => {
        if (!(error instanceof InvalidBackupError)) throw error;
        // Something is there, but not a backup: it is never overwritten either.
        problems.push(`${backupLocation(target, keyId, single ? 0 : i + 1)} already exists and is not a readable backup (${error.message.replace(/^The backup cannot be used: /, '')})`);
        return null;
      }),
    ),
  );
  if (found.every((entry) => entry === undefined)) return undefined;
  const backupIds = new Set<string>();
  found.forEach((entry, i) => {
    const recovery = plan.recoveryKeys[i]!;
    if (entry === null) return;
    if (!entry) {
      problems.push(`shard ${i + 1} (for ${recovery.file}) is missing`);
      return;
    }
    const { backup, location } = entry;
    if (backup.keyId !== keyId) problems.push(`${location} is for KMS key ${backup.keyId}`);
    if (backup.address !== key.address) problems.push(`${location} holds the key of ${backup.address}, not ${key.address}`);
    if (backup.recoveryKeySha256 !== fingerprint(recovery.key.key)) problems.push(`${location} is encrypted to another recovery key than ${recovery.file}`);
    if (backup.version === 2) {
      backupIds.add(backup.backupId);
      if (single || backup.threshold !== plan.threshold || backup.shares !== plan.recoveryKeys.length) {
        problems.push(`${location} is a shard of a ${backup.threshold}-of-${backup.shares} backup, not ${plan.threshold}-of-${plan.recoveryKeys.length}`);
      }
    } else if (!single) problems.push(`${location} is a single-key backup, not a shard`);
  });
  if (backupIds.size > 1) problems.push('the shards come from different backup runs');
  if (problems.length > 0) throw new ConflictingBackupError(problems);
  return found.map((entry) => (entry as { location: string }).location);
}

/** Another backup is stored where this one would go; it is never overwritten. */
export class ConflictingBackupError extends SignerError {
  override readonly name = 'ConflictingBackupError';
  constructor(problems: string[]) {
    super(
      `a different backup is already stored where this one goes (${problems.join('; ')}); a backup is never overwritten. ` +
        'If it is stale, move it aside (for a directory: mv <key id> <key id>.old), then run the command again',
    );
  }
}

/**
 * The S3 client for backups: the SDK's default chain (credentials, AWS_REGION or AWS_DEFAULT_REGION,
 * AWS_ENDPOINT_URL_S3), or the named profile (--backup-profile: a cross-account writer role with role_arn,
 * external_id, source_profile). An endpoint override (a local s3rver, MinIO) gets path-style addressing, which
 * such servers need: virtual-hosted names like BUCKET.127.0.0.1 do not resolve.
 */
export function createS3Client(profile?: string, region?: string, env: NodeJS.ProcessEnv = process.env): S3Client {
  const resolved = cliRegion(region, env);
  const customEndpoint = Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
  return new S3Client({ ...(profile ? { profile } : {}), ...(resolved ? { region: resolved } : {}), ...(customEndpoint ? { forcePathStyle: true } : {}) });
}

/** The backup could not be written or verified; nothing was imported. */
export class BackupFailedError extends SignerError {
  override readonly name = 'BackupFailedError';
  constructor(cause: unknown) {
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(
      `The backup could not be stored and verified (${detail}), so nothing was imported; the KMS key is still PendingImport. ` +
        'Fix the backup target and run the command again: it reuses a complete backup this same import already stored, and never overwrites anything else (move that aside, or import into a new key).',
      { cause },
    );
  }
}
