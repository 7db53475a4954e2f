// The event's optional idempotencyKey, checked by the request parser: a module of its own so that parsing an
// event never loads the DynamoDB client.

/** What an `idempotencyKey` may look like: 1 to 128 printable ASCII characters without spaces. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;

/** Checks an event's optional `idempotencyKey`; returns a problem to report, or undefined if it is fine. */
export function idempotencyKeyProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(value)) {
    return 'must be a string of 1 to 128 printable ASCII characters without spaces (for example a UUID)';
  }
  return undefined;
}
