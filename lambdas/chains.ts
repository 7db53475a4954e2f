import { Network } from 'ethers';

// Chains ethers v6 does not know yet, and the local development chain (anvil, hardhat).
const EXTRA_CHAINS: Record<string, bigint> = { hoodi: 560048n, anvil: 31337n, localhost: 31337n };

/** The largest chain id we accept: chain ids appear as JSON numbers in responses, so they stay exact. */
export const MAX_CHAIN_ID = BigInt(Number.MAX_SAFE_INTEGER);

/** Resolves ETH_NETWORK (a chain name such as `sepolia`, or a decimal chain id) to a chain id. */
export function chainIdFromNetwork(network: string): bigint | undefined {
  if (/^[1-9][0-9]*$/.test(network)) {
    const chainId = BigInt(network);
    return chainId <= MAX_CHAIN_ID ? chainId : undefined;
  }
  const extra = EXTRA_CHAINS[network];
  if (extra !== undefined) return extra;
  try {
    return Network.from(network).chainId;
  } catch {
    return undefined; // not a name ethers knows
  }
}
