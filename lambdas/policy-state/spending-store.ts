// Spending limits that hold across invocations and instances, kept in DynamoDB.
//
// One item per key holds every limit of that key: { pk: <key ARN>, sk: "spending", v: <version>,
// limits: { "<limit id>@<asset>": { w, s, u, t, n, p, b: { <bucket>: amount }, c: { <bucket>: count } } } }
// (w window ms, s bucket span ms, u unit exponent or -1, t/n totals of the buckets, p when the oldest bucket stops
// counting; see rolling-window.ts). One item makes a reservation over several limits atomic with ONE conditional
// write, without TransactWriteItems, and the partition key is the key ARN so IAM can confine a signer role to its
// own key's items (dynamodb:LeadingKeys).
//
// Every reservation is recorded in the same item by a random id (r: { <slot>: { <id>: 1 } }), written by the
// same conditional write that counts it and removed by the one that gives it back: a reserve applies only if its
// id is absent, a release only if it is present. So a write that DynamoDB applied but did not acknowledge, and that
// the SDK (maxAttempts 2) or the slow path's loop then sends again, takes effect exactly once. A record is only
// needed while its invocation can still release it: it lives in the slot of its expiry (the invocation's deadline
// plus a margin for clock skew, in whole minutes) and rebuilt writes drop the slots that have passed. A release
// that finds no record gives nothing back (stricter, never looser). A reservation made for a request that its
// caller may retry (ReserveOptions.retryKey, the idempotency hash) has an id that starts with a tag of that key, so
// that a refusal can tell, from the item it already has, whether the same request reserved minutes ago: only then
// is the idempotency record worth a read (lambdas/policy-state/idempotency.ts), and a refusal costs one call.
//
// Reserve takes the fast path first: a single UpdateItem that adds to the current bucket under the condition
// that every limit's total still leaves room and no bucket has expired yet (so the totals are exact). DynamoDB
// applies conditional updates of one item one at a time, so concurrent reservations never overshoot a cap and
// never need to retry. Only when that condition fails does the slow path read the item (consistent read), prune
// expired buckets, tell "over the cap" (SpendingLimitExceededError, with what remains) from "needs pruning or
// first use", and write the rebuilt limits under an optimistic version condition, retried with jitter.
import { createHash, randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SpendCharge, SpendingLimit } from '../policy/spending';
import { callTimeLeft, failureName, policyStateCall, type CallBudget, type CallFailure } from './dynamodb-call';
import { sendDynamoDb } from './dynamodb-wire';
import { InvalidSpendingLimitError, PolicyStateUnavailableError, SpendingLimitExceededError } from './errors';
import {
  bucketIndexAt,
  capUnits,
  layoutOf,
  liveState,
  remainingOf,
  toUnits,
  totalsOf,
  withCharge,
  wouldExceed,
  type Bucket,
  type WindowLayout,
  type WindowState,
} from './rolling-window';

/** The sort key of the item that holds a key's spending limits. */
export const SPENDING_SORT_KEY = 'spending';
/** Most limits one key's item may hold (bounds its size: about 1.2 KB per limit). */
export const MAX_LIMITS_PER_KEY = 100;
const MAX_FAST_PATH_LIMITS = 8; // keeps the update expression well under DynamoDB's 4 KB
const MAX_ATTEMPTS = 10;
const DEFAULT_CALL_TIMEOUT_MS = 3000;
/** Records live in slots of one minute, named by the minute their records expire in. */
const RECORD_SLOT_MS = 60_000;
/** Kept after a record's deadline: clocks of Lambda instances differ, and a late retry must still find it. */
const RECORD_MARGIN_MS = 120_000;
/** A record's lifetime when the caller gives no deadline: Lambda's longest invocation. */
const RECORD_LIFETIME_MS = 15 * 60_000;
/** Slots created ahead by a rebuilt write, so that the fast path finds its slot for a few minutes. */
const RECORD_SLOTS_AHEAD = 3;

/** The table layout: a string partition key (the KMS key ARN) and a string sort key. */
export interface PolicyTableKeys {
  readonly partitionKey: string;
  readonly sortKey: string;
}
/** Attribute names of the policy table's keys. */
export const POLICY_TABLE_KEYS: PolicyTableKeys = { partitionKey: 'pk', sortKey: 'sk' };

