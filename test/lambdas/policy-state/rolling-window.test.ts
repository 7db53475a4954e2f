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
  toUnits,
  withCharge,
  wouldExceed,
  type WindowState,
} from '../../../lambdas/policy-state/rolling-window';

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
