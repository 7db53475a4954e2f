import { createHash } from 'node:crypto';
import { p256 } from '@noble/curves/p256';
import { secp256k1 } from '@noble/curves/secp256k1';

/** The asymmetric signing key specs the emulator supports. */
export type EccKeySpec = 'ECC_SECG_P256K1' | 'ECC_NIST_P256';

const CURVES = { ECC_SECG_P256K1: secp256k1, ECC_NIST_P256: p256 } as const;

/** The OpenSSL / node name of each spec's curve, as asymmetricKeyDetails reports it. */
export const NODE_CURVE_NAMES: Record<EccKeySpec, string> = { ECC_SECG_P256K1: 'secp256k1', ECC_NIST_P256: 'prime256v1' };

// SubjectPublicKeyInfo prefixes for an uncompressed point (RFC 5480): SEQUENCE { id-ecPublicKey, curve }, BIT STRING.
const SPKI_PREFIX: Record<EccKeySpec, string> = {
  ECC_SECG_P256K1: '3056301006072a8648ce3d020106052b8104000a034200',
  ECC_NIST_P256: '3059301306072a8648ce3d020106082a8648ce3d030107034200',
};

/** A fresh private scalar for the spec's curve. */
export function generatePrivateKey(spec: EccKeySpec): Uint8Array {
  return CURVES[spec].utils.randomPrivateKey();
}

/** The DER SubjectPublicKeyInfo of the key, as KMS GetPublicKey returns it. */
export function publicKeySpki(spec: EccKeySpec, privateKey: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(SPKI_PREFIX[spec], 'hex'), CURVES[spec].getPublicKey(privateKey, false)]);
}

/** The 32 bytes ECDSA signs: RAW messages are hashed with SHA-256; DIGEST messages are signed as they are. */
export function messageDigest(message: Uint8Array, messageType: 'RAW' | 'DIGEST'): Uint8Array {
  return messageType === 'RAW' ? createHash('sha256').update(message).digest() : message;
}

/**
 * Signs like KMS: a DER ECDSA-Sig-Value with a random nonce and no low-s normalisation, so about half of
 * the secp256k1 signatures have s > n/2, as real KMS signatures do.
 */
export function signDigest(spec: EccKeySpec, privateKey: Uint8Array, digest: Uint8Array): Buffer {
  return Buffer.from(CURVES[spec].sign(digest, privateKey, { lowS: false, extraEntropy: true }).toDERRawBytes());
}

/** Verifies a DER signature over a digest, accepting high s as KMS does. */
export function verifyDigest(spec: EccKeySpec, privateKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean {
  try {
    return CURVES[spec].verify(signature, digest, CURVES[spec].getPublicKey(privateKey, false), { lowS: false });
  } catch {
    return false; // not DER, or not a signature at all
  }
}
