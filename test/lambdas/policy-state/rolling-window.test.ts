import fc from 'fast-check';
import type { SpendingLimit } from '../../../lambdas/policy/spending';
import { InvalidSpendingLimitError } from '../../../lambdas/policy-state/errors';
import {
  BUCKETS_PER_WINDOW,
  bucketExpiryMs,
  bucketIndexAt,
  capUnits,
  layoutOf,
  liveState,
  MAX_WINDOW_SECONDS,
  remainingOf,
  toUnits,
  totalsOf,
  withCharge,
  wouldExceed,
  type WindowState,
} from '../../../lambdas/policy-state/rolling-window';
import { freshModule } from '../../helpers/fresh-module';

const limitOf = (fields: Partial<SpendingLimit>): SpendingLimit => ({ id: 'key:test', windowSeconds: 3600, asset: 'native', ...fields });

describe('layoutOf', () => {
  it('cuts the window into BUCKETS_PER_WINDOW buckets', () => {
    expect(layoutOf(limitOf({ windowSeconds: 86_400, maxAmount: 1n }))).toEqual({ windowMs: 86_400_000, spanMs: 86_400_000 / BUCKETS_PER_WINDOW, unitExponent: 0 });
  });

  it('counts amounts in coarser units only for caps beyond 36 digits, and not at all without an amount cap', () => {
    expect(layoutOf(limitOf({ maxAmount: 10n ** 36n - 1n })).unitExponent).toBe(0);
    expect(layoutOf(limitOf({ maxAmount: 10n ** 36n })).unitExponent).toBe(1);
    expect(layoutOf(limitOf({ maxAmount: 2n ** 256n - 1n })).unitExponent).toBe(78 - 36);
    expect(layoutOf(limitOf({ maxCount: 3 })).unitExponent).toBe(-1);
  });

  it('rounds the bucket span up, so that 24 buckets always cover the window', () => {
    expect(layoutOf(limitOf({ windowSeconds: 1, maxCount: 1 }))).toEqual({ windowMs: 1000, spanMs: 42, unitExponent: -1 });
  });

  it('accepts the extremes: a 1-second window, a year, zero caps, a 256-character id', () => {
    expect(layoutOf(limitOf({ windowSeconds: 1 })).windowMs).toBe(1000);
    // A module-level value: read from a fresh load too (see freshModule).
    expect(freshModule(() => require('../../../lambdas/policy-state/rolling-window') as typeof import('../../../lambdas/policy-state/rolling-window')).MAX_WINDOW_SECONDS).toBe(366 * 86_400);
    expect(MAX_WINDOW_SECONDS).toBe(366 * 86_400);
    expect(layoutOf(limitOf({ windowSeconds: MAX_WINDOW_SECONDS })).windowMs).toBe(MAX_WINDOW_SECONDS * 1000);
    expect(layoutOf(limitOf({ maxAmount: 0n, maxCount: 0 }))).toMatchObject({ unitExponent: 0 });
    expect(layoutOf(limitOf({ id: 'k'.repeat(256) })).windowMs).toBe(3_600_000);
  });

  it.each([
    ['an id of 257 characters', { id: 'k'.repeat(257) }, /^A spending limit id must be a string of 1 to 256 characters\.$/],
    ['an id that is not a string', { id: 7 as unknown as string }, /id must be a string/],
    ['a window over a year', { windowSeconds: 366 * 86_400 + 1 }, /^Spending limit "key:test": windowSeconds must be an integer from 1 to 31622400\.$/],
    ['an unsafe window', { windowSeconds: 2 ** 53 }, /windowSeconds must be an integer/],
    ['a cap given as a number', { maxAmount: 5 as unknown as bigint }, /^Spending limit "key:test": maxAmount must be a non-negative bigint\.$/],
    ['a fractional count', { maxCount: 1.5 }, /^Spending limit "key:test": maxCount must be a non-negative safe integer\.$/],
    ['a count given as a bigint', { maxCount: 1n as unknown as number }, /maxCount must be/],
    ['a bad window under a long id, quoting its first 80 characters', { id: 'i'.repeat(100), windowSeconds: 0 }, new RegExp(`^Spending limit "${'i'.repeat(80)}": windowSeconds`)],
    ['a bad cap under a long id, quoting its first 80 characters', { id: 'i'.repeat(100), maxAmount: -1n }, new RegExp(`^Spending limit "${'i'.repeat(80)}": maxAmount`)],
    ['a bad count under a long id, quoting its first 80 characters', { id: 'i'.repeat(100), maxCount: -1 }, new RegExp(`^Spending limit "${'i'.repeat(80)}": maxCount`)],
  ])('refuses %s with a message naming the rule', (_label, fields, message) => {
    expect(() => layoutOf(limitOf(fields))).toThrow(expect.objectContaining({ name: 'InvalidSpendingLimitError', message: expect.stringMatching(message) }));
  });

  it.each([
    ['a zero window', { windowSeconds: 0 }],
    ['a fractional window', { windowSeconds: 1.5 }],
    ['a window over a year', { windowSeconds: 366 * 86_400 + 1 }],
    ['a negative cap', { maxAmount: -1n }],
    ['a negative count', { maxCount: -1 }],
    ['an empty id', { id: '' }],
  ])('rejects %s', (_, fields) => {
    expect(() => layoutOf(limitOf(fields))).toThrow(InvalidSpendingLimitError);
  });
});

