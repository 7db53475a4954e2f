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
