// What each message operation signs (its digest) and what the Lambda returns for it.
import { hashAuthorization, hashMessage, type Signature } from 'ethers';
import type { MessageRequest } from '../policy/message';
import { typedDataDigest } from '../events/typed-data';

/** What signMessage, signTypedData and signAuthorization return. */
export interface MessageSignResponse {
  /** The 65-byte signature r ‖ s ‖ v (v = 27 + yParity), as personal_sign and eth_signTypedData_v4 return it. */
  signature: string;
  r: string;
  s: string;
  v: 27 | 28;
  yParity: 0 | 1;
  /** The 32-byte digest that KMS signed. */
  digest: string;
  /** The signer's address: the signature recovers to it. */
  address: string;
  /** signAuthorization only: the signed EIP-7702 tuple, ready for a type 4 transaction's authorizationList. */
  authorization?: { chainId: string; address: string; nonce: string; yParity: 0 | 1; r: string; s: string };
}

/** The 32-byte digest a message request signs: EIP-191 personal message, EIP-712 typed data, or EIP-7702 authorization. */
export function messageDigest(request: MessageRequest): string {
  switch (request.operation) {
    case 'signMessage':
      return hashMessage(request.message.bytes);
    case 'signTypedData':
      return typedDataDigest(request.typedData);
    case 'signAuthorization':
      // ethers writes nonce and chain id 0 as the empty byte string, as canonical RLP requires.
      return hashAuthorization(request.authorization);
  }
}

/** Shapes a signature over a message request's digest as the Lambda's JSON response. */
export function toMessageSignResponse(request: MessageRequest, digest: string, signature: Signature, address: string): MessageSignResponse {
  const response: MessageSignResponse = {
    signature: signature.serialized,
    r: signature.r,
    s: signature.s,
    v: signature.v,
    yParity: signature.yParity,
    digest,
    address,
  };
  if (request.operation === 'signAuthorization') {
    const { chainId, address: delegate, nonce } = request.authorization;
    // Decimal strings: a nonce may reach 2^64-1, beyond what a JSON number holds exactly.
    response.authorization = { chainId: chainId.toString(), address: delegate, nonce: nonce.toString(), yParity: signature.yParity, r: signature.r, s: signature.s };
  }
  return response;
}
