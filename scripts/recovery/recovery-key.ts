import { createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { InvalidRecoveryKeyError } from './errors';

/** The DER SubjectPublicKeyInfo of an RSA-4096 key with exponent 65537 is always this long. */
export const RSA_4096_SPKI_BYTES = 550;
/** ...and its hex text form (no 0x, no line breaks) is twice that. */
export const RSA_4096_SPKI_HEX_CHARS = RSA_4096_SPKI_BYTES * 2;

/** A recovery public key, read and checked, and how it was given. */
export interface RecoveryPublicKey {
  readonly key: KeyObject;
  readonly der: Buffer;
  readonly format: 'der' | 'hex' | 'pem';
}

/** Generates an RSA-4096 recovery key pair (the private key is for offline storage only). */
export async function generateRecoveryKeyPair(): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return promisify(generateKeyPair)('rsa', { modulusLength: 4096, publicExponent: 65537 });
}

/**
 * Reads a recovery public key given as binary DER (PKIX SubjectPublicKeyInfo), hex text of that DER, or
 * PEM, and checks it is RSA with a 4096-bit modulus. Each known mistake gets its own message.
 */
export function parseRecoveryPublicKey(content: Buffer, file: string): RecoveryPublicKey {
  const text = content.toString('latin1');
  if (/-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(text)) {
    throw new InvalidRecoveryKeyError(file, 'this is a PRIVATE key; give the recovery PUBLIC key (keep the private key offline)');
  }
  if (text.includes('-----BEGIN')) {
    if (!text.includes('-----BEGIN PUBLIC KEY-----')) {
      throw new InvalidRecoveryKeyError(file, 'this PEM file holds no "PUBLIC KEY" block; give the recovery public key (SubjectPublicKeyInfo)');
    }
    return check(toKey(() => createPublicKey({ key: text, format: 'pem' }), file), 'pem', file);
  }
  const isText = [...content].every((byte) => byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte <= 0x7e));
  if (!isText && content[0] === 0x30) {
    return check(toKey(() => createPublicKey({ key: content, format: 'der', type: 'spki' }), file, content.length), 'der', file, content.length);
  }

  const hex = text.trim().replace(/^0x/i, '').replace(/\s+/g, '');
  const bad = hex.match(/[^0-9a-fA-F]/);
  if (bad) {
    throw new InvalidRecoveryKeyError(
      file,
      !isText
        ? 'this is not a DER public key (binary DER starts with byte 0x30) nor hex text'
        : `invalid hex character ${JSON.stringify(bad[0])} at position ${bad.index}; the hex form has only 0-9 and a-f`,
    );
  }
  if (hex.length % 2 !== 0) throw new InvalidRecoveryKeyError(file, `the hex text has an odd number of digits (${hex.length}); it is truncated or has a stray character`);
  const der = Buffer.from(hex, 'hex');
  return check(toKey(() => createPublicKey({ key: der, format: 'der', type: 'spki' }), file, der.length, hex.length), 'hex', file, der.length);
}

function toKey(parse: () => KeyObject, file: string, bytes?: number, hexChars?: number): KeyObject {
  try {
    return parse();
  } catch (cause) {
    if (bytes !== undefined && bytes < RSA_4096_SPKI_BYTES) {
      const size = hexChars !== undefined ? `${hexChars} hex characters, not ${RSA_4096_SPKI_HEX_CHARS}` : `${bytes} bytes, not ${RSA_4096_SPKI_BYTES}`;
      throw new InvalidRecoveryKeyError(file, `the file is truncated (${size} for an RSA-4096 public key)`, cause);
    }
    throw new InvalidRecoveryKeyError(file, 'this is not a DER public key (PKIX SubjectPublicKeyInfo)', cause);
  }
}

function check(key: KeyObject, format: RecoveryPublicKey['format'], file: string, inputBytes?: number): RecoveryPublicKey {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new InvalidRecoveryKeyError(file, `the key is ${key.asymmetricKeyType?.toUpperCase() ?? 'not RSA'}; generate an RSA-4096 key (npm run recovery-keypair)`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== 4096) throw new InvalidRecoveryKeyError(file, `the key is RSA-${bits}; generate an RSA-4096 key (npm run recovery-keypair)`);
  const der = key.export({ type: 'spki', format: 'der' });
  if (inputBytes !== undefined && inputBytes !== der.length) {
    const size = format === 'hex' ? `${inputBytes * 2} hex characters, not ${der.length * 2}` : `${inputBytes} bytes, not ${der.length}`;
    throw new InvalidRecoveryKeyError(file, `the file size is wrong (${size}): it has extra bytes after the key`);
  }
  return { key, der, format };
}
