// What is left of the spending limits a transaction would be charged to, read without counting anything: the
// check operation's answer to "would sign accept this now?". One consistent GetItem of the key's spending item.
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SpendCharge } from '../policy/spending';
import { PolicyStateUnavailableError, type LimitRemaining } from './errors';
import { liveState, remainingOf, wouldExceed } from './rolling-window';
import { decodeLimits, itemKey, mergeCharges } from './spending-store';

/** One limit a transaction would be charged to: what it would add, what remains, and whether it fits. */
export interface LimitStanding extends LimitRemaining {
  /** What this transaction would add to the limit (base units; all charges of the limit added up). */
  readonly amount: bigint;
  /** False when signing it now would take the limit over its cap (sign would refuse it). */
  readonly fits: boolean;
}

/** Where to read, and how long a read may take. */
export interface SpendingReadOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly keyArn: string;
  /** Longest call (ms); the deadline can only shorten it. */
  readonly callTimeoutMs: number;
  readonly deadlineMs?: number;
  readonly nowMs?: number;
}

/**
 * Reads, with one consistent GetItem, what remains of each limit `charges` would be counted against, and
 * whether the charge fits now. Counts nothing. Throws PolicyStateUnavailableError when DynamoDB does not answer
 * in time or fails, or the item is malformed.
 */
export async function readLimitStandings(charges: readonly SpendCharge[], options: SpendingReadOptions): Promise<LimitStanding[]> {
  const nowMs = options.nowMs ?? Date.now();
  const merged = mergeCharges(charges, nowMs);
  if (merged.length === 0) return [];
  const timeoutMs = Math.min(options.callTimeoutMs, (options.deadlineMs ?? Number.POSITIVE_INFINITY) - Date.now());
  if (timeoutMs <= 0) throw new PolicyStateUnavailableError('the invocation ran out of time before DynamoDB answered');
  let item;
  try {
    ({ Item: item } = await options.client.send(new GetItemCommand({ TableName: options.tableName, Key: itemKey(options.keyArn), ConsistentRead: true }), {
      abortSignal: AbortSignal.timeout(timeoutMs),
    }));
  } catch (error) {
    const name = error instanceof Error ? error.name : 'unknown error';
    throw new PolicyStateUnavailableError(name === 'AbortError' || name === 'TimeoutError' ? `no answer from DynamoDB within ${timeoutMs} ms` : `DynamoDB failed: ${name.slice(0, 80)}`, { cause: error });
  }
  const stored = decodeLimits(item);
  return merged.map((charge) => {
    const live = liveState(stored.get(charge.entryKey), charge.layout, nowMs, charge.limit.maxAmount);
    return { ...remainingOf(live, charge.limit), amount: charge.amount, fits: !wouldExceed(live, charge.limit, charge.units) };
  });
}