describe('toUnits and capUnits', () => {
  it('counts amounts exactly for caps of up to 36 digits, and not at all without an amount cap', () => {
    const exact = layoutOf(limitOf({ maxAmount: 10n ** 36n - 1n }));
    expect(toUnits(123n, exact)).toBe(123n);
    expect(capUnits(10n ** 36n - 1n, exact)).toBe(10n ** 36n - 1n);
    expect(toUnits(123n, layoutOf(limitOf({ maxCount: 1 })))).toBe(0n);
  });

  it('rounds a charge up and the cap down to units of 10^u', () => {
    const layout = layoutOf(limitOf({ maxAmount: 10n ** 37n + 19n })); // 38 digits: units of 100
    expect(layout.unitExponent).toBe(2);
    expect([toUnits(0n, layout), toUnits(1n, layout), toUnits(100n, layout), toUnits(101n, layout)]).toEqual([0n, 1n, 1n, 2n]);
    expect(capUnits(10n ** 37n + 19n, layout)).toBe(10n ** 35n);
  });

  it('round charges up and caps down, so scaling can only refuse early', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 10n ** 36n, max: 2n ** 256n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), (cap, amount) => {
        const layout = layoutOf(limitOf({ maxAmount: cap }));
        const unit = 10n ** BigInt(layout.unitExponent);
        expect(toUnits(amount, layout) * unit).toBeGreaterThanOrEqual(amount);
        expect(capUnits(cap, layout) * unit).toBeLessThanOrEqual(cap);
        expect(capUnits(cap, layout).toString().length).toBeLessThanOrEqual(36);
      }),
    );
  });
});

