// Idempotent signing with Powertools' idempotency utility, persisted in the policy table.
//
// A caller that retries after a timeout must get the SAME signed transaction back (KMS signatures are
// randomised: signing twice gives two different valid transactions with the same nonce) and be counted once
// against the spending limits. The idempotency record is keyed on what is signed: the unsigned transaction's
// hash (keccak256 of its unsigned serialisation, which covers every field the signature covers, whatever
// notation the caller used for numbers), the sender, the replay-protection choice and the caller's optional
// `idempotencyKey`, hashed with SHA-256. The record lives in the policy table under the key's partition
// (pk = key ARN, sk = "idempotency#<scope>#<base64 SHA-256>"), so the same dynamodb:LeadingKeys grant covers it.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { Transaction, getAddress, type TransactionRequest } from 'ethers';
import { PolicyStateUnavailableError, SigningInProgressError } from './errors';
import { POLICY_TABLE_KEYS, type CallBudget } from './spending-store';

/** Default time a signed response is replayed for a retry of the same request: one hour. */
export const DEFAULT_IDEMPOTENCY_WINDOW_SECONDS = 3600;
/** The attribute that holds a record's expiry (epoch seconds); enable DynamoDB TTL on it. */
export const IDEMPOTENCY_EXPIRY_ATTRIBUTE = 'expiration';

/** The part of a sign request that identifies it for idempotency. */
export interface IdempotentSignRequest {
  readonly transaction: TransactionRequest;
  readonly replayProtection: boolean;
  readonly idempotencyKey?: string;
}

/** Settings of the idempotency wrapper. */
export interface IdempotentSignOptions {
  readonly tableName: string;
  readonly client: DynamoDBClient;
  /** The KMS key ARN: the partition the records live in (and that IAM confines the signer role to). */
  readonly keyArn: string;
  /** Separates records of different operations or functions sharing the key (e.g. "eip1559"). */
  readonly scope: string;
  /** How long a completed response is replayed for a retry; default DEFAULT_IDEMPOTENCY_WINDOW_SECONDS. */
  readonly windowSeconds?: number;
}

/**
 * A sign function made idempotent. Pass the Lambda context so that an interrupted request unlocks when the
 * invocation would have timed out, and so that every idempotency-record call ends before the invocation does
 * (`budget` overrides that deadline).
 */
export type IdempotentSign<R, Q extends IdempotentSignRequest = IdempotentSignRequest> = (request: Q, context?: Context, budget?: CallBudget) => Promise<R>;

/** Time kept back at the end of an invocation, after the last idempotency-record call, to return the response. */
const RESPONSE_MARGIN_MS = 300;

/**
 * Wraps `sign` so that a repeated request (same unsigned transaction, sender choice and idempotencyKey) within
 * the window returns the first response instead of signing (and counting) again. A duplicate that arrives while
 * the first is still running gets SigningInProgressError; a failed `sign` leaves no record, so a retry signs.
 * Failures of the record store fail closed with PolicyStateUnavailableError. The response must be JSON data.
 */
export function makeIdempotentSign<R extends object, Q extends IdempotentSignRequest = IdempotentSignRequest>(
  sign: (request: Q) => Promise<R>,
  options: IdempotentSignOptions,
): IdempotentSign<R, Q> {
  const windowSeconds = options.windowSeconds ?? DEFAULT_IDEMPOTENCY_WINDOW_SECONDS;
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    awsSdkV3Client: options.client,
    keyAttr: POLICY_TABLE_KEYS.partitionKey,
    sortKeyAttr: POLICY_TABLE_KEYS.sortKey,
    staticPkValue: options.keyArn,
    expiryAttr: IDEMPOTENCY_EXPIRY_ATTRIBUTE,
  });
  bindDeadlines(options.client);
  // (No throwOnNoIdempotencyKey: the identity always has an unsignedHash, so the key is never missing.)
  const config = new IdempotencyConfig({ expiresAfterSeconds: windowSeconds, hashFunction: 'sha256' });
  // Only the identity (argument 0) is hashed; the request may carry more (e.g. the policy decision's charges).
  // (Typed by the base request: Powertools' option types cannot resolve a generic parameter; only Q is passed in.)
  const idempotent = makeIdempotent(async (_identity: IdempotencyIdentity, request: IdempotentSignRequest) => sign(request as Q), {
    persistenceStore,
    config,
    keyPrefix: `idempotency#${options.scope}`,
    dataIndexArgument: 0,
  });
  return async (request, context, budget) => {
    // Only a real Lambda context (callers and tests may pass a partial one) tells the remaining time.
    const lambda = typeof context?.getRemainingTimeInMillis === 'function' ? context : undefined;
    // Stryker disable next-line ConditionalExpression: as true it only forgets an earlier call's context
    if (lambda) config.registerLambdaContext(lambda);
    const identity = idempotencyIdentity(request);
    const deadline = budget ?? (lambda ? { deadlineMs: Date.now() + lambda.getRemainingTimeInMillis() - RESPONSE_MARGIN_MS } : {});
    try {
      return await callBudget.run(deadline, () => idempotent(identity, request));
    } catch (error) {
      throw toSignerError(error);
    }
  };
}

