import asn1 from 'asn1.js';
import { SignerError } from './errors';
import { SECP256K1_N } from './curve';

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279, section 2.2.3), as KMS returns it. */
// Stryker disable next-line StringLiteral: the model's name only labels asn1.js's error messages
const EcdsaSigValue = asn1.define<{ r: asn1.BN; s: asn1.BN }>('EcdsaSigValue', function () {
  this.seq().obj(this.key('r').int(), this.key('s').int());
});

/** Decodes a DER ECDSA-Sig-Value into r and s, accepting only canonical DER with 0 < r, s < n. */
export function decodeSignature(der: Uint8Array): { r: bigint; s: bigint } {
  if (der[0] !== 0x30) {
    throw new InvalidDerSignatureError('the signature does not start with a DER SEQUENCE tag (0x30)');
  }
  let decoded: { r: asn1.BN; s: asn1.BN };
  try {
    decoded = EcdsaSigValue.decode(Buffer.from(der)); // DER, asn1.js's default
  } catch (cause) {
    throw new InvalidDerSignatureError('the signature is not a DER SEQUENCE of two INTEGERs', cause);
  }
  // asn1.js is lenient (it ignores trailing bytes, reads negative integers as positive and accepts
  // non-minimal encodings), so the input must be byte-for-byte the canonical re-encoding.
  const canonical: Buffer = EcdsaSigValue.encode(decoded);
  if (!canonical.equals(der)) {
    // Not equal to it but starting with it: longer, so what follows is trailing bytes.
    const trailing = canonical.equals(der.subarray(0, canonical.length));
    throw new InvalidDerSignatureError(
      trailing
        ? `the signature has ${der.length - canonical.length} trailing byte(s) after the DER SEQUENCE`
        : 'the signature is not canonical DER (a negative integer, or a length or integer not minimally encoded)',
    );
  }
  const r = BigInt(`0x${decoded.r.toString(16)}`);
  const s = BigInt(`0x${decoded.s.toString(16)}`);
  for (const [label, value] of [['r', r], ['s', s]] as const) {
    if (value === 0n || value >= SECP256K1_N) {
      throw new InvalidDerSignatureError(`${label} must be in [1, n-1] for secp256k1, got 0x${value.toString(16)}`);
    }
  }
  return { r, s };
}

/** KMS returned bytes that are not a well-formed secp256k1 ECDSA signature. */
export class InvalidDerSignatureError extends SignerError {
  override readonly name = 'InvalidDerSignatureError';

  constructor(problem: string, cause?: unknown) {
    super(`KMS returned an invalid signature: ${problem}. Nothing was signed; retry, and check the key is ECC_SECG_P256K1.`, { cause });
  }
}
