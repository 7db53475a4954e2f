// Idempotent signing: the first response to a request is kept in the policy table and replayed to its retries.
//
// A caller that retries after a timeout must get the SAME signed transaction back (KMS signatures are
// randomised: signing twice gives two different valid transactions with the same nonce) and be counted once
// against the spending limits. The record is keyed on what is signed: the unsigned transaction's hash
// (keccak256 of its unsigned serialisation, which covers every field the signature covers, whatever notation
// the caller used for numbers), the sender, the replay-protection choice and the caller's optional
// `idempotencyKey`, hashed with SHA-256. It lives in the policy table under the key's partition
// (pk = key ARN, sk = "idempotency#<scope>#<base64 SHA-256>"), so the same dynamodb:LeadingKeys grant covers it.
//
// One conditional write per signature (issue 27): the signature is made first (in the handler, Sign and the
// spending reservation are on the wire before this runs), then ONE PutItem stores the response under the
// condition that no live record of the same request exists. If one does, its response is returned and ours
// is dropped, unseen: the caller gives back what it counted (lambdas/handler.ts compares the answer with its
// own). A write that DynamoDB applied but did not acknowledge, retried by the SDK and then refused, finds
// our own response in the record and is taken as stored. Records, attribute names and key hashing are those
// of Powertools' idempotency utility, which wrote them before (status, expiration, in_progress_expiration,
// data), so a deployment's live records keep replaying across the upgrade.
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { Transaction, getAddress, type TransactionRequest } from 'ethers';
import { failureName, policyStateCall, type CallBudget, type CallFailure } from './dynamodb-call';
import { sendDynamoDb } from './dynamodb-wire';
import { PolicyStateUnavailableError, SigningInProgressError, SpendingLimitExceededError } from './errors';
import { POLICY_TABLE_KEYS } from './spending-store';

/** Default time a signed response is replayed for a retry of the same request: one hour. */
export const DEFAULT_IDEMPOTENCY_WINDOW_SECONDS = 3600;
/** The attribute that holds a record's expiry (epoch seconds); enable DynamoDB TTL on it. */
export const IDEMPOTENCY_EXPIRY_ATTRIBUTE = 'expiration';

/** The part of a sign request that identifies it for idempotency. */
export interface IdempotentSignRequest {
  readonly transaction: TransactionRequest;
  readonly replayProtection: boolean;
  readonly idempotencyKey?: string;
  /** requestHash(this request), when the caller has computed it already (it also tags the request's reservation). */
  readonly requestHash?: string;
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
  /** Longest single record call; the invocation's remaining time can only shorten it. Default 3000 ms. */
  readonly callTimeoutMs?: number;
}

/**
 * A sign function made idempotent. Pass the Lambda context so that every record call ends before the invocation
 * does (`budget` overrides that deadline).
 */
export type IdempotentSign<R, Q extends IdempotentSignRequest = IdempotentSignRequest> = (request: Q, context?: Context, budget?: CallBudget) => Promise<R>;

/** Time kept back at the end of an invocation, after the last idempotency-record call, to return the response. */
const RESPONSE_MARGIN_MS = 300;
const DEFAULT_CALL_TIMEOUT_MS = 3000;
// Attribute names and statuses of the records (Powertools' idempotency utility wrote the same ones).
const STATUS = 'status';
const DATA = 'data';
const IN_PROGRESS_EXPIRY = 'in_progress_expiration';
const COMPLETED = 'COMPLETED';
const IN_PROGRESS = 'INPROGRESS';
// A live record blocks the write: one that does not exist, has expired, or was left in progress by an invocation
// that has timed out (records from before this module) may be replaced.
const REPLACEABLE = 'attribute_not_exists(#pk) OR #expiry < :now OR (#status = :inprogress AND attribute_exists(#ipe) AND #ipe < :nowMs)';

/**
 * Wraps `sign` so that a repeated request (same unsigned transaction, sender choice and idempotencyKey) within
 * the window gets the first response. `sign` runs for every request (in the handler it only claims the signature
 * already under way); its response is stored with one conditional PutItem, unless a live record of the same
 * request is there: then that record's response is returned instead of `sign`'s, which is dropped. A request
 * whose `sign` fails is answered from a live record if there is one (a retry of a signed request, refused now by
 * its limit), else with its error, and leaves no record; a limit refusal that found no live reservation of the same
 * request is not looked up. A record another invocation left in progress gives
 * SigningInProgressError. Failures of the record store fail closed with PolicyStateUnavailableError, without
 * signing when there is no time left to store a signature. The response must be JSON data.
 */
