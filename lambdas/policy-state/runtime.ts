import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { sharedPolicyStateClient, type PolicyStateConfig } from './config';
import { makeIdempotentSign, type IdempotentSign, type IdempotentSignRequest } from './idempotency';
import { SpendingStore } from './spending-store';

/** What a handler needs from the policy state: the spending store (if a table is set) and the idempotency wrapper. */
export interface PolicyState {
  readonly config: PolicyStateConfig;
  /** Undefined without POLICY_TABLE_NAME: then a policy with spending limits must not start (readPolicyStateConfig checks). */
  readonly store?: SpendingStore;
  /** Wraps a sign step in idempotency for one key (its partition) when IDEMPOTENCY is on; otherwise returns it unchanged. */
  idempotent<R extends object, Q extends IdempotentSignRequest = IdempotentSignRequest>(
    sign: (request: Q) => Promise<R>,
    target: { keyArn: string; scope: string },
  ): IdempotentSign<R, Q>;
}

/** Builds the policy state from its settings, sharing one DynamoDB client between the store and Powertools. */
export function createPolicyState(config: PolicyStateConfig, client?: DynamoDBClient): PolicyState {
  const { tableName } = config;
  const dynamo = tableName === undefined ? undefined : (client ?? sharedPolicyStateClient(config));
  const store = tableName === undefined || !dynamo ? undefined : new SpendingStore({ tableName, client: dynamo, callTimeoutMs: config.callTimeoutMs });
  return {
    config,
    ...(store && { store }),
    idempotent: (sign, { keyArn, scope }) => {
      if (!config.idempotency || tableName === undefined || !dynamo) return (request) => sign(request);
      return makeIdempotentSign(sign, { tableName, client: dynamo, keyArn, scope, windowSeconds: config.idempotencyWindowSeconds });
    },
  };
}

/**
 * The deadline (Date.now() clock) for policy-state calls in an invocation: the Lambda's remaining time minus
 * `reserveMs` kept for the KMS call and the response. Without a context, `fallbackMs` from now.
 */
export function invocationDeadline(context: Partial<Pick<Context, 'getRemainingTimeInMillis'>> | undefined, { reserveMs = 2000, fallbackMs = 8000 } = {}): number {
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : fallbackMs + reserveMs;
  return Date.now() + Math.max(0, remaining - reserveMs);
}
