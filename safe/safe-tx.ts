// Safe (1.3.0 / 1.4.1) multisig transactions for callers of the signer Lambdas: the SafeTx typed data each owner
// signs (through signTypedData), its hash (identical to Safe.getTransactionHash), and the signatures collected,
// sorted by owner and packed as execTransaction takes them.
import { AbiCoder, getAddress, getBytes, hashMessage, hexlify, Interface, recoverAddress, Signature, TypedDataEncoder, type TypedDataField } from 'ethers';

/** A Safe transaction: what execTransaction runs (operation 0 = CALL, 1 = DELEGATECALL) and the Safe's nonce. */
export interface SafeTx {
  readonly to: string;
  readonly value: bigint;
  readonly data: string;
  readonly operation: 0 | 1;
  readonly safeTxGas: bigint;
  readonly baseGas: bigint;
  readonly gasPrice: bigint;
  readonly gasToken: string;
  readonly refundReceiver: string;
  readonly nonce: bigint;
}

/** One owner's signature over a SafeTx hash, as the signer Lambda returns it. */
export interface OwnerSignature {
  readonly owner: string;
  /** 65 bytes r ‖ s ‖ v. */
  readonly signature: string;
  /** 'typedData': an EIP-712 signature of the SafeTx (signTypedData); 'ethSign': a personal_sign of the 32-byte hash. */
  readonly kind?: 'typedData' | 'ethSign';
}

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';

/** The EIP-712 types of a SafeTx, as Safe 1.3.0 and 1.4.1 hash them (SAFE_TX_TYPEHASH). */
export const SAFE_TX_TYPES: Readonly<Record<string, readonly TypedDataField[]>> = {
  EIP712Domain: [{ name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }],
  SafeTx: [
    { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'data', type: 'bytes' }, { name: 'operation', type: 'uint8' },
    { name: 'safeTxGas', type: 'uint256' }, { name: 'baseGas', type: 'uint256' }, { name: 'gasPrice', type: 'uint256' },
    { name: 'gasToken', type: 'address' }, { name: 'refundReceiver', type: 'address' }, { name: 'nonce', type: 'uint256' },
  ],
};

/** A SafeTx with Safe's defaults: a CALL, no gas refund (gasPrice 0, so gasToken and refundReceiver are unused). */
export function safeTx(fields: Pick<SafeTx, 'to' | 'nonce'> & Partial<SafeTx>): SafeTx {
  return {
    value: 0n, data: '0x', operation: 0, safeTxGas: 0n, baseGas: 0n, gasPrice: 0n, gasToken: ZERO_ADDRESS, refundReceiver: ZERO_ADDRESS,
    ...fields,
    to: getAddress(fields.to),
  };
}

/** The signTypedData event for one owner to sign `tx` for the Safe at `safe` on `chainId` (integers as decimal strings). */
export function safeTxSignRequest(safe: string, chainId: bigint, tx: SafeTx): Record<string, unknown> {
  return {
    operation: 'signTypedData',
    domain: { chainId: chainId.toString(), verifyingContract: getAddress(safe) },
    types: SAFE_TX_TYPES,
    primaryType: 'SafeTx',
    message: {
      to: tx.to, value: tx.value.toString(), data: tx.data, operation: tx.operation, safeTxGas: tx.safeTxGas.toString(), baseGas: tx.baseGas.toString(),
      gasPrice: tx.gasPrice.toString(), gasToken: tx.gasToken, refundReceiver: tx.refundReceiver, nonce: tx.nonce.toString(),
    },
  };
}

/** The SafeTx hash: what Safe.getTransactionHash returns and what its owners sign. */
export function safeTxHash(safe: string, chainId: bigint, tx: SafeTx): string {
  const { EIP712Domain: _domain, ...types } = SAFE_TX_TYPES;
  const mutable = Object.fromEntries(Object.entries(types).map(([name, fields]) => [name, [...fields]]));
  return TypedDataEncoder.hash({ chainId, verifyingContract: getAddress(safe) }, mutable, { ...tx });
}

/**
 * The signatures as execTransaction takes them: 65 bytes each, sorted by owner address (ascending, as Safe
 * requires), v + 4 for an eth_sign one. Refuses a repeated owner or a signature that is not 65 bytes.
 */