// Powertools makes its DynamoDB calls without an abort signal; a middleware on the client ends each of them (with
// its retries) at the deadline of the invocation it runs for, found through async context.
const callBudget = new AsyncLocalStorage<CallBudget>();
const boundClients = new WeakSet<DynamoDBClient>();

function bindDeadlines(client: DynamoDBClient): void {
  if (boundClients.has(client)) return;
  boundClients.add(client);
  // Added at the default step, initialize, outside the retries: the deadline covers them all.
  client.middlewareStack.add((next) => async (args) => {
    const budget = callBudget.getStore();
    // Calls outside makeIdempotentSign (the spending store shares the client) bring their own abort signal.
    if (!budget) return next(args);
    // Without a deadline or a signal the race below has nothing to lose against: no timer, no listener.
    const leftMs = (budget.deadlineMs ?? Number.POSITIVE_INFINITY) - Date.now();
    if (leftMs <= 0 || budget.signal?.aborted) throw deadlineError('the invocation ran out of time before DynamoDB was called');
    let timer: NodeJS.Timeout | undefined;
    let onAbort!: () => void; // assigned by the promise executor, which runs at once
    const expired = new Promise<never>((_, reject) => {
      if (Number.isFinite(leftMs)) timer = setTimeout(() => reject(deadlineError(`no answer from DynamoDB within ${Math.round(leftMs)} ms`)), leftMs);
      onAbort = () => reject(deadlineError('the caller cancelled the request'));
      budget.signal?.addEventListener('abort', onAbort);
    });
    try {
      return await Promise.race([next(args), expired]);
    } finally {
      clearTimeout(timer);
      budget.signal?.removeEventListener('abort', onAbort);
    }
  });
}

function deadlineError(message: string): Error {
  const error = new Error(message);
  error.name = 'TimeoutError';
  return error;
}

/** What identifies a sign request for idempotency (hashed, never stored as such). */
export interface IdempotencyIdentity {
  readonly unsignedHash: string;
  readonly from: string | null;
  readonly replayProtection: boolean;
  readonly idempotencyKey: string | null;
}

/** The canonical identity of a request: the hash of exactly what would be signed, whatever notation the fields used. */
export function idempotencyIdentity({ transaction, replayProtection, idempotencyKey }: IdempotentSignRequest): IdempotencyIdentity {
  const { from, ...unsigned } = transaction;
  return {
    unsignedHash: Transaction.from(unsigned as Parameters<typeof Transaction.from>[0]).unsignedHash,
    from: typeof from === 'string' ? getAddress(from) : null,
    replayProtection,
    idempotencyKey: idempotencyKey ?? null,
  };
}

export { IDEMPOTENCY_KEY_PATTERN, idempotencyKeyProblem } from './idempotency-key';

function toSignerError(error: unknown): unknown {
  // The signer's own failures (its record was removed: no SignerError's name starts with Idempotency) and
  // anything else not from Powertools pass through unchanged.
  // Stryker disable next-line StringLiteral: any fallback name not starting with Idempotency passes
  const name = error instanceof Error ? error.name : '';
  if (name === 'IdempotencyAlreadyInProgressError') return new SigningInProgressError({ cause: error });
  if (name.startsWith('Idempotency')) return new PolicyStateUnavailableError(`idempotency record: ${name}`, { cause: error });
  return error;
}
