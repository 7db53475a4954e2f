import { Network } from 'ethers';

// Chains ethers v6 does not know yet, and the local development chain (anvil, hardhat). A Map, not an object
// literal: ETH_NETWORK=constructor must find nothing, not Object.prototype.constructor.
const EXTRA_CHAINS: ReadonlyMap<string, bigint> = new Map([
  ['hoodi', 560048n],
  ['anvil', 31337n],
  ['localhost', 31337n],
]);

/**
 * The largest chain id we accept. Responses carry `v` as a JSON number, and a legacy EIP-155 signature's
 * v = 2·chainId + 35 + yParity must stay a safe integer (at most 2^53-1), so chain ids stop at
 * (2^53-1 - 36) / 2 = 4503599627370477. No public chain comes near it (EIP-2294 caps chain ids lower still).
 */
export const MAX_CHAIN_ID = (BigInt(Number.MAX_SAFE_INTEGER) - 36n) / 2n;

/** Resolves ETH_NETWORK (a chain name such as `sepolia`, or a decimal chain id) to a chain id. */
export function chainIdFromNetwork(network: string): bigint | undefined {
  if (/^[1-9][0-9]*$/.test(network)) {
    const chainId = BigInt(network);
    return chainId <= MAX_CHAIN_ID ? chainId : undefined;
  }
  const extra = EXTRA_CHAINS.get(network);
  if (extra !== undefined) return extra;
  let known: Network | undefined;
  try {
    known = Network.from(network);
  } catch {
    // not a name ethers knows
  }
  const chainId = known?.chainId ?? 0n;
  return chainId > 0n && chainId <= MAX_CHAIN_ID ? chainId : undefined;
}
