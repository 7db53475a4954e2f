import type { Context } from 'aws-lambda';

/**
 * The deadline (Date.now() clock) for policy-state calls in an invocation: the Lambda's remaining time minus
 * `reserveMs` kept for the KMS call and the response. Without a usable context, `fallbackMs` from now.
 * (A module of its own so that the handler can use it without loading the DynamoDB client.)
 */
export function invocationDeadline(context: Partial<Pick<Context, 'getRemainingTimeInMillis'>> | undefined, { reserveMs = 2000, fallbackMs = 8000 } = {}): number {
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : fallbackMs + reserveMs;
  return Date.now() + Math.max(0, remaining - reserveMs);
}

/**
 * The last moment (Date.now() clock) a step that must still be followed by the answer may run to: the Lambda's
 * end less `marginMs`; undefined without a usable context (then each call has its own timeout).
 */
export function invocationEnd(context: Partial<Pick<Context, 'getRemainingTimeInMillis'>> | undefined, marginMs: number): number | undefined {
  if (typeof context?.getRemainingTimeInMillis !== 'function') return undefined;
  return Date.now() + Math.max(0, context.getRemainingTimeInMillis() - marginMs);
}
