import { constants, createDecipheriv, createPrivateKey, generateKeyPair, privateDecrypt, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { kmsErrors } from './errors';
import { NODE_CURVE_NAMES, type EccKeySpec } from './ecdsa';

/** Wrapping algorithms KMS offers for importing ECC key material. */
export const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'] as const;
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];

/** Wrapping key sizes KMS offers. */
export const WRAPPING_KEY_SPECS = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 } as const;
export type WrappingKeySpec = keyof typeof WRAPPING_KEY_SPECS;

const KWP_IV = Buffer.from('a65959a6', 'hex'); // RFC 5649 alternative initial value

/** Generates an RSA wrapping key pair of the given spec (KMS makes a fresh one per GetParametersForImport). */
export async function generateWrappingKey(spec: WrappingKeySpec): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return promisify(generateKeyPair)('rsa', { modulusLength: WRAPPING_KEY_SPECS[spec], publicExponent: 65537 });
}

/**
 * Undoes the client's wrapping. RSAES_OAEP_*: RSA-OAEP of the key material. RSA_AES_KEY_WRAP_*: RSA-OAEP of
 * an ephemeral AES-256 key (as long as the RSA modulus), then the material under AES key wrap with padding
 * (RFC 5649). A failure is InvalidCiphertextException, as in KMS.
 */
export function unwrapKeyMaterial(ciphertext: Buffer, wrappingKey: KeyObject, algorithm: WrappingAlgorithm): Buffer {
  const oaepHash = algorithm.endsWith('SHA_256') ? 'sha256' : 'sha1';
  const rsaDecrypt = (data: Buffer) => privateDecrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data);
  try {
    if (algorithm.startsWith('RSAES_OAEP')) return rsaDecrypt(ciphertext);
    const rsaBytes = (wrappingKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
    const aesKey = rsaDecrypt(ciphertext.subarray(0, rsaBytes));
    if (aesKey.length !== 32) throw new Error(`the ephemeral AES key is ${aesKey.length} bytes, not 32`);
    const decipher = createDecipheriv('id-aes256-wrap-pad', aesKey, KWP_IV);
    return Buffer.concat([decipher.update(ciphertext.subarray(rsaBytes)), decipher.final()]);
  } catch {
    throw kmsErrors.invalidCiphertext(`The encrypted key material could not be unwrapped with the ${algorithm} wrapping key of this import token.`);
  }
}

/** Reads PKCS#8 DER key material and returns its private scalar, checking the curve matches the key spec. */
export function privateScalarFromPkcs8(material: Buffer, spec: EccKeySpec): Uint8Array {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
  } catch {
    throw kmsErrors.incorrectKeyMaterial('The key material is not a DER-encoded PKCS#8 private key.');
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== NODE_CURVE_NAMES[spec]) {
    throw kmsErrors.incorrectKeyMaterial(`The key material is a ${curve ?? key.asymmetricKeyType} key; this KMS key has key spec ${spec}.`);
  }
  const d = key.export({ format: 'jwk' }).d;
  if (!d) throw kmsErrors.incorrectKeyMaterial('The key material holds no private scalar.');
  return Buffer.from(d, 'base64url');
}
