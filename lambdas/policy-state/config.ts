import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConfigurationError } from '../signer/errors';
import { createTrimmedClient } from '../signer/kms-client';
import { createWireClient } from './dynamodb-wire';
import { DEFAULT_IDEMPOTENCY_WINDOW_SECONDS } from './idempotency';

/** Where the spending limits and idempotency records live, and how the signer uses them (from its environment). */
export interface PolicyStateConfig {
  /** POLICY_TABLE_NAME: the DynamoDB table (infra/policy-table.ts); undefined when the function uses none. */
  readonly tableName?: string;
  /** IDEMPOTENCY=on|off: replay the first response to a retried sign request (default on when a table is set). */
  readonly idempotency: boolean;
  /** IDEMPOTENCY_WINDOW_SECONDS: how long a response is replayed (default 3600, from 60 to 604800). */
  readonly idempotencyWindowSeconds: number;
  /** POLICY_STATE_TIMEOUT_MS: longest single DynamoDB call (default 3000, from 100 to 10000); the invocation's remaining time can only shorten it. */
  readonly callTimeoutMs: number;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/**
 * Reads the policy-state settings, naming every problem at once. `needsTable` is true when the signing policy
 * declares spending limits: they cannot be enforced without the table, so its absence is a configuration error
 * (the function fails closed rather than signing uncounted).
 */
export function readPolicyStateConfig(env: NodeJS.ProcessEnv = process.env, { needsTable = false }: { needsTable?: boolean } = {}): PolicyStateConfig {
  const problems: string[] = [];
  const tableName = env.POLICY_TABLE_NAME?.trim() || undefined;
  // Stryker disable next-line ConditionalExpression: RegExp.test reads undefined as "undefined", a valid table name, so an unset name is never reported here
  if (tableName !== undefined && !TABLE_NAME.test(tableName)) problems.push(`POLICY_TABLE_NAME "${tableName.slice(0, 80)}" is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -)`);
  if (needsTable && tableName === undefined) {
    problems.push('POLICY_TABLE_NAME is not set, but the signing policy has spending limits: deploy the policy table (infra/policy-table.ts) and set its name');
  }

  const idempotencySetting = (env.IDEMPOTENCY?.trim() || (tableName ? 'on' : 'off')).toLowerCase();
  if (idempotencySetting !== 'on' && idempotencySetting !== 'off') problems.push(`IDEMPOTENCY "${String(env.IDEMPOTENCY).slice(0, 20)}" must be on or off`);
  const idempotency = idempotencySetting === 'on';
  if (idempotency && tableName === undefined) problems.push('IDEMPOTENCY is on but POLICY_TABLE_NAME is not set: idempotency records live in the policy table');

  const idempotencyWindowSeconds = integerSetting(env, 'IDEMPOTENCY_WINDOW_SECONDS', DEFAULT_IDEMPOTENCY_WINDOW_SECONDS, 60, 7 * 86_400, problems);
  const callTimeoutMs = integerSetting(env, 'POLICY_STATE_TIMEOUT_MS', 3000, 100, 10_000, problems);

  if (problems.length > 0) throw new ConfigurationError(problems);
  return { ...(tableName !== undefined && { tableName }), idempotency, idempotencyWindowSeconds, callTimeoutMs };
}

function integerSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    problems.push(`${name} "${text.slice(0, 20)}" must be a whole number from ${min} to ${max}`);
    return fallback;
  }
  return value;
}

let shared: DynamoDBClient | undefined;

/**
 * The process-wide DynamoDB client for the policy table: connection and request timeouts so a DynamoDB that
 * accepts and never answers cannot hold an invocation (every store call also carries the invocation's deadline),
 * and 2 attempts so a throttled call is retried once before the signer fails closed (a write sent twice takes
 * effect once: see spending-store.ts). Trimmed for the hot path as the KMS client is (createTrimmedClient:
 * cached middleware stack, user-agent headers computed until stable, no logger middleware), and its calls after
 * the first to a table sent on the wire without the SDK's per-call middleware (dynamodb-wire.ts).
 */
export function sharedPolicyStateClient(config: Pick<PolicyStateConfig, 'callTimeoutMs'>): DynamoDBClient {
  shared ??= createWireClient(
    createTrimmedClient(DynamoDBClient, {
      maxAttempts: 2,
      requestHandler: { connectionTimeout: Math.min(1000, config.callTimeoutMs), requestTimeout: config.callTimeoutMs },
    }),
  );
  return shared;
}