export function makeIdempotentSign<R extends object, Q extends IdempotentSignRequest = IdempotentSignRequest>(
  sign: (request: Q) => Promise<R>,
  options: IdempotentSignOptions,
): IdempotentSign<R, Q> {
  const windowSeconds = options.windowSeconds ?? DEFAULT_IDEMPOTENCY_WINDOW_SECONDS;
  const callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const prefix = `idempotency#${options.scope}#`;
  const names = { '#pk': POLICY_TABLE_KEYS.partitionKey, '#expiry': IDEMPOTENCY_EXPIRY_ATTRIBUTE, '#status': STATUS, '#ipe': IN_PROGRESS_EXPIRY };
  const itemKey = (sortKey: string): Record<string, AttributeValue> => ({ [POLICY_TABLE_KEYS.partitionKey]: { S: options.keyArn }, [POLICY_TABLE_KEYS.sortKey]: { S: sortKey } });

  /** One record call under the per-call timeout and the budget; any failure but a failed condition fails closed. */
  const send = <T>(call: (signal: AbortSignal) => Promise<T>, budget: CallBudget): Promise<T> => policyStateCall(call, budget, callTimeoutMs, recordFailure);

  const read = async (sortKey: string, budget: CallBudget) =>
    (await send((abortSignal) => sendDynamoDb(options.client, 'GetItem', { TableName: options.tableName, Key: itemKey(sortKey), ConsistentRead: true }, abortSignal), budget)).Item;

  /** Stores `response` unless a live record is there; returns the response the record holds (ours when stored). */
  const store = async (sortKey: string, response: R, budget: CallBudget): Promise<R> => {
    const data = toAttribute(response);
    const nowMs = Date.now();
    try {
      await send(
        (abortSignal) =>
          sendDynamoDb(
            options.client,
            'PutItem',
            {
              TableName: options.tableName,
              Item: { ...itemKey(sortKey), [STATUS]: { S: COMPLETED }, [IDEMPOTENCY_EXPIRY_ATTRIBUTE]: { N: String(Math.round(nowMs / 1000) + windowSeconds) }, [DATA]: data },
              ConditionExpression: REPLACEABLE,
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: { ':now': { N: String(nowMs / 1000) }, ':nowMs': { N: String(nowMs) }, ':inprogress': { S: IN_PROGRESS } },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
            abortSignal,
          ),
        budget,
      );
      return response;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // DynamoDB returns the record that blocked the write; emulators that do not (dynalite) cost a read.
      const item = error.Item ?? (await read(sortKey, budget));
      // Our own write, applied but not acknowledged, then retried and refused: stored.
      if (item?.[DATA] !== undefined && sameAttribute(item[DATA], data)) return response;
      const replay = liveResponse<R>(item, nowMs);
      if (replay) return replay;
      // Left in progress by an invocation still running, or gone again (expired and deleted) in between.
      throw new SigningInProgressError({ cause: error });
    }
  };

  return async (request, context, budget) => {
    // Only a real Lambda context (callers and tests may pass a partial one) tells the remaining time.
    const lambda = typeof context?.getRemainingTimeInMillis === 'function' ? context : undefined;
    const deadline = budget ?? (lambda ? { deadlineMs: Date.now() + lambda.getRemainingTimeInMillis() - RESPONSE_MARGIN_MS } : {});
    // No time left to keep a signature: sign nothing.
    if ((deadline.deadlineMs ?? Number.POSITIVE_INFINITY) <= Date.now() || deadline.signal?.aborted) {
      throw unavailable(timeoutError('the invocation ran out of time before DynamoDB was called'));
    }
    const sortKey = prefix + (request.requestHash ?? requestHash(request));
    let response: R;
    try {
      response = await sign(request);
    } catch (error) {
      // A limit refusal that found no reservation of this request in the spending item is answered as it is: one
      // DynamoDB call. (A retry of a request signed longer ago than its reservation record lives, a few minutes
      // past its invocation, then gets the refusal rather than its first response, while its limit is full.)
      if (error instanceof SpendingLimitExceededError && error.sameRequestReserved === false) throw error;
      // A retry of a request signed before: its first response, even if this attempt could not sign (its limit is
      // used up now, by its own first signature perhaps). A failed read leaves the signing error to answer.
      const replay = liveResponse<R>(await read(sortKey, deadline).catch(() => undefined), Date.now());
      if (replay) return replay;
      throw error;
    }
    return store(sortKey, response, deadline);
  };
}

/** The response a live completed record holds, or undefined; a malformed one fails closed. */
function liveResponse<R>(item: Record<string, AttributeValue> | undefined, nowMs: number): R | undefined {
  if (!item || item[STATUS]?.S !== COMPLETED || !(Number(item[IDEMPOTENCY_EXPIRY_ATTRIBUTE]?.N) >= nowMs / 1000)) return undefined;
  const data = item[DATA];
  const value = data === undefined ? undefined : fromAttribute(data);
  if (typeof value !== 'object' || value === null) throw new PolicyStateUnavailableError('the idempotency record holds no response it could replay');
  return value as R;
}

/** The hash that keys a request's idempotency record (and tags its spending reservation): same request, same hash. */
export function requestHash(request: IdempotentSignRequest): string {
  return recordHash(idempotencyIdentity(request));
}

/**
 * The record key's hash: base64 SHA-256 of the identity as JSON with its keys sorted (case-insensitively, as
 * Powertools' deepSort did, so that records it wrote keep their keys).
 */
function recordHash(identity: IdempotencyIdentity): string {
  const { from, idempotencyKey, replayProtection, unsignedHash } = identity;
  return createHash('sha256').update(JSON.stringify({ from, idempotencyKey, replayProtection, unsignedHash })).digest('base64');
}

/** A JSON value as a DynamoDB attribute (maps, lists, strings, numbers, booleans, null), as the SDK's marshall writes it. */
export function toAttribute(value: unknown): AttributeValue {
  if (value === null || value === undefined) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'boolean') return { BOOL: value };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('a response number must be finite');
    return { N: String(value) };
  }
  if (Array.isArray(value)) return { L: value.map(toAttribute) };
  if (typeof value === 'object') {
    const map: Record<string, AttributeValue> = {};
    for (const [key, field] of Object.entries(value)) if (field !== undefined) map[key] = toAttribute(field);
    return { M: map };
  }
  throw new TypeError(`a response cannot hold a ${typeof value}`);
}