describe('the rolling window', () => {
  it('never lets the charges accepted within any window of its length exceed the caps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7200 }),
        fc.bigInt({ min: 0n, max: 1000n }),
        fc.integer({ min: 0, max: 20 }),
        fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 900_000 }), amount: fc.bigInt({ min: 0n, max: 400n }) }), { maxLength: 60 }),
        (windowSeconds, maxAmount, maxCount, requests) => {
          const limit = limitOf({ windowSeconds, maxAmount, maxCount });
          const layout = layoutOf(limit);
          let state: WindowState | undefined;
          let now = 1_700_000_000_000;
          const accepted: { at: number; amount: bigint }[] = [];
          for (const { gapMs, amount } of requests) {
            now += gapMs;
            const live = liveState(state, layout, now, maxAmount);
            if (wouldExceed(live, limit, toUnits(amount, layout))) {
              state = live;
              continue;
            }
            state = withCharge(live, bucketIndexAt(now, layout), toUnits(amount, layout), 1);
            accepted.push({ at: now, amount });
            const inWindow = accepted.filter((a) => a.at > now - layout.windowMs);
            expect(inWindow.reduce((sum, a) => sum + a.amount, 0n)).toBeLessThanOrEqual(maxAmount);
            expect(inWindow.length).toBeLessThanOrEqual(maxCount);
          }
        },
      ),
    );
  });

  it('frees a charge exactly when its bucket has left the window', () => {
    const limit = limitOf({ windowSeconds: 3600, maxCount: 1 });
    const layout = layoutOf(limit);
    const at = 1_700_000_123_456;
    const index = bucketIndexAt(at, layout);
    const charged = withCharge(liveState(undefined, layout, at), index, 0n, 1);
    const expiry = bucketExpiryMs(index, layout);
    expect(expiry).toBeGreaterThanOrEqual(at + layout.windowMs);
    expect(expiry).toBeLessThanOrEqual(at + layout.windowMs + layout.spanMs);
    expect(wouldExceed(liveState(charged, layout, expiry - 1), limit, 0n)).toBe(true);
    expect(wouldExceed(liveState(charged, layout, expiry), limit, 0n)).toBe(false);
  });

  it('keeps counting a bucket at least as long when the window changes', () => {
    const short = layoutOf(limitOf({ windowSeconds: 3600, maxCount: 1 }));
    const long = layoutOf(limitOf({ windowSeconds: 5000, maxCount: 1 }));
    const at = 1_700_000_000_000;
    const index = bucketIndexAt(at, short);
    const charged = withCharge(liveState(undefined, short, at), index, 0n, 1);
    const moved = liveState(charged, long, at);
    const newIndex = [...moved.buckets.keys()][0] ?? Number.NaN;
    expect(bucketExpiryMs(newIndex, long)).toBeGreaterThanOrEqual((index + 1) * short.spanMs + long.windowMs);
  });
});

