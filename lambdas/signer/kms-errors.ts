import { ConfigurationError } from '../signer/errors';
import { SignerError } from './errors';

/** What is wrong with the AWS setup, when an SDK error means the caller's environment, not KMS, is at fault. */
export type AwsSetupProblem = 'region' | 'credentials' | 'invalid-credentials';

/** Recognises the SDK's errors for a missing region, missing credentials or credentials AWS does not know. */
export function awsSetupProblem(error: unknown): AwsSetupProblem | undefined {
  // Stryker disable next-line StringLiteral: any default that no test below matches decides the same
  const { name = '', message = '' } = (typeof error === 'object' && error !== null ? error : {}) as AwsError;
  if (name === 'CredentialsProviderError' || /^Could not (load|resolve) credentials/.test(message)) return 'credentials';
  if (/^Region is missing/.test(message)) return 'region';
  if (name === 'UnrecognizedClientException' || name === 'InvalidClientTokenId' || name === 'ExpiredTokenException') return 'invalid-credentials';
  return undefined;
}

/** The fields of an AWS SDK v3 service error that we read (every SDK error carries them). */
interface AwsError {
  name?: string;
  message?: string;
  $metadata?: { attempts?: number };
}

/** Turns an error from a KMS call into a typed error that says what to do; the SDK error is the cause. */
export function toKmsError(operation: 'GetPublicKey' | 'Sign', keyId: string, error: unknown): SignerError {
  if (error instanceof SignerError) return error;
  const setup = awsSetupProblem(error);
  if (setup) {
    // Retrying cannot help: the environment lacks a region or credentials.
    const problem = setup === 'region' ? 'no AWS region is set (AWS_REGION)' : setup === 'credentials' ? 'no AWS credentials were found' : 'AWS refused the credentials';
    return new ConfigurationError([`${problem} for kms:${operation} on ${keyId}`], error);
  }
  const { name = 'Error', message = String(error), $metadata } = (error ?? {}) as AwsError;
  const detail = capDetail(`${name}: ${message}`);
  switch (name) {
    case 'NotFoundException':
      return new KmsKeyNotFoundError(keyId, detail, error);
    case 'DisabledException':
      return new KmsKeyDisabledError(keyId, detail, error);
    case 'KMSInvalidStateException':
      return new KmsKeyStateError(keyId, detail, error);
    case 'InvalidKeyUsageException':
      return new KmsKeyUsageError(keyId, detail, error);
    case 'AccessDeniedException':
      return new KmsAccessDeniedError(keyId, operation, detail, error);
    case 'ThrottlingException':
    case 'LimitExceededException':
      return new KmsThrottledError(operation, $metadata?.attempts ?? 1, detail, error);
    case 'AbortError':
      return new KmsUnavailableError(operation, 'no answer before the time left for this invocation ran out', error);
    case 'TimeoutError':
      return new KmsUnavailableError(operation, `no answer within the KMS client's timeouts: ${detail}`, error);
    default:
      return new KmsUnavailableError(operation, detail, error);
  }
}

// A proxy or a broken endpoint can answer with a whole HTML page; the error message echoes only its start.
const MAX_DETAIL_LENGTH = 300;

function capDetail(detail: string): string {
  return detail.length <= MAX_DETAIL_LENGTH ? detail : `${detail.slice(0, MAX_DETAIL_LENGTH)}… (${detail.length} characters)`;
}

/** KMS_KEY_ID names no key that this account and region can see. */
export class KmsKeyNotFoundError extends SignerError {
  override readonly name = 'KmsKeyNotFoundError';
  constructor(keyId: string, detail: string, cause?: unknown) {
    super(
      `KMS key ${keyId} was not found (${detail}). Check KMS_KEY_ID (key id, key ARN, alias/NAME or alias ARN) ` +
        'and AWS_REGION; a key in another account must be named by its ARN.',
      { cause },
    );
  }
}

/** The key exists but is disabled. */
export class KmsKeyDisabledError extends SignerError {
  override readonly name = 'KmsKeyDisabledError';
  constructor(keyId: string, detail: string, cause?: unknown) {
    super(`KMS key ${keyId} is disabled (${detail}). Enable it with: aws kms enable-key --key-id ${keyId}`, { cause });
  }
}

/** The key cannot sign in its current state: pending import, pending deletion or unavailable. */
export class KmsKeyStateError extends SignerError {
  override readonly name = 'KmsKeyStateError';
  constructor(keyId: string, detail: string, cause?: unknown) {
    super(
      `KMS key ${keyId} cannot sign in its current state (${detail}). A key pending import needs its key material ` +
        '(npm run import-key); a key pending deletion needs aws kms cancel-key-deletion and enable-key.',
      { cause },
    );
  }
}

/** The key is not an ECC_SECG_P256K1 key with usage SIGN_VERIFY. */
export class KmsKeyUsageError extends SignerError {
  override readonly name = 'KmsKeyUsageError';
  constructor(keyId: string, detail: string, cause?: unknown) {
    super(
      `KMS key ${keyId} cannot sign Ethereum transactions (${detail}). Create a key with key spec ECC_SECG_P256K1 ` +
        'and key usage SIGN_VERIFY.',
      { cause },
    );
  }
}

/** The caller's IAM identity or the key policy does not allow the call. */
export class KmsAccessDeniedError extends SignerError {
  override readonly name = 'KmsAccessDeniedError';
  constructor(keyId: string, operation: string, detail: string, cause?: unknown) {
    super(
      `Access to KMS key ${keyId} was denied for kms:${operation} (${detail}). Grant kms:GetPublicKey and kms:Sign ` +
        'on this key to the signer role, in its IAM policy and in the key policy.',
      { cause },
    );
  }
}

/** KMS kept throttling after the SDK's retries. */
export class KmsThrottledError extends SignerError {
  override readonly name = 'KmsThrottledError';
  constructor(operation: string, attempts: number, detail: string, cause?: unknown) {
    super(
      `KMS throttled kms:${operation} after ${attempts} attempt(s) (${detail}). Retry later, lower the request rate, ` +
        'or ask AWS for a higher KMS request quota.',
      { cause },
    );
  }
}

/**
 * KMS did not answer in time (the client's timeouts, or the invocation's time budget), or any other KMS or
 * network failure: nothing was signed, and retrying may succeed.
 */
export class KmsUnavailableError extends SignerError {
  override readonly name = 'KmsUnavailableError';
  constructor(operation: string, detail: string, cause?: unknown) {
    super(`The call to kms:${operation} failed (${detail}). Nothing was signed; retry.`, { cause });
  }
}
