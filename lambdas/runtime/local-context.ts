import type { Context } from 'aws-lambda';

/**
 * The time a handler invoked without Lambda's context (a local run: `node -e`, the local stack, a test) may take:
 * what invocationDeadline assumes then (lambdas/policy-state/deadline.ts: 8 s plus 2 s kept for KMS).
 */
export const LOCAL_INVOCATION_MS = 10_000;

/**
 * Lambda's context when it tells the remaining time; otherwise that context (or none) completed with a
 * remaining time of `timeoutMs` from now, so that the idempotency record's calls end by a deadline locally too.
 */
export function withRemainingTime(context: Partial<Context> | undefined, timeoutMs = LOCAL_INVOCATION_MS): Context {
  if (context !== undefined && typeof context.getRemainingTimeInMillis === 'function') return context as Context;
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'local',
    memoryLimitInMB: '0',
    awsRequestId: 'local',
    logGroupName: 'local',
    logStreamName: 'local',
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...context,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}
