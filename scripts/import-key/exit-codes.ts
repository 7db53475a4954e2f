import { KmsThrottledError, KmsUnavailableError } from '../../lambdas/signer/kms-errors';
import { InvalidRecoveryKeyError } from '../recovery/errors';
import { AwsSetupError } from './aws-setup';
import { BackupFailedError } from './backup';
import { KeyInputError } from './key-input';
import {
  AliasTakenError,
  ImportAccessDeniedError,
  ImportKeyNotFoundError,
  ImportTokenError,
  IncorrectKeyMaterialError,
  InvalidAliasError,
  ExpectedAddressMismatchError,
  KeyAddressMismatchError,
  KeyAlreadyImportedError,
  WrongKeyError,
} from './kms-import';
import { ScalarOutOfRangeError } from './private-key';
import { SecretArgumentError } from './secret-arguments';
import { UsageError } from './usage';
import { KeyFileInWorkingTreeError } from './working-tree';

/** The exit codes of npm run import-key and npm run address (documented in docs/import-key.md). */
export const EXIT = {
  ok: 0,
  other: 1,
  usage: 2,
  badKeyInput: 3,
  keyNotFound: 4,
  wrongKey: 5,
  accessDenied: 6,
  importToken: 7,
  keyMaterial: 8,
  addressMismatch: 9,
  backupFailed: 10,
  awsSetup: 11,
} as const;

// instanceof, not names: a subclass keeps its parent's exit code.
const BY_CLASS: [abstract new (...args: never[]) => Error, number][] = [
  [UsageError, EXIT.usage],
  [AwsSetupError, EXIT.awsSetup],
  [SecretArgumentError, EXIT.usage],
  [KeyFileInWorkingTreeError, EXIT.usage],
  [InvalidAliasError, EXIT.usage],
  [KeyInputError, EXIT.badKeyInput],
  [ScalarOutOfRangeError, EXIT.badKeyInput],
  [ImportKeyNotFoundError, EXIT.keyNotFound],
  [WrongKeyError, EXIT.wrongKey],
  [AliasTakenError, EXIT.wrongKey],
  [ImportAccessDeniedError, EXIT.accessDenied],
  [ImportTokenError, EXIT.importToken],
  [KeyAlreadyImportedError, EXIT.keyMaterial],
  [IncorrectKeyMaterialError, EXIT.keyMaterial],
  [KeyAddressMismatchError, EXIT.addressMismatch],
  [ExpectedAddressMismatchError, EXIT.addressMismatch],
  [BackupFailedError, EXIT.backupFailed],
  [InvalidRecoveryKeyError, EXIT.badKeyInput],
  [KmsThrottledError, EXIT.other],
  [KmsUnavailableError, EXIT.other],
];

/** The exit code for an error thrown by the tools; anything unexpected is 1. */
export function exitCodeFor(error: unknown): number {
  for (const [type, code] of BY_CLASS) if (error instanceof type) return code;
  return EXIT.other;
}
