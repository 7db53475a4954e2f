// A smoke check that the policy benchmark builds the documented policy and decides its cases; never a timing assertion.
import { benchPolicy, measurePolicyEvaluation } from '../../bench/policy';

describe('bench/policy.ts', () => {
  it('builds a policy of 100 rules with 1,000 allow-listed addresses', () => {
    const { policy, payees } = benchPolicy();
    expect(policy.allowRules.length + policy.denyRules.length).toBe(100);
    expect(new Set(payees).size).toBe(1000);
  });

  it('measures every case (and checks each decision before timing it)', () => {
    const results = measurePolicyEvaluation(10);
    expect(Object.keys(results)).toHaveLength(3);
    for (const summary of Object.values(results)) expect(summary).toEqual(expect.objectContaining({ n: 10, median: expect.any(Number) }));
  });
});
