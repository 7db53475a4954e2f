import { SignerError } from '../../lambdas/signer/errors';

/** A recovery key file is not the RSA-4096 public key it must be; the message names the mistake. */
export class InvalidRecoveryKeyError extends SignerError {
  override readonly name = 'InvalidRecoveryKeyError';
  constructor(file: string, problem: string, cause?: unknown) {
    super(`${file}: ${problem}`, { cause });
  }
}

/** A backup (recovery shard) is malformed, was altered, or belongs to another key. */
export class InvalidBackupError extends SignerError {
  override readonly name: string = 'InvalidBackupError';
  constructor(problem: string, cause?: unknown) {
    super(`The backup cannot be used: ${problem}`, { cause });
  }
}

/** The same backup error (same class, cause kept), its message naming the file or object it is about. */
export function atLocation(error: InvalidBackupError, location: string): InvalidBackupError {
  return new (error.constructor as typeof InvalidBackupError)(`${location}: ${error.message.replace(/^The backup cannot be used: /, '')}`, error);
}

/** A backup or share file fails authentication: its ciphertext or its header was changed. */
export class TamperedBackupError extends InvalidBackupError {
  override readonly name: string = 'TamperedBackupError';
}

/** The private key given does not open this shard (or share file): it is another holder's key. */
export class WrongRecoveryKeyError extends InvalidBackupError {
  override readonly name: string = 'WrongRecoveryKeyError';
}

/** Fewer shards (with their private keys) than the threshold M were given. */
export class NotEnoughSharesError extends InvalidBackupError {
  override readonly name: string = 'NotEnoughSharesError';
}

/** Two of the shards given have the same index: the same shard twice, or a copy. */
export class DuplicateShareError extends InvalidBackupError {
  override readonly name: string = 'DuplicateShareError';
}

/** The shards given belong to different backups (another key, threshold, count or backup run). */
export class MixedSharesError extends InvalidBackupError {
  override readonly name: string = 'MixedSharesError';
}

/** S3 refused or failed a backup read or write; the message says what to change. */
export class BackupStorageError extends SignerError {
  override readonly name = 'BackupStorageError';
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}
