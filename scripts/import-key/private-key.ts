import { createECDH } from 'node:crypto';
import { computeAddress, hexlify } from 'ethers';
import { SECP256K1_N } from '../../lambdas/signer/curve';
import { SignerError } from '../../lambdas/signer/errors';

/** A secp256k1 private key with its public key and the address MetaMask shows for it. */
export interface PrivateKey {
  /** The 32-byte big-endian scalar. Owned by this object: `destroyPrivateKey` zeroes it. */
  readonly scalar: Buffer;
  /** The 65-byte uncompressed public point (0x04 || x || y), as hex. */
  readonly publicKey: string;
  /** The EIP-55 checksummed address: what MetaMask shows for this key. */
  readonly address: string;
}

/** Builds a private key from a big-endian scalar of at most 32 bytes, checking it is in [1, n-1]. */
export function privateKeyFromScalar(bytes: Uint8Array): PrivateKey {
  if (bytes.length > 32) throw new ScalarOutOfRangeError(`it is ${bytes.length} bytes long; a secp256k1 private key is 32 bytes`);
  // Our own copy, left-padded to 32 bytes: the caller may zero its buffer as soon as we return.
  const scalar = Buffer.alloc(32);
  scalar.set(bytes, 32 - bytes.length);
  if (scalar.every((byte) => byte === 0)) {
    throw new ScalarOutOfRangeError('it is zero');
  }
  if (compareToOrder(scalar) >= 0) {
    scalar.fill(0);
    throw new ScalarOutOfRangeError('it is not less than the curve order n');
  }
  // node's ECDH takes and returns Buffers, so the scalar never becomes a (non-zeroable) string.
  const ecdh = createECDH('secp256k1');
  ecdh.setPrivateKey(scalar);
  const publicKey = hexlify(ecdh.getPublicKey(null, 'uncompressed'));
  return { scalar, publicKey, address: computeAddress(publicKey) };
}

/** Zeroes the scalar: call it as soon as the key material is no longer needed. */
export function destroyPrivateKey(key: PrivateKey): void {
  key.scalar.fill(0);
}

/** Compares a 32-byte big-endian scalar with n without turning it into a number or a string. */
function compareToOrder(scalar: Buffer): number {
  const order = Buffer.from(SECP256K1_N.toString(16).padStart(64, '0'), 'hex');
  return scalar.compare(order);
}

/** The scalar is 0, n or more, or longer than 32 bytes: it is not a secp256k1 private key. */
export class ScalarOutOfRangeError extends SignerError {
  override readonly name = 'ScalarOutOfRangeError';
  constructor(problem: string) {
    super(`The private key is not valid for secp256k1: ${problem}. It must be a number from 1 to n-1 (n = 0x${SECP256K1_N.toString(16)}); check that the file holds the key you meant.`);
  }
}