export function packSignatures(signatures: readonly OwnerSignature[]): string {
  const seen = new Set<string>();
  const sorted = signatures
    .map((entry) => ({ ...entry, owner: getAddress(entry.owner) }))
    .sort((a, b) => (BigInt(a.owner) < BigInt(b.owner) ? -1 : BigInt(a.owner) > BigInt(b.owner) ? 1 : 0));
  const parts = sorted.map(({ owner, signature, kind = 'typedData' }) => {
    if (seen.has(owner)) throw new SafeSignatureError(`owner ${owner} signed twice; Safe counts each owner once, so keep one of its signatures`);
    seen.add(owner);
    if (getBytes(signature).length !== 65) throw new SafeSignatureError(`the signature of ${owner} is ${getBytes(signature).length} bytes; Safe takes 65 (r, s, v)`);
    const parsed = Signature.from(signature);
    // Safe reads v 27/28 as an EIP-712 (or approved-hash) signature and v 31/32 as eth_sign of the hash.
    const v = kind === 'ethSign' ? parsed.v + 4 : parsed.v;
    return `${parsed.r.slice(2)}${parsed.s.slice(2)}${v.toString(16).padStart(2, '0')}`;
  });
  return hexlify(`0x${parts.join('')}`);
}

const SAFE = new Interface([
  'function execTransaction(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes signatures) payable returns (bool success)',
  'function nonce() view returns (uint256)',
]);

/** The calldata of Safe.execTransaction(tx, signatures): any account may send it to the Safe. */
export function execTransactionData(tx: SafeTx, signatures: string): string {
  return SAFE.encodeFunctionData('execTransaction', [tx.to, tx.value, tx.data, tx.operation, tx.safeTxGas, tx.baseGas, tx.gasPrice, tx.gasToken, tx.refundReceiver, signatures]);
}

/** Decodes the 32-byte word a Safe view returns (nonce, getTransactionHash). */
export function decodeWord(result: string): bigint {
  return AbiCoder.defaultAbiCoder().decode(['uint256'], result)[0] as bigint;
}

/** The calldata of Safe.nonce(). */
export const NONCE_DATA = SAFE.encodeFunctionData('nonce', []);

/** A SafeTx for one Safe on one chain, as a signTypedData request carries it. */
export interface SafeTxRequest {
  readonly safe: string;
  readonly chainId: bigint;
  readonly tx: SafeTx;
}

/** Reads back the Safe, chain and SafeTx of a request made by safeTxSignRequest (or written by hand the same way). */
export function safeTxFromRequest(request: unknown): SafeTxRequest {
  const event = request as { primaryType?: unknown; domain?: Record<string, unknown>; message?: Record<string, unknown> };
  if (event?.primaryType !== 'SafeTx' || typeof event.domain !== 'object' || typeof event.message !== 'object' || event.domain === null || event.message === null) {
    throw new SafeSignatureError('the request is not a SafeTx signTypedData request: it needs primaryType "SafeTx", domain and message');
  }
  const { domain, message } = event;
  const big = (value: unknown, field: string): bigint => {
    if (typeof value !== 'string' && typeof value !== 'number') throw new SafeSignatureError(`the request's ${field} is not an integer`);
    return BigInt(value);
  };
  const operation = Number(big(message.operation, 'message.operation'));
  if (operation !== 0 && operation !== 1) throw new SafeSignatureError('the request\'s message.operation must be 0 (CALL) or 1 (DELEGATECALL)');
  return {
    safe: getAddress(String(domain.verifyingContract)),
    chainId: big(domain.chainId, 'domain.chainId'),
    tx: {
      to: getAddress(String(message.to)), value: big(message.value, 'message.value'), data: hexlify(String(message.data)), operation,
      safeTxGas: big(message.safeTxGas, 'message.safeTxGas'), baseGas: big(message.baseGas, 'message.baseGas'), gasPrice: big(message.gasPrice, 'message.gasPrice'),
      gasToken: getAddress(String(message.gasToken)), refundReceiver: getAddress(String(message.refundReceiver)), nonce: big(message.nonce, 'message.nonce'),
    },
  };
}

/**
 * One owner's signature from a signer Lambda's response ({ signature, address, digest }): an EIP-712 signature of
 * the SafeTx (signTypedData), or an eth_sign one of its hash (signMessage with encoding "hex"). Checked to
 * recover to the response's address over this SafeTx; anything else is refused, never passed on to the Safe.
 */
export function ownerSignatureFromResponse(hash: string, response: unknown): OwnerSignature {
  const { signature, address } = (response ?? {}) as { signature?: unknown; address?: unknown };
  if (typeof signature !== 'string' || typeof address !== 'string') throw new SafeSignatureError('a response needs signature and address, as the signer Lambda returns them');
  const owner = getAddress(address);
  if (recoverAddress(hash, signature) === owner) return { owner, signature, kind: 'typedData' };
  if (recoverAddress(hashMessage(getBytes(hash)), signature) === owner) return { owner, signature, kind: 'ethSign' };
  throw new SafeSignatureError(`the signature from ${owner} does not sign SafeTx ${hash} (neither EIP-712 nor eth_sign of it): it was made for another transaction, Safe, nonce or chain`);
}

/** Signatures that Safe would refuse: a repeated owner, or not 65 bytes. */
export class SafeSignatureError extends Error {
  override readonly name = 'SafeSignatureError';
}