describe('liveState', () => {
  const hour = layoutOf(limitOf({ windowSeconds: 3600, maxAmount: 1000n, maxCount: 10 }));
  const at = 1_700_000_000_000;
  const index = bucketIndexAt(at, hour);

  it('starts empty without a stored state', () => {
    expect(liveState(undefined, hour, at)).toEqual({ layout: hour, buckets: new Map() });
  });

  it('keeps the buckets of the same layout as they are until they expire', () => {
    const stored: WindowState = { layout: hour, buckets: new Map([[index - 30, { amount: 5n, count: 1 }], [index - 1, { amount: 7n, count: 2 }], [index, { amount: 9n, count: 3 }]]) };
    expect(liveState(stored, hour, at, 1000n).buckets).toEqual(new Map([[index - 1, { amount: 7n, count: 2 }], [index, { amount: 9n, count: 3 }]]));
  });

  it('caps a bucket at the cap + 1 unit, which refuses everything while it lives', () => {
    const stored: WindowState = { layout: hour, buckets: new Map([[index, { amount: 5000n, count: 1 }]]) };
    const live = liveState(stored, hour, at, 1000n);
    expect(live.buckets.get(index)).toEqual({ amount: 1001n, count: 1 });
    expect(liveState(stored, hour, at).buckets.get(index)).toEqual({ amount: 5000n, count: 1 });
    expect(liveState(stored, hour, at, 5000n).buckets.get(index)).toEqual({ amount: 5000n, count: 1 });
  });

  it('merges the buckets of a shorter-span layout into the bucket holding their last millisecond', () => {
    const day = layoutOf(limitOf({ windowSeconds: 86_400, maxAmount: 1000n, maxCount: 10 }));
    // Three consecutive 150 s buckets of the hour window, all inside one 3600 s bucket of the day window.
    const first = bucketIndexAt(at, hour);
    const stored: WindowState = { layout: hour, buckets: new Map([[first, { amount: 1n, count: 1 }], [first + 1, { amount: 2n, count: 1 }], [first + 2, { amount: 4n, count: 1 }]]) };
    expect(liveState(stored, day, at + 3 * hour.spanMs).buckets).toEqual(new Map([[bucketIndexAt(at, day), { amount: 7n, count: 3 }]]));
  });

  it('moves a bucket to the new bucket holding its last millisecond, not its first', () => {
    const old = layoutOf(limitOf({ windowSeconds: 6000, maxCount: 10 })); // 250 s buckets
    const next = layoutOf(limitOf({ windowSeconds: 14_400, maxCount: 10 })); // 600 s buckets
    // Old bucket 2 spans [500 s, 750 s): it straddles new buckets 0 and 1. Old bucket 11 spans [2750 s, 3000 s):
    // it ends exactly where new bucket 5 starts, so it belongs to new bucket 4.
    const stored: WindowState = { layout: old, buckets: new Map([[2, { amount: 0n, count: 1 }], [11, { amount: 0n, count: 2 }]]) };
    expect(liveState(stored, next, 0).buckets).toEqual(new Map([[1, { amount: 0n, count: 1 }], [4, { amount: 0n, count: 2 }]]));
  });

  it('rescales amounts when the cap moves to coarser units (rounding up) or finer ones (exactly)', () => {
    const fine = layoutOf(limitOf({ windowSeconds: 3600, maxAmount: 10n ** 36n - 1n })); // units of 1
    const coarse = layoutOf(limitOf({ windowSeconds: 3600, maxAmount: 10n ** 38n })); // units of 1000
    expect(coarse.unitExponent).toBe(3);
    const inFine: WindowState = { layout: fine, buckets: new Map([[index, { amount: 1001n, count: 1 }]]) };
    expect(liveState(inFine, coarse, at).buckets.get(index)).toEqual({ amount: 2n, count: 1 });
    const inCoarse: WindowState = { layout: coarse, buckets: new Map([[index, { amount: 2n, count: 1 }]]) };
    expect(liveState(inCoarse, fine, at).buckets.get(index)).toEqual({ amount: 2000n, count: 1 });
  });

  it('rescales between two coarse units: up by the ratio of the units, rounding up, and down exactly', () => {
    const tens = layoutOf(limitOf({ windowSeconds: 3600, maxAmount: 10n ** 36n })); // 37 digits: units of 10
    const thousands = layoutOf(limitOf({ windowSeconds: 3600, maxAmount: 10n ** 38n })); // 39 digits: units of 1000
    expect([tens.unitExponent, thousands.unitExponent]).toEqual([1, 3]);
    const inTens: WindowState = { layout: tens, buckets: new Map([[index, { amount: 1001n, count: 1 }]]) }; // 10,010 base units
    expect(liveState(inTens, thousands, at).buckets.get(index)).toEqual({ amount: 11n, count: 1 });
    const inThousands: WindowState = { layout: thousands, buckets: new Map([[index, { amount: 2n, count: 1 }]]) }; // 2,000 base units
    expect(liveState(inThousands, tens, at).buckets.get(index)).toEqual({ amount: 200n, count: 1 });
  });

  it('drops amounts counted before the limit had an amount cap, and stops counting them when the cap is removed', () => {
    const countOnly = layoutOf(limitOf({ windowSeconds: 3600, maxCount: 5 }));
    const withCap = layoutOf(limitOf({ windowSeconds: 3600, maxAmount: 100n, maxCount: 5 }));
    const uncounted: WindowState = { layout: countOnly, buckets: new Map([[index, { amount: 50n, count: 2 }]]) };
    expect(liveState(uncounted, withCap, at, 100n).buckets.get(index)).toEqual({ amount: 0n, count: 2 });
    const counted: WindowState = { layout: withCap, buckets: new Map([[index, { amount: 50n, count: 2 }]]) };
    expect(liveState(counted, countOnly, at).buckets.get(index)).toEqual({ amount: 0n, count: 2 });
  });
});

