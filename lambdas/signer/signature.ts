import { Signature, SigningKey, toBeHex } from 'ethers';
import { SECP256K1_HALF_N, SECP256K1_N } from './curve';
import { SignerError } from './errors';

/** Maps s to the low half of the curve order (EIP-2): nodes reject transactions with s > n/2. */
export function normalizeS(s: bigint): bigint {
  return s > SECP256K1_HALF_N ? SECP256K1_N - s : s;
}

/**
 * Builds the Ethereum signature for (r, s) over a 32-byte digest: s is normalised to low-s, then the
 * recovery parity is found by recovering with each parity and comparing to the expected public key.
 * Fails closed: a signature that recovers to neither parity is never returned.
 */
export function toEthereumSignature(digest: string, r: bigint, s: bigint, expectedPublicKey: string): Signature {
  const rHex = toBeHex(r, 32);
  const sHex = toBeHex(normalizeS(s), 32);
  for (const yParity of [0, 1] as const) {
    const candidate = Signature.from({ r: rHex, s: sHex, yParity });
    if (recoversTo(digest, candidate, expectedPublicKey)) return candidate;
  }
  throw new SignatureRecoveryError(digest);
}

function recoversTo(digest: string, signature: Signature, publicKey: string): boolean {
  try {
    return SigningKey.recoverPublicKey(digest, signature) === publicKey;
  } catch {
    return false; // r is not the x-coordinate of a curve point: this parity cannot be right
  }
}

/** Neither recovery parity yields the KMS key: the signature is not from this key or not over this digest. */
export class SignatureRecoveryError extends SignerError {
  override readonly name = 'SignatureRecoveryError';

  constructor(readonly digest: string) {
    super(
      `The signature from KMS does not recover to the KMS key's address for digest ${digest}; it was refused. ` +
        'Check that KMS_KEY_ID names the intended key (an alias may have been retargeted) and retry.',
    );
  }
}

/**
 * The `v` that a transaction of this type carries: typed transactions (EIP-2718) carry yParity,
 * legacy EIP-155 transactions chainId * 2 + 35 + yParity, pre-EIP-155 ones 27 + yParity.
 */
export function transactionV(type: number, chainId: bigint, yParity: 0 | 1): bigint {
  if (type !== 0) return BigInt(yParity);
  return chainId === 0n ? 27n + BigInt(yParity) : chainId * 2n + 35n + BigInt(yParity);
}
