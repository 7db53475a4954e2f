import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { sharedPolicyStateClient, type PolicyStateConfig } from './config';
import { makeIdempotentSign, requestHash, type IdempotentSign, type IdempotentSignRequest } from './idempotency';
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
  /** When IDEMPOTENCY is on: the hash that keys a request's record, which also tags its spending reservation. */
  readonly requestHash?: (request: IdempotentSignRequest) => string;
}

/** Builds the policy state from its settings, sharing one DynamoDB client between the store and the idempotency records. */
export function createPolicyState(config: PolicyStateConfig, client?: DynamoDBClient): PolicyState {
  const { tableName } = config;
  // Without a table there is nothing to keep: no store, and idempotency (which needs the table) stays off.
  if (tableName === undefined) return { config, idempotent: (sign) => (request) => sign(request) };
  const dynamo = client ?? sharedPolicyStateClient(config);
  return {
    config,
    store: new SpendingStore({ tableName, client: dynamo, callTimeoutMs: config.callTimeoutMs }),
    idempotent: (sign, { keyArn, scope }) => {
      if (!config.idempotency) return (request) => sign(request);
      return makeIdempotentSign(sign, { tableName, client: dynamo, keyArn, scope, windowSeconds: config.idempotencyWindowSeconds, callTimeoutMs: config.callTimeoutMs });
    },
    ...(config.idempotency && { requestHash }),
  };
}

export { invocationDeadline } from './deadline';
