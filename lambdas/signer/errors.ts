/**
 * The root of every error this project throws on purpose. `name` is stable (callers and the Lambda
 * runtime report it as the error type), the message says what to do, and the original error is kept
 * as `cause` so that operators see what really failed.
 */
export class SignerError extends Error {
  override readonly name: string = 'SignerError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The Lambda's environment variables are missing or invalid; no request can be served until they are fixed. */
export class ConfigurationError extends SignerError {
  override readonly name = 'ConfigurationError';
  constructor(readonly problems: string[], cause?: unknown) {
    super(`The signer is misconfigured: ${problems.join('; ')}. Fix the function's environment variables.`, { cause });
  }
}
