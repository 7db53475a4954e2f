import asn1 from 'asn1.js';
// noble, not ethers: the core is shared by the ethers signer and the viem account, and the viem entry must
// not load ethers. These are the versions ethers v6 pins, so a bundle still carries one copy of each.
import { secp256k1 } from '@noble/curves/secp256k1';
import { keccak_256 } from '@noble/hashes/sha3';
import { bytesToHex } from '@noble/hashes/utils';
import { SignerError } from './errors';

const ID_EC_PUBLIC_KEY = '1.2.840.10045.2.1'; // RFC 5480, section 2.1.1
const SECP256K1 = '1.3.132.0.10'; // SEC 2, appendix A.2.1
const KNOWN_CURVES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.10045.3.1.7', 'NIST P-256 (KMS key spec ECC_NIST_P256)'],
  ['1.3.132.0.34', 'NIST P-384 (KMS key spec ECC_NIST_P384)'],
  ['1.3.132.0.35', 'NIST P-521 (KMS key spec ECC_NIST_P521)'],
]);

/** SubjectPublicKeyInfo for an EC key (RFC 5480, section 2): algorithm id, named curve, point. */
// Stryker disable StringLiteral: the model's name only labels asn1.js's debug output
const EcSubjectPublicKeyInfo = asn1.define<{
  algorithm: { id: number[]; curve: number[] };
  publicKey: { unused: number; data: Buffer };
}>('EcSubjectPublicKeyInfo', function () {
  // Stryker restore StringLiteral
  this.seq().obj(
    this.key('algorithm').seq().obj(this.key('id').objid(), this.key('curve').objid()),
    this.key('publicKey').bitstr(),
  );
});

/** A secp256k1 public key and the Ethereum address it controls. */
export interface EthereumPublicKey {
  /** The 65-byte uncompressed point (0x04 || x || y), as hex. */
  readonly publicKey: string;
  /** The EIP-55 checksummed address: the last 20 bytes of keccak256(x || y). */
  readonly address: string;
}

/** Parses a DER SubjectPublicKeyInfo (as KMS GetPublicKey returns it) holding a secp256k1 point. */
export function publicKeyFromSpki(spki: Uint8Array): EthereumPublicKey {
  let decoded: ReturnType<typeof EcSubjectPublicKeyInfo.decode>;
  try {
    decoded = EcSubjectPublicKeyInfo.decode(Buffer.from(spki)); // DER, asn1.js's default
  } catch (cause) {
    throw new InvalidPublicKeyError('it is not a DER SubjectPublicKeyInfo for an elliptic-curve key', cause);
  }
  const algorithm = decoded.algorithm.id.join('.');
  if (algorithm !== ID_EC_PUBLIC_KEY) {
    throw new InvalidPublicKeyError(`its algorithm is ${algorithm}, not id-ecPublicKey (${ID_EC_PUBLIC_KEY})`);
  }
  const curve = decoded.algorithm.curve.join('.');
  if (curve !== SECP256K1) {
    throw new InvalidPublicKeyError(`its curve is ${KNOWN_CURVES.get(curve) ?? curve}, not secp256k1 (${SECP256K1})`);
  }
  const point = decoded.publicKey.data;
  if (decoded.publicKey.unused !== 0 || point.length !== 65 || point[0] !== 0x04) {
    throw new InvalidPublicKeyError(`its point is ${point.length} bytes, not a 65-byte uncompressed point (0x04 || x || y)`);
  }
  try {
    // Rejects a point that is not on the curve: no signature could ever be checked against it.
    secp256k1.ProjectivePoint.fromHex(point).assertValidity();
  } catch (cause) {
    throw new InvalidPublicKeyError('its point is not on the secp256k1 curve', cause);
  }
  return { publicKey: `0x${bytesToHex(point)}`, address: addressFromPoint(point) };
}

/** The EIP-55 checksummed address of an uncompressed point: the last 20 bytes of keccak256(x || y). */
function addressFromPoint(point: Uint8Array): string {
  const lower = bytesToHex(keccak_256(point.subarray(1)).subarray(-20));
  const hash = bytesToHex(keccak_256(new TextEncoder().encode(lower)));
  let address = '0x';
  // EIP-55: a letter is upper case where the nibble of keccak256(lower-case hex) at its index is 8 or more.
  for (let i = 0; i < lower.length; i++) address += parseInt(hash[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i];
  return address;
}

/** The public key KMS returned cannot be an Ethereum key. */
export class InvalidPublicKeyError extends SignerError {
  override readonly name = 'InvalidPublicKeyError';

  constructor(problem: string, cause?: unknown) {
    super(`The KMS public key is not a secp256k1 key: ${problem}. Use a KMS key with key spec ECC_SECG_P256K1.`, { cause });
  }
}
