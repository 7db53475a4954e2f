import { quantile, spreadPercent, summarize } from '../../bench/stats';

describe('quantile', () => {
  it('interpolates between the two nearest ranks', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20], 0.99)).toBeCloseTo(19.9);
  });

  it('is NaN for no samples', () => {
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('summarize', () => {
  it('sorts before it ranks', () => {
    expect(summarize([5, 1, 3])).toEqual({ n: 3, min: 1, median: 3, p99: expect.closeTo(4.96), max: 5, mean: 3 });
  });
});

describe('spreadPercent', () => {
  it('is the range of round medians over their median', () => {
    expect(spreadPercent([0.9, 1, 1.1])).toBeCloseTo(20);
  });
});
