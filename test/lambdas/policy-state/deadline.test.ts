import { invocationDeadline, invocationEnd } from '../../../lambdas/policy-state/deadline';

describe('invocationDeadline', () => {
  const NOW = 1_700_000_000_000;
  beforeEach(() => jest.spyOn(Date, 'now').mockReturnValue(NOW));
  afterEach(() => jest.restoreAllMocks());
  const context = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs });

  it("is the Lambda's remaining time less 2 s kept for KMS and the response, by default", () => {
    expect(invocationDeadline(context(10_000))).toBe(NOW + 8000);
  });

  it('keeps the reserve it is given', () => {
    expect(invocationDeadline(context(10_000), { reserveMs: 500 })).toBe(NOW + 9500);
  });

  it('is 8 s from now without a usable context, by default, or the fallback it is given', () => {
    expect(invocationDeadline(undefined)).toBe(NOW + 8000);
    expect(invocationDeadline({})).toBe(NOW + 8000);
    expect(invocationDeadline(undefined, { fallbackMs: 3000 })).toBe(NOW + 3000);
    expect(invocationDeadline(undefined, { reserveMs: 500, fallbackMs: 3000 })).toBe(NOW + 3000);
  });

  it('is now, never in the past, when less time remains than the reserve', () => {
    expect(invocationDeadline(context(1500))).toBe(NOW);
    expect(invocationDeadline(context(2000))).toBe(NOW);
  });
});

describe('invocationEnd', () => {
  const NOW = 1_700_000_000_000;
  beforeEach(() => jest.spyOn(Date, 'now').mockReturnValue(NOW));
  afterEach(() => jest.restoreAllMocks());

  it("is the Lambda's end less the margin kept to answer", () => {
    expect(invocationEnd({ getRemainingTimeInMillis: () => 10_000 }, 1000)).toBe(NOW + 9000);
  });

  it('is now, never in the past, when less time remains than the margin', () => {
    expect(invocationEnd({ getRemainingTimeInMillis: () => 400 }, 1000)).toBe(NOW);
  });

  it('is undefined without a usable context (each call then has its own timeout)', () => {
    expect(invocationEnd(undefined, 1000)).toBeUndefined();
    expect(invocationEnd({}, 1000)).toBeUndefined();
  });
});
