// The unsigned transaction as the signer Lambda's event carries it, and the check of what the Lambda signed:
// the signed transaction must recover to the signer's address and be the transaction that was asked for.
import { getAddress, getBigInt, Transaction, type AccessList, type BigNumberish } from 'ethers';
import { InvalidRequestError, UnverifiedResponseError } from './errors';

/** An unsigned transaction with its addresses resolved, in the types ethers and viem both reduce to. */
export interface UnsignedTransaction {
  readonly type?: number | null;
  readonly to?: string | null;
  readonly from?: string | null;
  readonly value?: BigNumberish | null;
  readonly data?: string | null;
  readonly nonce?: BigNumberish | null;
  readonly gasLimit?: BigNumberish | null;
  readonly chainId?: BigNumberish | null;
  readonly gasPrice?: BigNumberish | null;
  readonly maxFeePerGas?: BigNumberish | null;
  readonly maxPriorityFeePerGas?: BigNumberish | null;
  readonly accessList?: AccessList | null;
}

/** The `transaction` of a sign event: integers as decimal strings (never JSON numbers beyond 2^53), the nonce a number. */
export type EventTransaction = Record<string, string | number | AccessList>;

/** Builds the event's transaction; refuses (before any call) what the signer Lambdas never sign. */
export function toEventTransaction(tx: UnsignedTransaction & Record<string, unknown>): EventTransaction {
  for (const field of ['authorizationList', 'blobs', 'blobVersionedHashes', 'maxFeePerBlobGas'] as const) {
    const value = tx[field];
    if (value != null && !(Array.isArray(value) && value.length === 0)) {
      throw new InvalidRequestError(`transaction.${field} is set, but the signer Lambdas sign types 0, 1 and 2 only (no blob or EIP-7702 type 4 transactions); sign an authorization with authorize() / signAuthorization() and send the type 4 transaction from another account`);
    }
  }
  if (tx.type != null && ![0, 1, 2].includes(Number(tx.type))) throw new InvalidRequestError(`transaction.type ${String(tx.type).slice(0, 20)} is not signed by the signer Lambdas: types 0, 1 and 2 only`);
  if (tx.nonce == null) throw new InvalidRequestError('transaction.nonce is required: set it, or connect a provider so that it is filled in');
  const nonce = getBigInt(tx.nonce, 'nonce');
  if (nonce > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidRequestError(`transaction.nonce ${nonce} is above 2^53-1, which the signer does not sign`);
  const event: EventTransaction = { nonce: Number(nonce) };
  if (tx.type != null) event.type = Number(tx.type);
  if (tx.to != null) event.to = getAddress(tx.to);
  if (tx.from != null) event.from = getAddress(tx.from);
  if (tx.data != null && tx.data !== '0x') event.data = tx.data;
  if (tx.accessList != null) event.accessList = tx.accessList.map(({ address, storageKeys }) => ({ address: getAddress(address), storageKeys: [...storageKeys] }));
  for (const field of ['value', 'gasLimit', 'chainId', 'gasPrice', 'maxFeePerGas', 'maxPriorityFeePerGas'] as const) {
    const value = tx[field];
    if (value != null) event[field] = getBigInt(value, field).toString();
  }
  return event;
}

/**
 * Checks the Lambda's sign response: the signed transaction recovers to `address` and carries exactly the fields
 * that were sent. Returns the serialized signed transaction; anything else is an UnverifiedResponseError.
 */
export function verifySignedTransaction(response: unknown, sent: EventTransaction, address: string): string {
  const signed = (typeof response === 'object' && response !== null ? response : {}) as { signedTransaction?: unknown };
  if (typeof signed.signedTransaction !== 'string') throw new UnverifiedResponseError('the sign response has no signedTransaction; is the function a kms-eth-signer Lambda?');
  let tx: Transaction;
  try {
    tx = Transaction.from(signed.signedTransaction);
  } catch (cause) {
    throw new UnverifiedResponseError(`the signedTransaction in the response does not parse: ${(cause as Error).message.slice(0, 200)}`, undefined, { cause });
  }
  if (!tx.signature || tx.from === null || getAddress(tx.from) !== getAddress(address)) {
    throw new UnverifiedResponseError(`the signed transaction recovers to ${tx.from ?? 'no address'}, not to the signer's address ${address}; it was not used`);
  }
  const expected: Array<[string, unknown, unknown]> = [
    ['nonce', BigInt(sent.nonce as number), BigInt(tx.nonce)],
    ['to', sent.to ?? null, tx.to],
    ['value', BigInt((sent.value as string | undefined) ?? 0), tx.value],
    ['data', ((sent.data as string | undefined) ?? '0x').toLowerCase(), tx.data.toLowerCase()],
    ['gasLimit', sent.gasLimit === undefined ? undefined : BigInt(sent.gasLimit as string), tx.gasLimit],
    ['chainId', sent.chainId === undefined ? undefined : BigInt(sent.chainId as string), tx.chainId],
    ['gasPrice', sent.gasPrice === undefined ? undefined : BigInt(sent.gasPrice as string), tx.gasPrice],
    ['maxFeePerGas', sent.maxFeePerGas === undefined ? undefined : BigInt(sent.maxFeePerGas as string), tx.maxFeePerGas],
    ['maxPriorityFeePerGas', sent.maxPriorityFeePerGas === undefined ? undefined : BigInt(sent.maxPriorityFeePerGas as string), tx.maxPriorityFeePerGas],
    ['type', sent.type, tx.type],
  ];
  for (const [field, asked, got] of expected) {
    if (asked !== undefined && asked !== got) throw new UnverifiedResponseError(`the signed transaction's ${field} is ${String(got)}, but ${String(asked)} was sent; it was not used`);
  }
  return tx.serialized;
}
