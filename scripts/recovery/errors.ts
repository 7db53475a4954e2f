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
  override readonly name = 'InvalidBackupError';
  constructor(problem: string, cause?: unknown) {
    super(`The backup cannot be used: ${problem}`, { cause });
  }
}
