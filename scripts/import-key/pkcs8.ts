import asn1 from 'asn1.js';
import { getBytes } from 'ethers';
import type { PrivateKey } from './private-key';

// The DER encodings of a secp256k1 private key: SEC1 ECPrivateKey (RFC 5915) and PKCS#8 PrivateKeyInfo
// (RFC 5208 / RFC 5958) wrapping it. Encoding is by fixed layout into one buffer, so the scalar is copied
// exactly once and that copy can be zeroed; an ASN.1 encoder would leave copies we cannot reach.

/** DER of the OID 1.3.132.0.10 (secp256k1, SEC 2 appendix A.2.1). */
export const SECP256K1_OID_DER = Buffer.from('06052b8104000a', 'hex');
/** DER of the OID 1.2.840.10045.2.1 (id-ecPublicKey, RFC 5480). */
export const ID_EC_PUBLIC_KEY_OID_DER = Buffer.from('06072a8648ce3d0201', 'hex');

// PrivateKeyInfo ::= SEQUENCE (0x84 bytes) {
//   version INTEGER 0,
//   privateKeyAlgorithm SEQUENCE { id-ecPublicKey, namedCurve secp256k1 },
//   privateKey OCTET STRING (0x6d bytes) containing
//     ECPrivateKey ::= SEQUENCE (0x6b bytes) { version INTEGER 1, privateKey OCTET STRING (32), publicKey [1] BIT STRING (65) } }
// This is what `openssl pkcs8 -topk8 -outform der -nocrypt` writes: OpenSSL leaves the curve out of the
// inner ECPrivateKey (it is in the algorithm identifier) and keeps the public key.
const PKCS8_PREFIX = Buffer.from('308184020100301006072a8648ce3d020106052b8104000a046d306b0201010420', 'hex');
// ECPrivateKey as `openssl ecparam -genkey -noout` writes it: with parameters [0] and publicKey [1].
const SEC1_PREFIX = Buffer.from('30740201010420', 'hex');
const SEC1_PARAMETERS = Buffer.from('a00706052b8104000a', 'hex');
const PUBLIC_KEY_PREFIX = Buffer.from('a144034200', 'hex');

/** Encodes the key as PKCS#8 DER, byte for byte what `openssl pkcs8 -topk8 -outform der -nocrypt` writes. */
export function encodePkcs8(key: PrivateKey): Buffer {
  return assemble([PKCS8_PREFIX, key.scalar, PUBLIC_KEY_PREFIX, getBytes(key.publicKey)]);
}

/** Encodes the key as SEC1 ECPrivateKey DER (named curve and public key), as `openssl ecparam -genkey` does. */
export function encodeSec1(key: PrivateKey): Buffer {
  return assemble([SEC1_PREFIX, key.scalar, SEC1_PARAMETERS, PUBLIC_KEY_PREFIX, getBytes(key.publicKey)]);
}

function assemble(parts: Uint8Array[]): Buffer {
  const out = Buffer.alloc(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** ECPrivateKey (RFC 5915) as decoded; every Buffer is a view on the input (zeroing the input clears it). */
export interface EcPrivateKeyFields {
  version: number;
  privateKey: Buffer;
  /** The DER of the [0] field's content (ECParameters), when present. */
  parameters?: Buffer;
  /** The [1] field's BIT STRING, when present. */
  publicKey?: { unused: number; data: Buffer };
}

/**
 * Decodes ECPrivateKey ::= SEQUENCE { version INTEGER, privateKey OCTET STRING, [0] ECParameters OPTIONAL,
 * [1] BIT STRING OPTIONAL }. Hand-written because asn1.js cannot decode an OPTIONAL field of ANY type.
 */
export function decodeEcPrivateKey(der: Buffer): EcPrivateKeyFields {
  const outer = readTlv(der, 0);
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new Error('not a single DER SEQUENCE');
  const children: Tlv[] = [];
  for (let at = outer.start; at < outer.end; at = children[children.length - 1]!.end) children.push(readTlv(der, at, outer.end));
  const [version, privateKey, ...rest] = children;
  if (version?.tag !== 0x02 || version.end - version.start !== 1) throw new Error('the version is not a small INTEGER');
  if (privateKey?.tag !== 0x04) throw new Error('the private key is not an OCTET STRING');
  const fields: EcPrivateKeyFields = { version: der[version.start] ?? -1, privateKey: der.subarray(privateKey.start, privateKey.end) };
  for (const field of rest) {
    if (field.tag === 0xa0 && !fields.parameters && !fields.publicKey) {
      fields.parameters = der.subarray(field.start, field.end);
    } else if (field.tag === 0xa1 && !fields.publicKey) {
      const bits = readTlv(der, field.start, field.end);
      if (bits.tag !== 0x03 || bits.end !== field.end || bits.end === bits.start) throw new Error('the public key is not a BIT STRING');
      fields.publicKey = { unused: der[bits.start] ?? 0, data: der.subarray(bits.start + 1, bits.end) };
    } else {
      throw new Error(`unexpected field with tag 0x${field.tag.toString(16)}`);
    }
  }
  return fields;
}

interface Tlv {
  tag: number;
  /** Offset of the first content byte. */
  start: number;
  /** Offset just past the last content byte. */
  end: number;
}

function readTlv(der: Buffer, at: number, limit = der.length): Tlv {
  const tag = der[at];
  let length = der[at + 1];
  if (tag === undefined || length === undefined) throw new Error('truncated');
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 2) throw new Error('unsupported length');
    length = 0;
    for (let i = 0; i < octets; i++) length = (length << 8) | (der[start + i] ?? 0);
    start += octets;
  }
  const end = start + length;
  if (end > limit) throw new Error('truncated');
  return { tag, start, end };
}

/** PrivateKeyInfo (RFC 5208) as decoded: `parameters` is the raw DER of the algorithm parameters. */
export interface PrivateKeyInfoFields {
  version: asn1.BN;
  algorithm: { id: number[]; parameters?: Buffer };
  privateKey: Buffer;
}

/** PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier, privateKey OCTET STRING, … } */
export const PrivateKeyInfoAsn1 = asn1.define<PrivateKeyInfoFields>('PrivateKeyInfo', function () {
  this.seq().obj(
    this.key('version').int(),
    this.key('algorithm').seq().obj(this.key('id').objid(), this.key('parameters').optional().any()),
    this.key('privateKey').octstr(),
  );
});