describe('totalsOf and remainingOf', () => {
  const limit = limitOf({ windowSeconds: 3600, maxAmount: 1000n, maxCount: 3 });
  const layout = layoutOf(limit);

  it('sums the buckets and releases first at the expiry of the oldest one', () => {
    const state: WindowState = { layout, buckets: new Map([[10, { amount: 3n, count: 1 }], [8, { amount: 4n, count: 1 }], [12, { amount: 5n, count: 2 }]]) };
    expect(totalsOf(state)).toEqual({ amount: 12n, count: 4, pruneAtMs: bucketExpiryMs(8, layout) });
    expect(totalsOf({ layout, buckets: new Map() })).toEqual({ amount: 0n, count: 0, pruneAtMs: 0 });
  });

  it('reports what is left of each cap and when the oldest charge leaves the window', () => {
    const state: WindowState = { layout, buckets: new Map([[9, { amount: 400n, count: 1 }], [10, { amount: 100n, count: 1 }]]) };
    expect(remainingOf(state, limit)).toStrictEqual({ limitId: 'key:test', windowSeconds: 3600, asset: 'native', remainingAmount: 500n, remainingCount: 1, nextReleaseMs: bucketExpiryMs(9, layout) });
  });

  it('reports nothing left rather than a negative remainder, and no release time when nothing is counted', () => {
    const over: WindowState = { layout, buckets: new Map([[9, { amount: 1001n, count: 5 }]]) };
    expect(remainingOf(over, limit)).toMatchObject({ remainingAmount: 0n, remainingCount: 0 });
    expect(remainingOf({ layout, buckets: new Map() }, limit)).toStrictEqual({ limitId: 'key:test', windowSeconds: 3600, asset: 'native', remainingAmount: 1000n, remainingCount: 3 });
  });

  it('leaves out the caps a limit does not have', () => {
    const countOnly = limitOf({ maxCount: 2 });
    expect(remainingOf({ layout: layoutOf(countOnly), buckets: new Map() }, countOnly)).toStrictEqual({ limitId: 'key:test', windowSeconds: 3600, asset: 'native', remainingCount: 2 });
    const amountOnly = limitOf({ maxAmount: 7n, asset: '0x' + 'ab'.repeat(20) });
    expect(remainingOf({ layout: layoutOf(amountOnly), buckets: new Map() }, amountOnly)).toStrictEqual({ limitId: 'key:test', windowSeconds: 3600, asset: '0x' + 'ab'.repeat(20), remainingAmount: 7n });
  });

  it('reports the remaining amount in base units when amounts are counted in coarser units', () => {
    const big = limitOf({ maxAmount: 10n ** 38n + 5n });
    const bigLayout = layoutOf(big); // units of 1000
    const state: WindowState = { layout: bigLayout, buckets: new Map([[9, { amount: 10n ** 35n - 1n, count: 1 }]]) };
    expect(remainingOf(state, big).remainingAmount).toBe(1000n);
  });
});

describe('wouldExceed', () => {
  const limit = limitOf({ windowSeconds: 3600, maxAmount: 100n, maxCount: 2 });
  const layout = layoutOf(limit);
  const state = (amount: bigint, count: number): WindowState => ({ layout, buckets: new Map([[1, { amount, count }]]) });

  it('allows a charge that reaches the amount cap exactly and refuses one unit more', () => {
    expect(wouldExceed(state(60n, 0), limit, 40n)).toBe(false);
    expect(wouldExceed(state(60n, 0), limit, 41n)).toBe(true);
  });

  it('allows the signature that reaches the count cap and refuses the next', () => {
    expect(wouldExceed(state(0n, 1), limit, 0n)).toBe(false);
    expect(wouldExceed(state(0n, 2), limit, 0n)).toBe(true);
  });

  it('checks only the caps the limit has', () => {
    expect(wouldExceed(state(10n ** 30n, 0), limitOf({ maxCount: 2 }), 0n)).toBe(false);
    expect(wouldExceed(state(0n, 1000), limitOf({ maxAmount: 100n }), 100n)).toBe(false);
  });
});

describe('withCharge', () => {
  const layout = layoutOf(limitOf({ maxAmount: 100n, maxCount: 5 }));
  const base: WindowState = { layout, buckets: new Map([[3, { amount: 10n, count: 1 }]]) };

  it('adds a charge to its bucket, leaving the others and the given state unchanged', () => {
    const charged = withCharge(base, 3, 5n, 1);
    expect(charged).toEqual({ layout, buckets: new Map([[3, { amount: 15n, count: 2 }]]) });
    expect(withCharge(charged, 4, 7n, 1).buckets).toEqual(new Map([[3, { amount: 15n, count: 2 }], [4, { amount: 7n, count: 1 }]]));
    expect(base.buckets.get(3)).toEqual({ amount: 10n, count: 1 });
  });

  it('takes a refund from its bucket, never below zero', () => {
    expect(withCharge(base, 3, -4n, -1).buckets.get(3)).toEqual({ amount: 6n, count: 0 });
    expect(withCharge(base, 3, -50n, -3).buckets.get(3)).toEqual({ amount: 0n, count: 0 });
    expect(withCharge(base, 9, -5n, -1).buckets.get(9)).toEqual({ amount: 0n, count: 0 });
  });
});
