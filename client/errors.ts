// The errors a caller of the signer Lambdas gets: each Lambda error type arrives as its own class, with the
// Lambda's error name and message, so that a policy denial is told apart from an outage without string matching.

/** The root of every error the client throws; `errorType` is the signer Lambda's error name when it sent one. */
export class LambdaSignerError extends Error {
  override readonly name: string = 'LambdaSignerError';
  /** Whether sending the same request again (with the same idempotencyKey) may succeed. */
  readonly retryable: boolean = false;

  constructor(
    message: string,
    /** The Lambda's error name (its errorType), or undefined for a failure on the caller's side. */
    readonly errorType?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The signing policy refused the request (transaction, message, typed data or authorization); nothing was signed. */
export class PolicyDeniedError extends LambdaSignerError {
  override readonly name = 'PolicyDeniedError';
}

/** Signing would take a spending limit over its cap; nothing was counted or signed. Wait, or send less. */
export class SpendingLimitExceededError extends LambdaSignerError {
  override readonly name = 'SpendingLimitExceededError';
}

/** The event was invalid (the message names each bad field and what is accepted); nothing was signed. */
export class InvalidRequestError extends LambdaSignerError {
  override readonly name = 'InvalidRequestError';
}

/** The signer Lambda is misconfigured (its environment or signing policy); nothing can be signed until it is fixed. */
export class ConfigurationError extends LambdaSignerError {
  override readonly name = 'ConfigurationError';
}

/** KMS did not answer, throttled, or failed; nothing was signed, and the same request may succeed later. */
export class KmsUnavailableError extends LambdaSignerError {
  override readonly name = 'KmsUnavailableError';
  override readonly retryable = true;
}

/** The KMS key cannot sign: not found, disabled, wrong state or usage, access denied, or not the expected key. */
export class KmsKeyError extends LambdaSignerError {
  override readonly name = 'KmsKeyError';
}

/** The spending-limit / idempotency table could not be used in time; nothing was signed. Retry. */
export class PolicyStateUnavailableError extends LambdaSignerError {
  override readonly name = 'PolicyStateUnavailableError';
  override readonly retryable = true;
}

/** The same request is being signed right now by another invocation; retrying with the same idempotencyKey returns its result. */
export class SigningInProgressError extends LambdaSignerError {
  override readonly name = 'SigningInProgressError';
  override readonly retryable = true;
}

/** The transaction itself was refused (another chain, another sender, no chain id, pre-EIP-155 not allowed). */
export class TransactionRejectedError extends LambdaSignerError {
  override readonly name = 'TransactionRejectedError';
}

/** Any other function error (InternalSignerError, a signature KMS returned that did not verify, a Lambda timeout, …). */
export class SignerFunctionError extends LambdaSignerError {
  override readonly name = 'SignerFunctionError';
  override readonly retryable: boolean;
  constructor(message: string, errorType: string, retryable: boolean) {
    super(message, errorType);
    this.retryable = retryable;
  }
}

/**
 * The caller's timeout or AbortSignal ended the call before the Lambda answered. The Lambda may still sign:
 * send the same request with the same idempotencyKey to get that result rather than a second signature.
 */
export class LambdaTimeoutError extends LambdaSignerError {
  override readonly name = 'LambdaTimeoutError';
  override readonly retryable = true;
}

/** The Lambda could not be invoked (not found, access denied, throttled, network): the Invoke API's error is the cause. */
export class LambdaInvokeError extends LambdaSignerError {
  override readonly name = 'LambdaInvokeError';
  override readonly retryable: boolean;
  constructor(message: string, retryable: boolean, cause: unknown) {
    super(message, undefined, { cause });
    this.retryable = retryable;
  }
}

/** What the client checked and refused in the Lambda's answer (a signature that does not recover to the signer, another transaction). */
export class UnverifiedResponseError extends LambdaSignerError {
  override readonly name = 'UnverifiedResponseError';
}

type ErrorClass = new (message: string, errorType: string) => LambdaSignerError;

// The signer Lambdas' error types (README "Errors"), mapped to the class a caller catches. A Map: an errorType
// from the wire is never used to index an object.
const BY_ERROR_TYPE: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  ['PolicyDeniedError', PolicyDeniedError],
  ['SpendingLimitExceededError', SpendingLimitExceededError],
  ['InvalidRequestError', InvalidRequestError],
  ['PreEip155NotAllowedError', InvalidRequestError],
  ['ConfigurationError', ConfigurationError],
  ['PolicyValidationError', ConfigurationError],
  ['KmsUnavailableError', KmsUnavailableError],
  ['KmsThrottledError', KmsUnavailableError],
  ['KmsKeyNotFoundError', KmsKeyError],
  ['KmsKeyDisabledError', KmsKeyError],
  ['KmsKeyStateError', KmsKeyError],
  ['KmsKeyUsageError', KmsKeyError],
  ['KmsAccessDeniedError', KmsKeyError],
  ['InvalidPublicKeyError', KmsKeyError],
  ['AddressMismatchError', KmsKeyError],
  ['PolicyStateUnavailableError', PolicyStateUnavailableError],
  ['SigningInProgressError', SigningInProgressError],
  ['ChainIdMismatchError', TransactionRejectedError],
  ['FromMismatchError', TransactionRejectedError],
  ['MissingChainIdError', TransactionRejectedError],
]);

// Function errors that another attempt may not meet: a KMS signature that failed its checks, a Lambda timeout.
const RETRYABLE_FUNCTION_ERRORS = new Set(['InvalidDerSignatureError', 'SignatureRecoveryError', 'Sandbox.Timedout', 'Runtime.ExitError']);

const MAX_ECHOED = 4000;

/**
 * Turns a function error's payload ({ errorType, errorMessage }, as Lambda returns it with X-Amz-Function-Error)
 * into the client's error class for that type; the class's `name` is the Lambda's error name where they share one.
 */
export function errorFromFunctionError(payload: string, functionError: string): LambdaSignerError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    parsed = undefined;
  }
  const { errorType, errorMessage } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { errorType?: unknown; errorMessage?: unknown };
  const type = typeof errorType === 'string' && errorType !== '' ? errorType.slice(0, 200) : `Lambda ${functionError.slice(0, 40)} error`;
  const message = typeof errorMessage === 'string' ? errorMessage.slice(0, MAX_ECHOED) : `the function failed with no error message (${payload.slice(0, 200)})`;
  const ErrorType = BY_ERROR_TYPE.get(type);
  if (ErrorType) return new ErrorType(message, type);
  return new SignerFunctionError(`${type}: ${message}`, type, RETRYABLE_FUNCTION_ERRORS.has(type));
}
