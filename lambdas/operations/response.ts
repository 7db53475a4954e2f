import { keccak256 } from 'ethers';
import type { SignedTransaction } from '../signer/kms-signer';
import { transactionV } from '../signer/signature';

/** What the sign operation returns to the caller. */
export interface SignResponse {
  signedTransaction: string;
  transactionHash: string;
  from: string;
  signature: { r: string; s: string; v: number; yParity: 0 | 1 };
}

/** Shapes a signed transaction as the Lambda's JSON response. */
export function toSignResponse({ transaction, from }: SignedTransaction): SignResponse {
  const signature = transaction.signature;
  const type = transaction.type;
  if (!signature || type === null) throw new TypeError('toSignResponse needs a signed transaction');
  const v = transactionV(type, transaction.chainId, signature.yParity);
  // Config caps chain ids so that this holds; a rounded v in the JSON would contradict the signed bytes.
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`v ${v} is not a safe JSON integer; the chain id is above MAX_CHAIN_ID`);
  // ethers' `hash` getter serialises again; hash the serialisation we already have.
  const signedTransaction = transaction.serialized;
  return {
    signedTransaction,
    transactionHash: keccak256(signedTransaction),
    from,
    signature: { r: signature.r, s: signature.s, v: Number(v), yParity: signature.yParity },
  };
}
