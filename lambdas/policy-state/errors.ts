import { SignerError } from '../signer/errors';

/** What is left of one limit in its window, for the caller to decide when to retry. */
export interface LimitRemaining {
  readonly limitId: string;
  readonly windowSeconds: number;
  readonly asset: string;
  /** Base units (wei or token units) still allowed in the window; absent when the limit has no amount cap. */
  readonly remainingAmount?: bigint;
  /** Signatures still allowed in the window; absent when the limit has no count cap. */
  readonly remainingCount?: number;
  /** When the oldest charge still counted leaves the window (ms since the epoch); absent when nothing is counted. */
  readonly nextReleaseMs?: number;
}

/**
 * Signing this transaction would take a spending limit over its cap. Nothing was reserved and nothing
 * was signed; `limit` says which limit, over which window, and what is left of it.
 */
export class SpendingLimitExceededError extends SignerError {
  override readonly name = 'SpendingLimitExceededError';
  /**
   * Whether the spending item held a live reservation of the same request (a retry of one that may have been signed
   * minutes ago, whose response is then worth looking up): false only when the store checked and found none.
   */
  readonly sameRequestReserved?: boolean;
  constructor(
    readonly limit: LimitRemaining,
    readonly requestedAmount: bigint,
    { sameRequestReserved }: { sameRequestReserved?: boolean } = {},
  ) {
    super(
      `Spending limit "${clip(limit.limitId)}" (${limit.windowSeconds} s rolling window, asset ${clip(limit.asset)}) would be exceeded: ` +
        [
          `this transaction adds ${requestedAmount} and 1 signature`,
          limit.remainingAmount !== undefined ? `${limit.remainingAmount} remain in the window` : undefined,
          limit.remainingCount !== undefined ? `${limit.remainingCount} signature(s) remain in the window` : undefined,
          limit.nextReleaseMs !== undefined ? `the oldest counted spending leaves the window at ${new Date(limit.nextReleaseMs).toISOString()}` : undefined,
        ]
          .filter((part) => part !== undefined)
          .join('; ') +
        '. Nothing was signed: wait, or send less.',
    );
    this.sameRequestReserved = sameRequestReserved;
  }
}

/**
 * The spending-limit or idempotency store (DynamoDB) could not be read or written in time: throttled,
 * unreachable, denied, or the invocation ran out of time. The signer fails closed: nothing was signed.
 */
export class PolicyStateUnavailableError extends SignerError {
  override readonly name = 'PolicyStateUnavailableError';
  constructor(what: string, options?: { cause?: unknown }) {
    super(`The signing policy state store is unavailable (${what}); nothing was signed. Retry later; if it persists, see the function logs.`, options);
  }
}

/** The same request (same unsigned transaction and idempotency key) is being signed right now by another invocation. */
export class SigningInProgressError extends SignerError {
  override readonly name = 'SigningInProgressError';
  constructor(options?: { cause?: unknown }) {
    super('An identical request is being signed right now; retry in a few seconds to get its result.', options);
  }
}

/** A spending limit handed to the store is malformed (a bug in the policy layer, never user input). */
export class InvalidSpendingLimitError extends SignerError {
  override readonly name = 'InvalidSpendingLimitError';
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
