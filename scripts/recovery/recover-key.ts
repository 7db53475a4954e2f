import type { KeyObject } from 'node:crypto';
import { fingerprint, openEnvelope } from './envelope';
import { atLocation, InvalidBackupError, MixedSharesError, NotEnoughSharesError, WrongRecoveryKeyError } from './errors';
import { openShareFile, type ShareFile } from './ceremony';
import { checkShareSet, combineShares, openShard, type Backup, type ShardEnvelope, type ShareHeader } from './shards';

/** A recovered private key and what the backup says about it. */
export interface RecoveredKey {
  /** The 32-byte private key: zero it after use. */
  readonly secret: Buffer;
  readonly keyId: string;
  readonly address: string;
  readonly createdAt: string;
  /** M of N, and the indices used (empty for a single-key backup). */
  readonly threshold: number;
  readonly shares: number;
  readonly used: readonly number[];
}

/** Where each backup or share file was read from, for errors that concern one of them. */
export type Locations = ReadonlyMap<object, string>;

/**
 * Recovers a private key from stored backups and recovery private keys: one single-key backup (version 1),
 * or at least M shards of one M-of-N backup. Each private key is matched to its shard by fingerprint, never
 * by order; a private key that opens none of the shards is refused. A shard that fails to open is named by
 * its entry in `locations`.
 */
export async function recoverFromBackups(backups: readonly Backup[], privateKeys: readonly KeyObject[], locations: Locations = new Map()): Promise<RecoveredKey> {
  const keys = new Map(privateKeys.map((key) => [fingerprint(key), key] as const));
  const single = backups.filter((b) => b.version === 1);
  if (single.length > 0) {
    if (backups.length > 1) throw new MixedSharesError('a single-key backup (recovery_shard-0.txt, version 1) is a whole backup on its own; give it alone');
    const envelope = single[0]!;
    const key = keys.get(envelope.recoveryKeySha256);
    if (!key) {
      throw new WrongRecoveryKeyError(`it is encrypted to recovery key sha256:${envelope.recoveryKeySha256.slice(0, 16)}…, and the private key given is another one (wrong recovery key)`);
    }
    const secret = openAll([envelope], (e) => openEnvelope(e, key), locations)[0]!;
    return { secret, keyId: envelope.keyId, address: envelope.address, createdAt: envelope.createdAt, threshold: 1, shares: 1, used: [] };
  }
  const shards = backups as readonly ShardEnvelope[];
  checkShareSetShape(shards);
  const byKey = new Set(shards.map((s) => s.recoveryKeySha256));
  for (const [print] of keys) {
    if (!byKey.has(print)) throw new WrongRecoveryKeyError(`the recovery private key sha256:${print.slice(0, 16)}… opens none of the shards given (wrong recovery key, or its shard was not given)`);
  }
  const usable = shards.filter((s) => keys.has(s.recoveryKeySha256));
  return finish(usable, openAll(usable, (s) => openShard(s, keys.get(s.recoveryKeySha256)!), locations));
}

/** Recovers a private key from M share files (recover --decrypt-share) with the operator's one-time private key. */
export async function recoverFromShareFiles(files: readonly ShareFile[], operatorPrivateKey: KeyObject, locations: Locations = new Map()): Promise<RecoveredKey> {
  checkShareSetShape(files);
  return finish(files, openAll(files, (file) => openShareFile(file, operatorPrivateKey), locations));
}

// Decrypts every share, zeroing those already decrypted if one fails, whose error names its file.
function openAll<T extends object>(items: readonly T[], open: (item: T) => Buffer, locations: Locations): Buffer[] {
  const shares: Buffer[] = [];
  for (const item of items) {
    try {
      shares.push(open(item));
    } catch (error) {
      for (const share of shares) share.fill(0);
      const location = locations.get(item);
      throw error instanceof InvalidBackupError && location !== undefined ? atLocation(error, location) : error;
    }
  }
  return shares;
}

// Mixed backups and duplicates are reported before counting: they explain a shortfall better than the count.
function checkShareSetShape(headers: readonly ShareHeader[]): void {
  if (headers.length === 0) throw new NotEnoughSharesError('no shard was given');
  try {
    checkShareSet(headers);
  } catch (error) {
    if (!(error instanceof NotEnoughSharesError)) throw error;
  }
}

async function finish(headers: readonly ShareHeader[], shares: Buffer[]): Promise<RecoveredKey> {
  try {
    const common = checkShareSet(headers);
    const secret = await combineShares(headers, shares);
    return { secret, keyId: common.keyId, address: common.address, createdAt: common.createdAt, threshold: common.threshold, shares: common.shares, used: headers.map((h) => h.index) };
  } finally {
    for (const share of shares) share.fill(0);
  }
}
