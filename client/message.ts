// The message operations' answers (signMessage, signTypedData, signAuthorization), checked to recover to the signer.
import { getAddress, recoverAddress, Signature } from 'ethers';
import { UnverifiedResponseError } from './errors';

/** What a message operation returns (README "Sign messages, typed data and EIP-7702 authorizations"). */
export interface MessageSignature {
  readonly signature: string;
  readonly digest: string;
  readonly address: string;
  readonly authorization?: { chainId: string; address: string; nonce: string; yParity: 0 | 1; r: string; s: string };
}

/**
 * Checks a message operation's answer: the signature is over `digest` (computed here, not taken from the
 * answer) and recovers to `address`. Returns the answer with its signature parsed.
 */
export function verifyMessageSignature(response: unknown, digest: string, address: string): MessageSignature & { parsed: Signature } {
  const answer = (typeof response === 'object' && response !== null ? response : {}) as Partial<MessageSignature>;
  if (typeof answer.signature !== 'string') throw new UnverifiedResponseError('the response has no signature; is the function a kms-eth-signer Lambda?');
  let parsed: Signature;
  let recovered: string;
  try {
    parsed = Signature.from(answer.signature);
    recovered = recoverAddress(digest, parsed);
  } catch (cause) {
    throw new UnverifiedResponseError(`the signature in the response is malformed: ${(cause as Error).message.slice(0, 200)}`, undefined, { cause });
  }
  if (getAddress(recovered) !== getAddress(address)) {
    throw new UnverifiedResponseError(`the signature recovers to ${recovered}, not to the signer's address ${address}, for the digest computed here; it was not used`);
  }
  return { ...(answer as MessageSignature), parsed };
}
