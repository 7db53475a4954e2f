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
