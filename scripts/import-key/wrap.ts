import { constants, createCipheriv, createPublicKey, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { SignerError } from '../../lambdas/signer/errors';

/** The KMS wrapping algorithms for importing ECC key material (RSAES_PKCS1_V1_5 is retired, SM2PKE is China-only). */
export const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256', 'RSAES_OAEP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_1'] as const;
/** One of `WRAPPING_ALGORITHMS`. */
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];

/** The RSA wrapping key sizes KMS offers. */
export const WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const;
/** One of `WRAPPING_KEY_SPECS`. */
export type WrappingKeySpec = (typeof WRAPPING_KEY_SPECS)[number];

/** RFC 5649 section 3: the alternative initial value of AES key wrap with padding. */
const KWP_IV = Buffer.from('a65959a6', 'hex');

/**
 * Encrypts key material for ImportKeyMaterial with the wrapping public key (DER SubjectPublicKeyInfo)
 * that GetParametersForImport returned. RSAES_OAEP_*: RSA-OAEP of the material itself (MGF1 with the same
 * hash). RSA_AES_KEY_WRAP_*: a fresh AES-256 key encrypted with RSA-OAEP, followed by the material
 * wrapped under that AES key with AES key wrap with padding (RFC 5649), as the KMS developer guide lays it out.
 */
export function wrapKeyMaterial(material: Uint8Array, wrappingPublicKey: Uint8Array, algorithm: WrappingAlgorithm): Buffer {
  const rsaKey = rsaWrappingKey(wrappingPublicKey);
  const oaepHash = algorithm.endsWith('SHA_256') ? 'sha256' : 'sha1';
  if (algorithm.startsWith('RSAES_OAEP')) return rsaOaepEncrypt(rsaKey, oaepHash, material);
  const aesKey = randomBytes(32);
  try {
    return Buffer.concat([rsaOaepEncrypt(rsaKey, oaepHash, aesKey), aesKeyWrapPad(aesKey, material)]);
  } finally {
    aesKey.fill(0);
  }
}

/** AES key wrap with padding (RFC 5649) under a 128-, 192- or 256-bit key-encryption key. */
export function aesKeyWrapPad(kek: Uint8Array, plaintext: Uint8Array): Buffer {
  const bits = kek.length * 8;
  if (bits !== 128 && bits !== 192 && bits !== 256) throw new RangeError(`an AES key is 16, 24 or 32 bytes, not ${kek.length}`);
  const cipher = createCipheriv(`id-aes${bits}-wrap-pad`, kek, KWP_IV);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]);
}

function rsaOaepEncrypt(key: KeyObject, oaepHash: 'sha256' | 'sha1', plaintext: Uint8Array): Buffer {
  try {
    return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, plaintext);
  } catch (cause) {
    throw new WrappingKeyError('RSA-OAEP encryption with it failed', cause);
  }
}

function rsaWrappingKey(spki: Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new WrappingKeyError('it is not a DER SubjectPublicKeyInfo', cause);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < 2048) {
    throw new WrappingKeyError(`it is a ${key.asymmetricKeyType ?? 'unknown'} key of ${bits} bits, not an RSA key of 2048 bits or more`);
  }
  return key;
}

/** The wrapping public key from GetParametersForImport cannot be used. */
export class WrappingKeyError extends SignerError {
  override readonly name = 'WrappingKeyError';
  constructor(problem: string, cause?: unknown) {
    super(`The wrapping public key from KMS GetParametersForImport is unusable: ${problem}. Nothing was imported; retry, and check the endpoint is KMS.`, { cause });
  }
}