/** The JSON value a DynamoDB attribute written by toAttribute (or the SDK's marshall) holds. */
export function fromAttribute(attribute: AttributeValue): unknown {
  if (attribute.S !== undefined) return attribute.S;
  if (attribute.N !== undefined) return Number(attribute.N);
  if (attribute.BOOL !== undefined) return attribute.BOOL;
  if (attribute.NULL !== undefined) return null;
  if (attribute.L !== undefined) return attribute.L.map(fromAttribute);
  if (attribute.M !== undefined) {
    const value: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(attribute.M)) value[key] = fromAttribute(field);
    return value;
  }
  throw new PolicyStateUnavailableError('the idempotency record holds a value of a type it never writes');
}

/** Same JSON value, whatever order DynamoDB returned the map's fields in. */
function sameAttribute(a: AttributeValue, b: AttributeValue): boolean {
  return canonicalJson(fromAttribute(a)) === canonicalJson(fromAttribute(b));
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const fields = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${fields.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** How the idempotency records word a failed DynamoDB call: our own reasons as a TimeoutError cause. */
function recordFailure(failure: CallFailure): PolicyStateUnavailableError {
  switch (failure.kind) {
    case 'cancelled-before':
    case 'no-time-before':
      return unavailable(timeoutError('the invocation ran out of time before DynamoDB was called'));
    case 'cancelled':
      return unavailable(timeoutError('the caller cancelled the request'));
    case 'timed-out':
      return unavailable(timeoutError(`no answer from DynamoDB within ${failure.timeoutMs} ms`));
    case 'failed':
      return unavailable(failure.error);
  }
}

function timeoutError(message: string): Error {
  const error = new Error(message);
  error.name = 'TimeoutError';
  return error;
}

/** A record call that failed or was given up (a TimeoutError of ours, kept as the innermost cause). */
function unavailable(cause: unknown): PolicyStateUnavailableError {
  const reason = cause instanceof Error && cause.name === 'TimeoutError' ? cause.message : `DynamoDB failed: ${failureName(cause)}`;
  return new PolicyStateUnavailableError(`idempotency record: ${reason}`, { cause });
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
