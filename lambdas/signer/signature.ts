// noble 1.2.0 is the version ethers v6 pins, so the bundle carries one copy of the curve code.
import { secp256k1 } from '@noble/curves/secp256k1';
import { invert, mod } from '@noble/curves/abstract/modular';
import type { ProjPointType } from '@noble/curves/abstract/weierstrass';
import { SECP256K1_HALF_N, SECP256K1_N } from './curve';
import { SignerError } from './errors';

const Point = secp256k1.ProjectivePoint;

/** Maps s to the low half of the curve order (EIP-2): nodes reject transactions with s > n/2. */
export function normalizeS(s: bigint): bigint {
  return s > SECP256K1_HALF_N ? SECP256K1_N - s : s;
}

/**
 * A recoverable secp256k1 signature as Ethereum carries it: 32-byte r and low s as hex, and the recovery
 * parity. Plain data, so that the ethers signer (`Signature.from`) and the viem account both take it as is.
 */
export interface RecoverableSignature {
  readonly r: `0x${string}`;
  readonly s: `0x${string}`;
  readonly yParity: 0 | 1;
}

/**
 * Builds the Ethereum signature for (r, s) over a 32-byte digest: s is normalised to low-s, then the
 * recovery parity is derived from the expected public key. Fails closed: a signature that does not
 * verify against that key, or whose R point ethers could not recover from, is never returned.
 */
export function toEthereumSignature(digest: string, r: bigint, s: bigint, expectedPublicKey: string): RecoverableSignature {
  const low = normalizeS(s);
  const yParity = recoveryParity(digest, r, low, expectedPublicKey);
  if (yParity === undefined) throw new SignatureRecoveryError(digest);
  return { r: toWord(r), s: toWord(low), yParity };
}

/** A 256-bit value as 0x-prefixed hex of exactly 32 bytes (DER drops the leading zeros that Ethereum keeps). */
function toWord(value: bigint): `0x${string}` {
  return `0x${value.toString(16).padStart(64, '0')}`;
}

/**
 * The parity with which (r, s) recovers to the public key Q over digest z, or undefined if none does.
 * Recovery with parity p yields Q exactly when R = s⁻¹(z·G + r·Q) is the point (r, y) with y of parity p,
 * so one ECDSA verification replaces up to two public-key recoveries. R.x must equal r itself, not merely
 * r mod n: recovery only ever tries x = r, so a signature whose R.x is r + n (recovery ids 2 and 3)
 * fails here as it would there.
 */
function recoveryParity(digest: string, r: bigint, s: bigint, publicKey: string): 0 | 1 | undefined {
  const Q = publicKeyPoint(publicKey);
  if (!Q) return undefined;
  const w = invert(s, SECP256K1_N);
  const z = mod(BigInt(digest), SECP256K1_N); // bits2int mod n, as recovery does for a 32-byte digest
  const a = mod(z * w, SECP256K1_N);
  const b = mod(r * w, SECP256K1_N);
  // With the window tables built, each product is a few dozen point additions; without them (a process's first
  // signature, which is not kept waiting for tables that take tens of milliseconds to build) the same products
  // by double-and-add, a few milliseconds.
  const R = recoveryTablesReady(publicKey)
    ? multiplyPublic(Point.BASE, a).add(multiplyPublic(Q, b))
    : Point.BASE.multiplyUnsafe(a).add(Q.multiplyUnsafe(b));
  if (R.equals(Point.ZERO)) return undefined;
  const { x, y } = R.toAffine();
  if (x !== r) return undefined;
  return y % 2n === 0n ? 0 : 1;
}

// noble 1.2's windowed multiplication by one half of an endomorphism-split scalar (`wNAF`, used by
// `multiply`): the method exists on every point but is missing from the type declarations.
interface WindowedPoint {
  wNAF(n: bigint): { p: ProjPointType<bigint> };
}
const { endo } = secp256k1.CURVE;
const Fp = secp256k1.CURVE.Fp;

/**
 * k·P for a public scalar and a point with a window table: `multiply` without the two steps that only
 * serve constant time (the fake point, and normalising both to Z = 1 with a field inversion each time),
 * which the caller does not need because nothing here is secret. R is made affine once, by the caller.
 * Same arithmetic as noble's `multiply` otherwise (GLV split, two windowed sums, β·x for the second).
 */
function multiplyPublic(P: ProjPointType<bigint>, k: bigint): ProjPointType<bigint> {
  // Stryker disable next-line ConditionalExpression,BooleanLiteral: secp256k1 has one; same point
  if (!endo) return P.multiply(k);
  const { k1neg, k1, k2neg, k2 } = endo.splitScalar(k);
  const windowed = P as unknown as WindowedPoint;
  let k1p = windowed.wNAF(k1).p;
  let k2p = windowed.wNAF(k2).p;
  if (k1neg) k1p = k1p.negate();
  if (k2neg) k2p = k2p.negate();
  k2p = new Point(Fp.mul(k2p.px, endo.beta), k2p.py, k2p.pz);
  return k1p.add(k2p);
}

// One window table per public key (as noble keeps for G) makes r·Q cheap: about 4,000 points (under 1 MB),
// built in some 20 ms once per key per process. Few keys are ever used; keep at most a handful.
const PUBLIC_KEY_WINDOW = 8;
const MAX_CACHED_KEYS = 8;
const publicKeyPoints = new Map<string, ProjPointType<bigint>>();

function publicKeyPoint(publicKey: string): ProjPointType<bigint> | undefined {
  let point = publicKeyPoints.get(publicKey);
  if (!point) {
    try {
      point = Point.fromHex(publicKey.slice(2)); // checks the point is on the curve
    } catch {
      return undefined; // no signature can verify against a key that is not a curve point
    }
    point._setWindowSize(PUBLIC_KEY_WINDOW);
    // Stryker disable next-line all: the bound only limits memory; the point is the same
    if (publicKeyPoints.size >= MAX_CACHED_KEYS) publicKeyPoints.delete(publicKeyPoints.keys().next().value ?? '');
    publicKeyPoints.set(publicKey, point);
  }
  return point;
}

let baseTableReady = false;
const keyTablesReady = new Set<string>();

/**
 * Builds the window tables the recovery check uses (G's, and the key's when given) if they are not built yet:
 * some tens of milliseconds of CPU once per process (per key), which a caller runs while it waits for the
 * network (a Sign on the wire) rather than after it. Cheap once built. Until then the check multiplies without
 * tables (same result, a few milliseconds).
 */
export function prepareRecoveryTables(publicKey?: string): void {
  // Stryker disable next-line ConditionalExpression: building G's table again only costs CPU
  if (!baseTableReady) {
    multiplyPublic(Point.BASE, 1n);
    baseTableReady = true;
  }
  // Stryker disable next-line ConditionalExpression,LogicalOperator: building a table again only costs CPU
  if (publicKey === undefined || keyTablesReady.has(publicKey)) return;
  const Q = publicKeyPoint(publicKey);
  // Stryker disable next-line ConditionalExpression: a table not built is built by the check, later
  if (Q) multiplyPublic(Q, 1n);
  // Stryker disable next-line ConditionalExpression: the bound only limits memory; a forgotten key only builds its (cached) table check again
  if (keyTablesReady.size >= MAX_CACHED_KEYS) keyTablesReady.clear();
  keyTablesReady.add(publicKey);
}

/** True when the recovery check against this key will find its window tables built. */
export function recoveryTablesReady(publicKey: string): boolean {
  return baseTableReady && keyTablesReady.has(publicKey);
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