export { callSignal, type CallBudget } from './dynamodb-call';

/** Who reserves, for which request, and at what time (injected by tests to roll the window). */
export interface ReserveOptions extends CallBudget {
  /** The KMS key ARN: the partition of the key's limits. */
  readonly keyArn: string;
  /** Identifies the request in logs (e.g. the Lambda request id). */
  readonly reservationId: string;
  /** The time the charges are counted at; default Date.now(). */
  readonly nowMs?: number;
  /**
   * The same for every retry of one request (its idempotency hash), none for a request that is never replayed:
   * the reservation's record is tagged with it, and a refusal says whether the item holds a live reservation of the
   * same request (SpendingLimitExceededError.sameRequestReserved).
   */
  readonly retryKey?: string;
}

/** What `reserve` counted, to be given back with `release` if signing then fails. */
export interface Reservation {
  readonly keyArn: string;
  readonly reservationId: string;
  readonly charges: readonly ReservedCharge[];
  /** Where the reservation is recorded in the item: what makes its reserve and its release apply exactly once. */
  readonly record: ReservationRecord;
}

/** A reservation's record: its random id and the slot (minute of expiry) it lives in. */
export interface ReservationRecord {
  readonly slot: string;
  readonly id: string;
}

/** One limit's part of a reservation: where it was counted. */
export interface ReservedCharge {
  readonly limit: SpendingLimit;
  readonly amount: bigint;
  readonly entryKey: string;
  readonly layout: WindowLayout;
  readonly bucketIndex: number;
  readonly units: bigint;
}

/** Settings of a store. */
export interface SpendingStoreOptions {
  readonly tableName: string;
  readonly client: DynamoDBClient;
  /** Longest single DynamoDB call; a caller's deadline can only shorten it. Default 3000 ms. */
  readonly callTimeoutMs?: number;
}

/** Reserves and releases spending against the limits of a signing policy, in DynamoDB. */
export class SpendingStore {
  readonly #tableName: string;
  readonly #client: DynamoDBClient;
  readonly #callTimeoutMs: number;
  readonly #released = new WeakSet<Reservation>();

