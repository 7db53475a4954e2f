import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { recoverAddress, Signature, SigningKey, hexlify, keccak256, toBeHex } from 'ethers';
import { secp256k1 } from '@noble/curves/secp256k1';
import { SECP256K1_HALF_N, SECP256K1_N } from '../../../lambdas/signer/curve';
import { normalizeS, prepareRecoveryTables, recoveryTablesReady, toEthereumSignature, transactionV, SignatureRecoveryError } from '../../../lambdas/signer/signature';
import { KNOWN_KEYS } from '../../fixtures/known-keys';

const KEY = KNOWN_KEYS[0];
const publicKey = SigningKey.computePublicKey(KEY.privateKey, false);

describe('normalizeS', () => {
  it('keeps s up to and including n/2', () => {
    expect(normalizeS(1n)).toBe(1n);
    expect(normalizeS(SECP256K1_HALF_N)).toBe(SECP256K1_HALF_N);
  });

  it('replaces s above n/2 with n - s', () => {
    expect(normalizeS(SECP256K1_HALF_N + 1n)).toBe(SECP256K1_N - SECP256K1_HALF_N - 1n);
    expect(normalizeS(SECP256K1_N - 1n)).toBe(1n);
  });

  it('always lands in [1, n/2] and on s or n - s (property)', () => {
    fc.assert(
      fc.property(fc.bigInt(1n, SECP256K1_N - 1n), (s) => {
        const low = normalizeS(s);
        return low >= 1n && low <= SECP256K1_HALF_N && (low === s || low === SECP256K1_N - s);
      }),
    );
  });
});

