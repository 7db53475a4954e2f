// The transactions every contender signs: the same fields, given to each in the form it takes.
import { Transaction, type TransactionLike } from 'ethers';

/** Sepolia: the chain the benchmark's signers are configured for. */
export const BENCH_CHAIN_ID = 11155111n;

/** One transaction as a Lambda event, as an ethers request, and the digest that gets signed. */
export interface BenchTransaction {
  readonly event: { operation: 'sign'; transaction: Record<string, string | number> };
  readonly request: TransactionLike<string>;
  readonly digest: string;
}

const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

/** Builds `count` distinct EIP-1559 transfers (nonce i), a quarter of them with calldata like an ERC-20 call. */
export function benchTransactions(count: number): BenchTransaction[] {
  const transactions: BenchTransaction[] = [];
  for (let nonce = 0; nonce < count; nonce++) {
    const data = nonce % 4 === 3 ? `0xa9059cbb${TO.slice(2).toLowerCase().padStart(64, '0')}${nonce.toString(16).padStart(64, '0')}` : '0x';
    const fields = {
      to: TO,
      value: String(10n ** 15n + BigInt(nonce)),
      nonce,
      gasLimit: data === '0x' ? 21000 : 65000,
      maxFeePerGas: '30000000000',
      maxPriorityFeePerGas: '1000000000',
      data,
    };
    const request: TransactionLike<string> = { ...fields, type: 2, chainId: BENCH_CHAIN_ID, value: BigInt(fields.value) };
    transactions.push({
      event: { operation: 'sign', transaction: fields },
      request,
      digest: Transaction.from(request).unsignedHash,
    });
  }
  return transactions;
}
