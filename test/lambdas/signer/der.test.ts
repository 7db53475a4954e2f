import { randomBytes } from 'node:crypto';
import { decodeSignature, InvalidDerSignatureError } from '../../../lambdas/signer/der';
import { SECP256K1_N } from '../../../lambdas/signer/curve';
import { derFromParts, derSign } from '../../helpers/kms-mock';
import { secp256k1 } from '@noble/curves/secp256k1';
import { toBeArray } from 'ethers';

const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

describe('decodeSignature', () => {
  it('returns the r and s of a DER signature made by another implementation', () => {
    for (let i = 0; i < 20; i++) {
      const der = derSign(randomBytes(32), KEY);
      const expected = secp256k1.Signature.fromDER(der);
      expect(decodeSignature(der)).toEqual({ r: expected.r, s: expected.s });
    }
  });

  it('reads an integer whose high bit is set, which DER prefixes with a 0x00 byte', () => {
    const r = bytes('00' + 'ff'.repeat(31));
    expect(decodeSignature(derFromParts(r, bytes('01'))).r).toBe(2n ** 248n - 1n);
  });

  it('reads integers shorter than 32 bytes', () => {
    expect(decodeSignature(derFromParts(bytes('7f'), bytes('0102')))).toEqual({ r: 0x7fn, s: 0x0102n });
  });

  const rejected: Array<[string, Uint8Array, RegExp]> = [
    ['an empty input', new Uint8Array(), /DER SEQUENCE tag/],
    ['a SET tag instead of SEQUENCE', bytes('3106020101020102'), /DER SEQUENCE tag/],
    ['a truncated sequence', bytes('300602010102'), /not a DER SEQUENCE of two INTEGERs/],
    ['a BIT STRING where s belongs', bytes('3006020101030102'), /not a DER SEQUENCE of two INTEGERs/],
    ['an integer length that overruns the sequence', bytes('3006020101020202'), /not a DER SEQUENCE of two INTEGERs/],
    ['trailing bytes after the sequence', bytes('3006020101020102ff'), /1 trailing byte/],
    ['a negative r (high bit set without a 0x00 pad)', bytes('30060201ff020101'), /not canonical DER/],
    ['a non-minimal integer (a needless 0x00 pad)', bytes('300702020001020101'), /not canonical DER/],
    ['a non-minimal length (long form for a short sequence)', bytes('308106020101020101'), /not canonical DER/],
    ['r = 0', bytes('3006020100020101'), /r must be in \[1, n-1\]/],
    ['s = 0', bytes('3006020101020100'), /s must be in \[1, n-1\]/],
  ];
  it.each(rejected)('rejects %s', (_label, der, message) => {
    expect(() => decodeSignature(der)).toThrow(InvalidDerSignatureError);
    expect(() => decodeSignature(der)).toThrow(message);
  });

  it('rejects s = n and r > n, which are not valid scalars', () => {
    const n = Uint8Array.from([0, ...toBeArray(SECP256K1_N)]);
    const nPlus1 = Uint8Array.from([0, ...toBeArray(SECP256K1_N + 1n)]);
    expect(() => decodeSignature(derFromParts(bytes('01'), n))).toThrow(/s must be in \[1, n-1\]/);
    expect(() => decodeSignature(derFromParts(nPlus1, bytes('01')))).toThrow(/r must be in \[1, n-1\]/);
  });

  it('keeps the parser error as the cause and has a stable name', () => {
    try {
      decodeSignature(bytes('300602010102'));
      throw new Error('expected a throw');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidDerSignatureError);
      expect((error as Error).name).toBe('InvalidDerSignatureError');
      expect((error as Error).cause).toBeInstanceOf(Error);
    }
  });
});
