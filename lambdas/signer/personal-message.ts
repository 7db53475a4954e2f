// EIP-191 personal messages: the one rule, shared by the Lambdas' signMessage and KmsSigner.signMessage, for a
// string that tools read two ways.
import { SignerError } from './errors';

/**
 * Whether a message string looks like 0x-hex ("0x" alone and odd digit counts included), so that tools disagree
 * on what it means: ethers and viem sign its UTF-8 text, MetaMask's personal_sign and cast sign the bytes it
 * spells, and for "0xabc" eth-sig-util signs 0x0abc while cast refuses it.
 */
export function isAmbiguousMessage(message: string): boolean {
  return /^0[xX][0-9a-fA-F]*$/.test(message);
}

/** KmsSigner.signMessage was given a string that looks like 0x-hex: its meaning must be said with its type. */
export class AmbiguousMessageError extends SignerError {
  override readonly name = 'AmbiguousMessageError';
  constructor(length: number) {
    super(
      `The message (${length} characters) looks like 0x-hex, which tools read either as text or as bytes, so nothing was signed. ` +
        'Pass getBytes(message) to sign the bytes it spells, or toUtf8Bytes(message) to sign the text.',
    );
  }
}
