// What the policy engine's tests evaluate: a transaction as lambdas/operations/policy-gate.ts hands it to the policy.
import { parseUnits } from 'ethers';
import type { PolicyRequest } from '../../lambdas/policy';

/** An EIP-1559 transfer of nothing to `to` on chain 1, with ordinary fees: every condition has an opinion about it. */
export function eip1559Transfer(to: string): PolicyRequest {
  return {
    chainId: 1n,
    type: 2,
    to,
    value: 0n,
    data: '0x',
    gasLimit: 21000n,
    maxFeePerGas: parseUnits('10', 'gwei'),
    maxPriorityFeePerGas: parseUnits('1', 'gwei'),
    preEip155: false,
  };
}