describe('toEthereumSignature', () => {
  it('returns a low-s signature that recovers to the key, whichever s KMS chose', () => {
    for (let i = 0; i < 32; i++) {
      const digest = hexlify(randomBytes(32));
      const raw = secp256k1.sign(digest.slice(2), KEY.privateKey.slice(2), { lowS: false, extraEntropy: true });
      for (const s of [raw.s, SECP256K1_N - raw.s]) {
        const signature = toEthereumSignature(digest, raw.r, s, publicKey);
        expect(BigInt(signature.s)).toBeLessThanOrEqual(SECP256K1_HALF_N);
        expect(recoverAddress(digest, signature)).toBe(KEY.address);
      }
    }
  });

  it('picks the parity that recovery needs after s was flipped', () => {
    const digest = keccak256('0x01');
    const raw = secp256k1.sign(digest.slice(2), KEY.privateKey.slice(2), { lowS: true });
    const low = toEthereumSignature(digest, raw.r, raw.s, publicKey);
    const high = toEthereumSignature(digest, raw.r, SECP256K1_N - raw.s, publicKey);
    expect(low.yParity).toBe(raw.recovery);
    expect(high.yParity).toBe(low.yParity);
    expect(high.s).toBe(low.s);
  });

  it('left-pads an r shorter than 32 bytes', () => {
    let found = false;
    for (let i = 0; !found; i++) {
      const digest = keccak256(toBeHex(i, 32));
      const raw = secp256k1.sign(digest.slice(2), KEY.privateKey.slice(2));
      if (raw.r >= 2n ** 248n) continue;
      const signature = toEthereumSignature(digest, raw.r, raw.s, publicKey);
      expect(signature.r).toHaveLength(66);
      expect(signature.r.startsWith('0x00')).toBe(true);
      expect(recoverAddress(digest, signature)).toBe(KEY.address);
      found = true;
    }
  });

  it('fails closed when the signature was made by another key', () => {
    const digest = keccak256('0x02');
    const other = secp256k1.sign(digest.slice(2), KNOWN_KEYS[1].privateKey.slice(2));
    expect(() => toEthereumSignature(digest, other.r, other.s, publicKey)).toThrow(SignatureRecoveryError);
  });

  it('fails closed when the signature is over another digest', () => {
    const signed = secp256k1.sign(keccak256('0x03').slice(2), KEY.privateKey.slice(2));
    expect(() => toEthereumSignature(keccak256('0x04'), signed.r, signed.s, publicKey)).toThrow(/does not recover to the KMS key's address/);
  });

  it('fails closed when the expected public key is not a curve point', () => {
    const offCurve = `0x04${'00'.repeat(31)}01${'00'.repeat(31)}01`;
    const signed = secp256k1.sign(keccak256('0x06').slice(2), KEY.privateKey.slice(2));
    expect(() => toEthereumSignature(keccak256('0x06'), signed.r, signed.s, offCurve)).toThrow(SignatureRecoveryError);
  });

  it('fails closed on the degenerate r = 0 over a zero digest, whose verification point is the point at infinity', () => {
    expect(() => toEthereumSignature(`0x${'00'.repeat(32)}`, 0n, 1n, publicKey)).toThrow(SignatureRecoveryError);
  });

  it('says what to check in the refusal, naming the digest', () => {
    const other = secp256k1.sign(keccak256('0x07').slice(2), KNOWN_KEYS[1].privateKey.slice(2));
    const error = (() => { try { toEthereumSignature(keccak256('0x07'), other.r, other.s, publicKey); } catch (caught) { return caught as SignatureRecoveryError; } throw new Error('signed'); })();
    expect(error.name).toBe('SignatureRecoveryError');
    expect(error.digest).toBe(keccak256('0x07'));
    expect(error.message).toBe(`The signature from KMS does not recover to the KMS key's address for digest ${keccak256('0x07')}; it was refused. Check that KMS_KEY_ID names the intended key (an alias may have been retargeted) and retry.`);
  });

  it('fails closed when r is not the x-coordinate of any curve point', () => {
    // x = 5 has no point on secp256k1 (5^3 + 7 = 132 is not a square mod p), so recovery itself fails.
    expect(() => toEthereumSignature(keccak256('0x05'), 5n, 7n, publicKey)).toThrow(SignatureRecoveryError);
  });
});

describe('toEthereumSignature against recovery (the reference it replaces)', () => {
  /** The straightforward definition: the parity whose recovery yields the key, if any. */
  function referenceParity(digest: string, r: bigint, s: bigint, expected: string): 0 | 1 | undefined {
    for (const yParity of [0, 1] as const) {
      try {
        const signature = Signature.from({ r: toBeHex(r, 32), s: toBeHex(normalizeS(s), 32), yParity });
        if (SigningKey.recoverPublicKey(digest, signature) === expected) return yParity;
      } catch {
        // this parity has no curve point: not a match
      }
    }
    return undefined;
  }

  const decision = (digest: string, r: bigint, s: bigint, expected: string) => {
    try {
      return toEthereumSignature(digest, r, s, expected).yParity;
    } catch (error) {
      if (error instanceof SignatureRecoveryError) return undefined;
      throw error;
    }
  };

  it('accepts and refuses exactly what recovery does, for genuine, flipped, foreign and random signatures (property)', () => {
    fc.assert(
      fc.property(
        // A few keys: each new key costs a ~20 ms window table, and the property is about signatures.
        fc.constantFrom(...KNOWN_KEYS.map((key) => BigInt(key.privateKey)), SECP256K1_N - 1n),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom('genuine', 'flipped', 'foreign key', 'other digest', 'random'),
        fc.bigInt(1n, SECP256K1_N - 1n),
        fc.bigInt(1n, SECP256K1_N - 1n),
        (secret, digestBytes, kind, randomR, randomS) => {
          const privateKey = toBeHex(secret, 32);
          const expected = SigningKey.computePublicKey(privateKey, false);
          const digest = hexlify(digestBytes);
          const signer = kind === 'foreign key' ? KNOWN_KEYS[1].privateKey : privateKey;
          const signed = secp256k1.sign((kind === 'other digest' ? keccak256(digest) : digest).slice(2), signer.slice(2), { lowS: false });
          const [r, s] = kind === 'random' ? [randomR, randomS] : kind === 'flipped' ? [signed.r, SECP256K1_N - signed.s] : [signed.r, signed.s];
          const reference = referenceParity(digest, r, s, expected);
          expect(decision(digest, r, s, expected)).toBe(reference);
          if (kind === 'genuine' || kind === 'flipped') expect(reference).toBeDefined();
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('transactionV', () => {
  it.each([
    [2, 1n, 0, 0n],
    [2, 1n, 1, 1n],
    [1, 11155111n, 1, 1n],
    [4, 1n, 0, 0n],
    [0, 1n, 0, 37n],
    [0, 1n, 1, 38n],
    [0, 11155111n, 0, 22310257n],
    [0, 0n, 0, 27n],
    [0, 0n, 1, 28n],
  ] as const)('type %i on chain %s with yParity %i carries v = %s', (type, chainId, yParity, v) => {
    expect(transactionV(type, chainId, yParity)).toBe(v);
  });
});

describe('prepareRecoveryTables', () => {
  it('leaves the check as it was: a signature checked before the tables are built gets the same parity after', () => {
    const key = new SigningKey(`0x${'24'.repeat(32)}`);
    const digest = `0x${'5a'.repeat(32)}`;
    const { r, s, yParity } = key.sign(digest);
    expect(recoveryTablesReady(key.publicKey)).toBe(false);
    const without = toEthereumSignature(digest, BigInt(r), BigInt(s), key.publicKey);
    prepareRecoveryTables(key.publicKey);
    const withTables = toEthereumSignature(digest, BigInt(r), BigInt(s), key.publicKey);
    expect(without).toEqual(withTables);
    expect(without.yParity).toBe(yParity);
    const other = new SigningKey(`0x${'25'.repeat(32)}`).publicKey;
    expect(() => toEthereumSignature(digest, BigInt(r), BigInt(s), other)).toThrow(SignatureRecoveryError);
  });

  it('builds the window tables of G and of a key once, and says so', () => {
    const { publicKey } = new SigningKey(`0x${'42'.repeat(32)}`);
    expect(recoveryTablesReady(publicKey)).toBe(false);
    prepareRecoveryTables(publicKey);
    expect(recoveryTablesReady(publicKey)).toBe(true);
    prepareRecoveryTables(publicKey); // a second call only looks it up
    expect(recoveryTablesReady(publicKey)).toBe(true);
  });

  it('counts the tables of one key for that key only, and keeps those of several keys', () => {
    const first = new SigningKey(`0x${'43'.repeat(32)}`).publicKey;
    const second = new SigningKey(`0x${'44'.repeat(32)}`).publicKey;
    prepareRecoveryTables(first);
    expect(recoveryTablesReady(second)).toBe(false);
    prepareRecoveryTables(second);
    expect(recoveryTablesReady(first)).toBe(true);
    expect(recoveryTablesReady(second)).toBe(true);
  });

  it('builds nothing for a key that is not a curve point, and the recovery check still refuses it', () => {
    const notAPoint = `0x04${'00'.repeat(64)}`;
    prepareRecoveryTables(notAPoint);
    expect(() => toEthereumSignature(`0x${'11'.repeat(32)}`, 1n, 1n, notAPoint)).toThrow(SignatureRecoveryError);
  });
});