  constructor(options: SpendingStoreOptions) {
    this.#tableName = options.tableName;
    this.#client = options.client;
    this.#callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  /**
   * Counts `charges` against their limits, all or none: throws SpendingLimitExceededError (nothing counted) if
   * any limit would go over its cap, PolicyStateUnavailableError (nothing counted, or an over-count that only
   * makes the limit stricter) if DynamoDB fails or the budget runs out. With no charges it makes no call.
   */
  async reserve(charges: readonly SpendCharge[], options: ReserveOptions): Promise<Reservation> {
    const nowMs = options.nowMs ?? Date.now();
    const reserved = mergeCharges(charges, nowMs);
    const tag = options.retryKey === undefined ? undefined : retryTag(options.retryKey);
    const record = newRecord(options.deadlineMs, tag);
    const reservation: Reservation = { keyArn: options.keyArn, reservationId: options.reservationId, charges: reserved, record };
    if (reserved.length === 0) return reservation;
    if (!options.keyArn) throw new InvalidSpendingLimitError('reserve needs the key ARN.');

    // Stryker disable next-line EqualityOperator: at exactly 8 limits both paths count the same
    const fast = reserved.length <= MAX_FAST_PATH_LIMITS ? fastUpdate(reserved, record, { kind: 'reserve', nowMs }) : undefined;
    for (let attempt = 1; ; attempt++) {
      // After a lost race the winner has usually initialised or pruned the item: the fast path then serialises us.
      const refused = fast ? await this.#conditionalUpdate(options.keyArn, fast, options) : NOT_TRIED;
      if (refused === APPLIED) return reservation;
      // DynamoDB returns the item with a failed condition (ALL_OLD): no read needed to tell why. Emulators that
      // return none (dynalite), and a key with no item yet, cost a consistent read.
      const item = refused.item ?? (await this.#read(options.keyArn, options));
      // Our own write, applied but not acknowledged (then retried and refused): it is counted, exactly once.
      if (hasRecord(item, record)) return reservation;
      const limits = decodeLimits(item);
      const next = new Map<string, WindowState>();
      for (const charge of reserved) {
        const live = liveState(limits.get(charge.entryKey), charge.layout, nowMs, charge.limit.maxAmount);
        if (wouldExceed(live, charge.limit, charge.units)) {
          throw new SpendingLimitExceededError(remainingOf(live, charge.limit), charge.amount, tag === undefined ? {} : { sameRequestReserved: hasTaggedRecord(item, tag) });
        }
        next.set(charge.entryKey, withCharge(live, charge.bucketIndex, charge.units, 1));
      }
      if (await this.#writeRebuilt(options.keyArn, item, limits, next, nowMs, { add: record }, options)) return reservation;
      await this.#backOff(attempt, options);
    }
  }

  /**
   * Gives back what a reservation counted (signing failed after it was made), exactly once: in this process and
   * in DynamoDB, whatever the retries, since the write that gives it back also removes its record. A charge whose
   * bucket has already left the window is simply gone. Throws PolicyStateUnavailableError if DynamoDB fails or the
   * budget runs out, in which case the charges stay counted (stricter, never looser). Pass the invocation's
   * deadline: without one each call gets the store's own call timeout.
   */
  async release(reservation: Reservation, budget: CallBudget = {}): Promise<void> {
    if (reservation.charges.length === 0 || this.#released.has(reservation)) return;
    this.#released.add(reservation);
    const { keyArn, charges, record } = reservation;
    // Stryker disable next-line EqualityOperator: at exactly 8 limits both paths give back the same
    let refused = charges.length <= MAX_FAST_PATH_LIMITS ? await this.#conditionalUpdate(keyArn, fastUpdate(charges, record, { kind: 'release' }), budget) : NOT_TRIED;
    if (refused === APPLIED) return;
    const nowMs = Date.now();
    for (let attempt = 1; ; attempt++) {
      const item = refused.item ?? (await this.#read(keyArn, budget));
      refused = NOT_TRIED; // a later attempt reads afresh
      // No record: released already (a write applied, then retried), never reserved, or expired: nothing to give back.
      if (!hasRecord(item, record)) return;
      const limits = decodeLimits(item);
      const next = new Map<string, WindowState>();
      for (const charge of charges) {
        const stored = limits.get(charge.entryKey);
        if (!stored || !sameLayout(stored.layout, charge.layout)) continue;
        const live = liveState(stored, charge.layout, nowMs);
        // Stryker disable next-line ConditionalExpression: else an empty expired bucket, no count
        if (!live.buckets.has(charge.bucketIndex)) continue;
        next.set(charge.entryKey, withCharge(live, charge.bucketIndex, -charge.units, -1));
      }
      // Stryker disable next-line ConditionalExpression: else a write that gives nothing back
      if (next.size === 0) return;
      if (await this.#writeRebuilt(keyArn, item, limits, next, nowMs, { remove: record }, budget)) return;
      await this.#backOff(attempt, budget);
    }
  }

  /** Runs an UpdateItem: APPLIED, or refused by its condition, with the item as it was if DynamoDB returned it. */
  async #conditionalUpdate(keyArn: string, update: UpdateParts, budget: CallBudget): Promise<typeof APPLIED | Refused> {
    try {
      await this.#send(
        (abortSignal) =>
          sendDynamoDb(
            this.#client,
            'UpdateItem',
            {
              TableName: this.#tableName,
              Key: itemKey(keyArn),
              UpdateExpression: update.expression,
              ConditionExpression: update.condition,
              ExpressionAttributeNames: update.names,
              ExpressionAttributeValues: update.values,
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
            abortSignal,
          ),
        budget,
      );
      return APPLIED;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { item: error.Item };
      throw error;
    }
  }

  async #read(keyArn: string, budget: CallBudget): Promise<Record<string, AttributeValue> | undefined> {
    const result = await this.#send(
      (abortSignal) => sendDynamoDb(this.#client, 'GetItem', { TableName: this.#tableName, Key: itemKey(keyArn), ConsistentRead: true }, abortSignal),
      budget,
    );
    return result.Item;
  }

  /**
   * Writes the rebuilt limits (and drops limits whose buckets have all left the window) and the reservation
   * records (adding or removing one, dropping the slots that have expired) if nobody wrote the item since it
   * was read; false if somebody did.
   */
  async #writeRebuilt(
    keyArn: string,
    item: Record<string, AttributeValue> | undefined,
    stored: ReadonlyMap<string, WindowState>,
    next: ReadonlyMap<string, WindowState>,
    nowMs: number,
    change: RecordChange,
    budget: CallBudget,
  ): Promise<boolean> {
    const records = rebuiltRecords(item, change);
    const dead = [...stored].filter(([entryKey, state]) => !next.has(entryKey) && liveState(state, state.layout, nowMs).buckets.size === 0).map(([key]) => key);
    if (stored.size - dead.length + [...next.keys()].filter((key) => !stored.has(key)).length > MAX_LIMITS_PER_KEY) {
      throw new InvalidSpendingLimitError(`A key may have at most ${MAX_LIMITS_PER_KEY} spending limits in use at once.`);
    }
    try {
      if (!item) {
        const limits: Record<string, AttributeValue> = {};
        for (const [entryKey, state] of next) limits[entryKey] = encodeState(state);
        await this.#send(
          (abortSignal) =>
            sendDynamoDb(
              this.#client,
              'PutItem',
              {
                TableName: this.#tableName,
                Item: { ...itemKey(keyArn), v: { N: '1' }, limits: { M: limits }, r: records },
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': POLICY_TABLE_KEYS.partitionKey },
              },
              abortSignal,
            ),
          budget,
        );
        return true;
      }
      // The store always writes v; without one the condition (v = 0) never holds: the write fails closed.
      const version = BigInt(item.v?.N ?? 0);
      const names: Record<string, string> = { '#v': 'v', '#L': 'limits', '#R': 'r' };
      const values: Record<string, AttributeValue> = { ':v': { N: String(version) }, ':next': { N: String(version + 1n) }, ':r': records };
      const sets = ['#v = :next', '#R = :r'];
      let i = 0;
      for (const [entryKey, state] of next) {
        names[`#e${i}`] = entryKey;
        values[`:e${i}`] = encodeState(state);
        sets.push(`#L.#e${i} = :e${i}`);
        i++;
      }
      const removes = dead.map((entryKey, j) => {
        names[`#d${j}`] = entryKey;
        return `#L.#d${j}`;
      });
      const expression = `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`;
      return (await this.#conditionalUpdate(keyArn, { expression, condition: '#v = :v', names, values }, budget)) === APPLIED;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** One DynamoDB call under the per-call timeout and the caller's budget; any failure but a failed condition fails closed. */
  #send<T>(call: (signal: AbortSignal) => Promise<T>, budget: CallBudget): Promise<T> {
    return policyStateCall(call, budget, this.#callTimeoutMs, storeFailure);
  }

  /** Waits a random time that grows with the attempt (full jitter), or gives up after MAX_ATTEMPTS. */
  async #backOff(attempt: number, budget: CallBudget): Promise<void> {
    if (attempt >= MAX_ATTEMPTS) throw new PolicyStateUnavailableError(`the spending item stayed contended after ${MAX_ATTEMPTS} attempts`);
    const delayMs = Math.random() * Math.min(200, 5 * 2 ** attempt);
    const left = callTimeLeft(budget, this.#callTimeoutMs, storeFailure);
    await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, left)));
  }
}

/** How the store words a failed DynamoDB call. */
function storeFailure(failure: CallFailure): PolicyStateUnavailableError {
  switch (failure.kind) {
    case 'cancelled-before':
      return new PolicyStateUnavailableError('the caller cancelled the request');
    case 'no-time-before':
      return new PolicyStateUnavailableError('the invocation ran out of time before DynamoDB answered');
    case 'cancelled':
      return new PolicyStateUnavailableError('the caller cancelled the request', { cause: failure.error });
    case 'timed-out':
      return new PolicyStateUnavailableError(`no answer from DynamoDB within ${failure.timeoutMs} ms`, { cause: failure.error });
    case 'failed':
      return new PolicyStateUnavailableError(`DynamoDB failed: ${failureName(failure.error)}`, { cause: failure.error });
  }
}

const APPLIED = 'applied';
/** A conditional write refused: the item as DynamoDB saw it, when it returned it. */
interface Refused {
  readonly item?: Record<string, AttributeValue> | undefined;
}
const NOT_TRIED: Refused = {};

/** The item key of a key's spending limits. */
export function itemKey(keyArn: string): Record<string, AttributeValue> {
  return { [POLICY_TABLE_KEYS.partitionKey]: { S: keyArn }, [POLICY_TABLE_KEYS.sortKey]: { S: SPENDING_SORT_KEY } };
}

/** One charge per limit (amounts of the same limit added up: one transaction is one signature). */
export function mergeCharges(charges: readonly SpendCharge[], nowMs: number): ReservedCharge[] {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) throw new InvalidSpendingLimitError('nowMs must be a non-negative integer of milliseconds.');
  const byEntry = new Map<string, { limit: SpendingLimit; amount: bigint }>();
  for (const { limit, amount } of charges) {
    if (typeof amount !== 'bigint' || amount < 0n) throw new InvalidSpendingLimitError(`Spending limit "${String(limit.id).slice(0, 80)}": a charge must be a non-negative bigint.`);
    const entryKey = `${limit.id}@${limit.asset}`;
    const previous = byEntry.get(entryKey);
    byEntry.set(entryKey, { limit, amount: (previous?.amount ?? 0n) + amount });
  }
  return [...byEntry].map(([entryKey, { limit, amount }]) => {
    const layout = layoutOf(limit);
    return { limit, amount, entryKey, layout, bucketIndex: bucketIndexAt(nowMs, layout), units: toUnits(amount, layout) };
  });
}

interface UpdateParts {
  expression: string;
  condition: string;
  names: Record<string, string>;
  values: Record<string, AttributeValue>;
}

/** Which way a fast update moves a reservation's charges: into their current buckets, or back out of them. */
type FastMove = { readonly kind: 'reserve'; readonly nowMs: number } | { readonly kind: 'release' };

/**
 * The single conditional update that moves every charge into its current bucket (reserve) or back out of it
 * (release), provided each limit is still in the layout it was charged in. A reserve also needs no bucket of the
 * limit expired (so its totals are exact) and room under each cap; a release needs the bucket to still hold what
 * it takes back. The reservation's record makes either apply exactly once: a reserve writes it and needs it absent
 * (and its slot present: a path inside a missing map cannot be set), a release needs it present and removes it.
 */
function fastUpdate(charges: readonly ReservedCharge[], record: ReservationRecord, move: FastMove): UpdateParts {
  const reserve = move.kind === 'reserve';
  const op = reserve ? '+' : '-';
  const names: Record<string, string> = { ...FIELD_NAMES, ...recordNames(record) };
  const values: Record<string, AttributeValue> = reserve ? { ':one': { N: '1' }, ':zero': { N: '0' }, ':now': { N: String(move.nowMs) } } : { ':one': { N: '1' } };
  const conditions = reserve ? ['attribute_exists(#R.#rs)', 'attribute_not_exists(#R.#rs.#ri)'] : ['attribute_exists(#R.#rs.#ri)'];
  const sets = reserve ? ['#v = #v + :one', '#R.#rs.#ri = :one'] : ['#v = #v + :one'];
  charges.forEach((charge, i) => {
    const entry = `#L.#e${i}`;
    const count = `${entry}.#c.#k${i}`;
    const amount = `${entry}.#b.#k${i}`;
    // A reserve may open its bucket; a release only takes from a bucket that is there.
    const current = (path: string) => (reserve ? `if_not_exists(${path}, :zero)` : path);
    names[`#e${i}`] = charge.entryKey;
    names[`#k${i}`] = String(charge.bucketIndex);
    values[`:w${i}`] = { N: String(charge.layout.windowMs) };
    values[`:s${i}`] = { N: String(charge.layout.spanMs) };
    values[`:u${i}`] = { N: String(charge.layout.unitExponent) };
    conditions.push(`${entry}.#w = :w${i}`, `${entry}.#s = :s${i}`, `${entry}.#u = :u${i}`, reserve ? `${entry}.#p > :now` : `${count} >= :one`);
    sets.push(`${entry}.#n = ${entry}.#n ${op} :one`, `${count} = ${current(count)} ${op} :one`);
    if (reserve && charge.limit.maxCount !== undefined) {
      values[`:nmax${i}`] = { N: String(charge.limit.maxCount - 1) };
      conditions.push(`${entry}.#n <= :nmax${i}`);
    }
    // Amounts are counted only under an amount cap (the charge's layout, layoutOf(limit), has unit exponent -1 without one).
    const { maxAmount } = charge.limit;
    if (maxAmount === undefined) return;
    values[`:a${i}`] = { N: charge.units.toString() };
    if (reserve) {
      values[`:tmax${i}`] = { N: (capUnits(maxAmount, charge.layout) - charge.units).toString() };
      conditions.push(`${entry}.#t <= :tmax${i}`);
    } else conditions.push(`${amount} >= :a${i}`, `${entry}.#t >= :a${i}`);
    sets.push(`${entry}.#t = ${entry}.#t ${op} :a${i}`, `${amount} = ${current(amount)} ${op} :a${i}`);
  });
  const remove = reserve ? '' : ' REMOVE #R.#rs.#ri';
  return usedOnly({ expression: `SET ${sets.join(', ')}${remove}`, condition: conditions.join(' AND '), names, values });
}

/**
 * DynamoDB rejects expression names and values that the expressions do not use. The builder starts from every
 * field name (FIELD_NAMES) but adds only values that its expressions use, so only the names are filtered.
 */
function usedOnly(parts: UpdateParts): UpdateParts {
  // One scan of the expressions for their name tokens, not a regular expression built per name on every call.
  const used = new Set(`${parts.expression} ${parts.condition}`.match(/#[A-Za-z0-9_]+/g));
  return { ...parts, names: Object.fromEntries(Object.entries(parts.names).filter(([token]) => used.has(token))) };
}

/**
 * A new reservation record in the slot of the minute it expires in: a random id of 16 characters, or, for a request
 * that may be retried, its tag followed by 8 random characters (48 bits: ids of one request in one slot never meet).
 */
function newRecord(deadlineMs: number | undefined, tag?: string): ReservationRecord {
  const nowMs = Date.now();
  const expiresMs = Math.max(nowMs, deadlineMs ?? nowMs + RECORD_LIFETIME_MS) + RECORD_MARGIN_MS;
  const id = tag === undefined ? randomBytes(12).toString('base64url') : tag + randomBytes(6).toString('base64url');
  return { slot: String(Math.ceil(expiresMs / RECORD_SLOT_MS)), id };
}

/**
 * The first 8 characters (48 bits) of a retry key's SHA-256: short, since every record makes every write of the item
 * dearer, and two requests that share a tag only cost a refusal one read it did not need.
 */
function retryTag(retryKey: string): string {
  return createHash('sha256').update(retryKey).digest('base64url').slice(0, RETRY_TAG_LENGTH);
}
const RETRY_TAG_LENGTH = 8;

/** Whether the item holds a reservation record, in a slot not yet expired, of the request with this tag. */
function hasTaggedRecord(item: Record<string, AttributeValue> | undefined, tag: string): boolean {
  return liveSlots(item).some(([, records]) => Object.keys(records).some((id) => id.startsWith(tag)));
}

/** The item's record slots that have not expired (by this instance's clock), each with its records. */
function liveSlots(item: Record<string, AttributeValue> | undefined): [string, Record<string, AttributeValue>][] {
  const current = Math.ceil(Date.now() / RECORD_SLOT_MS);
  return Object.entries(item?.r?.M ?? {}).flatMap(([slot, value]) => (/^\d{1,15}$/.test(slot) && Number(slot) >= current && value.M ? [[slot, value.M]] : []));
}

function recordNames(record: ReservationRecord): Record<string, string> {
  return { '#R': 'r', '#rs': record.slot, '#ri': record.id };
}

function hasRecord(item: Record<string, AttributeValue> | undefined, record: ReservationRecord): boolean {
  const slots = item?.r?.M;
  const records = slots && Object.hasOwn(slots, record.slot) ? slots[record.slot]?.M : undefined;
  return records !== undefined && Object.hasOwn(records, record.id);
}

/** What a rebuilt write does to the reservation records besides dropping the expired slots. */
type RecordChange = { readonly add: ReservationRecord } | { readonly remove: ReservationRecord };

/**
 * The records map a rebuilt write stores: the slots that have not expired (by this instance's clock) with the
 * one change applied; a record added also creates the next few slots empty, so that the fast path of the
 * reservations that follow finds the slot it records into.
 */
function rebuiltRecords(item: Record<string, AttributeValue> | undefined, change: RecordChange): AttributeValue {
  const slots = new Map(liveSlots(item).map(([slot, records]) => [slot, { ...records }]));
  if ('add' in change) {
    const first = Number(change.add.slot);
    for (let slot = first; slot <= first + RECORD_SLOTS_AHEAD; slot++) if (!slots.has(String(slot))) slots.set(String(slot), {});
    slots.set(change.add.slot, { ...slots.get(change.add.slot), [change.add.id]: { N: '1' } });
  } else {
    const records = slots.get(change.remove.slot);
    if (records) delete records[change.remove.id];
  }
  return { M: Object.fromEntries([...slots].map(([slot, records]) => [slot, { M: records }])) };
}

const FIELD_NAMES = { '#v': 'v', '#L': 'limits', '#w': 'w', '#s': 's', '#u': 'u', '#t': 't', '#n': 'n', '#p': 'p', '#b': 'b', '#c': 'c' };

function sameLayout(a: WindowLayout, b: WindowLayout): boolean {
  return a.windowMs === b.windowMs && a.spanMs === b.spanMs && a.unitExponent === b.unitExponent;
}

/** A limit's state as stored: totals and the prune time are derived from the buckets so the fast path can check them. */
function encodeState(state: WindowState): AttributeValue {
  const { amount, count, pruneAtMs } = totalsOf(state);
  const amounts: Record<string, AttributeValue> = {};
  const counts: Record<string, AttributeValue> = {};
  for (const [index, bucket] of state.buckets) {
    counts[String(index)] = { N: String(bucket.count) };
    // Stryker disable next-line ConditionalExpression: else zeros for a limit without an amount cap
    if (state.layout.unitExponent >= 0) amounts[String(index)] = { N: bucket.amount.toString() };
  }
  return {
    M: {
      w: { N: String(state.layout.windowMs) },
      s: { N: String(state.layout.spanMs) },
      u: { N: String(state.layout.unitExponent) },
      t: { N: amount.toString() },
      n: { N: String(count) },
      p: { N: String(pruneAtMs) },
      b: { M: amounts },
      c: { M: counts },
    },
  };
}

/** Reads every limit of an item; a malformed item fails closed (it is never guessed at). */
export function decodeLimits(item: Record<string, AttributeValue> | undefined): Map<string, WindowState> {
  const states = new Map<string, WindowState>();
  const limits = item?.limits?.M;
  if (!limits) return states;
  for (const [entryKey, value] of Object.entries(limits)) {
    const entry = value.M;
    if (!entry) throw corrupt(entryKey);
    const layout: WindowLayout = { windowMs: integer(entry.w, entryKey), spanMs: integer(entry.s, entryKey), unitExponent: integer(entry.u, entryKey) };
    if (layout.spanMs <= 0 || layout.windowMs <= 0) throw corrupt(entryKey);
    const buckets = new Map<number, Bucket>();
    const counts = entry.c?.M ?? {};
    const amounts = new Map(Object.entries(entry.b?.M ?? {}));
    for (const index of Object.keys(counts)) {
      const stored = amounts.get(index);
      const amount = stored === undefined ? 0n : bigInteger(stored, entryKey);
      buckets.set(integer({ N: index }, entryKey), { amount, count: integer(counts[index], entryKey) });
    }
    states.set(entryKey, { layout, buckets });
  }
  return states;
}

function integer(value: AttributeValue | undefined, entryKey: string): number {
  const parsed = value?.N === undefined ? Number.NaN : Number(value.N);
  if (!Number.isSafeInteger(parsed)) throw corrupt(entryKey);
  return parsed;
}

function bigInteger(value: AttributeValue, entryKey: string): bigint {
  const digits = String(value.N); // an absent N reads "undefined", which the pattern refuses
  if (!/^\d{1,40}$/.test(digits)) throw corrupt(entryKey);
  return BigInt(digits);
}

function corrupt(entryKey: string): PolicyStateUnavailableError {
  return new PolicyStateUnavailableError(`the stored state of spending limit "${entryKey.slice(0, 80)}" is malformed`);
}
