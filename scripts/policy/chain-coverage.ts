// Which allow rules of a policy can match a transaction on a given chain: a policy written for mainnet and
// deployed with ETH_NETWORK=sepolia denies every transaction, and nothing else says so before the first refusal.
import type { PolicyDocument } from '../../lambdas/policy';

/** The allow rules that can match on a chain, and the chains the others are limited to. */
export interface ChainCoverage {
  /** Ids of the allow rules without a chainId condition or naming this chain. */
  readonly matching: readonly string[];
  /** The chain ids that the other allow rules name, ascending. */
  readonly otherChains: readonly bigint[];
}

/** Which allow rules of `document` can match a transaction with chain id `chainId`. */
export function chainCoverage(document: PolicyDocument, chainId: bigint): ChainCoverage {
  const matching: string[] = [];
  const otherChains = new Set<bigint>();
  for (const rule of document.rules) {
    if (rule.effect !== 'allow') continue;
    const chains = rule.chainId === undefined ? undefined : (Array.isArray(rule.chainId) ? rule.chainId : [rule.chainId]).map((chain) => BigInt(chain));
    if (chains === undefined || chains.includes(chainId)) matching.push(rule.id);
    else chains.forEach((chain) => otherChains.add(chain));
  }
  return { matching, otherChains: [...otherChains].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
}
