import { generateKeyPairSync } from 'node:crypto';
import { publicKeyFromSpki, InvalidPublicKeyError } from '../../../lambdas/signer/public-key';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { spkiFor } from '../../helpers/kms-mock';
import { freshModule } from '../../helpers/fresh-module';

const SECP256K1_SPKI_PREFIX = '3056301006072a8648ce3d020106052b8104000a034200';

/** publicKeyFromSpki from a fresh load of its module: the curve names are a module-level table (see freshModule). */
const freshPublicKeyFromSpki = () =>
  freshModule(() => require('../../../lambdas/signer/public-key') as typeof import('../../../lambdas/signer/public-key')).publicKeyFromSpki;

describe('publicKeyFromSpki', () => {
  it.each(KNOWN_KEYS)('derives the published EIP-55 address $address', ({ privateKey, address }) => {
    expect(publicKeyFromSpki(spkiFor(privateKey)).address).toBe(address);
  });

  it('returns the 65-byte uncompressed point as hex', () => {
    const spki = spkiFor(KNOWN_KEYS[0].privateKey);
    const { publicKey } = publicKeyFromSpki(spki);
    expect(publicKey).toMatch(/^0x04[0-9a-f]{128}$/);
    expect(Buffer.from(spki).toString('hex')).toBe(SECP256K1_SPKI_PREFIX + publicKey.slice(2));
  });

  it('rejects a NIST P-256 key (KMS key spec ECC_NIST_P256) by naming its curve', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    expect(() => freshPublicKeyFromSpki()(spki)).toThrow(/curve is NIST P-256 \(KMS key spec ECC_NIST_P256\), not secp256k1/);
  });

  it('rejects an RSA key', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => publicKeyFromSpki(publicKey.export({ type: 'spki', format: 'der' }))).toThrow(InvalidPublicKeyError);
  });

  it('rejects a compressed point', () => {
    const compressed = Buffer.from('3036301006072a8648ce3d020106052b8104000a032200' + '02' + '11'.repeat(32), 'hex');
    expect(() => publicKeyFromSpki(compressed)).toThrow(/33 bytes, not a 65-byte uncompressed point/);
  });

  it('rejects a point that is not on the curve', () => {
    const spki = Buffer.from(spkiFor(KNOWN_KEYS[0].privateKey));
    spki.writeUInt8(spki.readUInt8(spki.length - 1) ^ 1, spki.length - 1);
    expect(() => publicKeyFromSpki(spki)).toThrow(/not on the secp256k1 curve/);
  });

  it('rejects bytes that are not DER', () => {
    expect(() => publicKeyFromSpki(Buffer.from('not a key'))).toThrow(/not a DER SubjectPublicKeyInfo/);
  });
});

describe('publicKeyFromSpki on malformed SubjectPublicKeyInfo', () => {
  const point = () => publicKeyFromSpki(spkiFor(KNOWN_KEYS[0].privateKey)).publicKey.slice(2);
  // SEQUENCE { SEQUENCE { OID algorithm, OID curve }, BIT STRING { unused bits, point } }, built by hand.
  const spki = ({ algorithm = '06072a8648ce3d0201', curve = '06052b8104000a', unused = '00', key = point() } = {}) => {
    const tlv = (tag: string, body: string) => tag + (body.length / 2).toString(16).padStart(2, '0') + body;
    return Buffer.from(tlv('30', tlv('30', algorithm + curve) + tlv('03', unused + key)), 'hex');
  };

  it('accepts the hand-built encoding of a valid key (so the cases below differ in one part only)', () => {
    expect(publicKeyFromSpki(spki()).address).toBe(KNOWN_KEYS[0].address);
  });

  it('rejects another algorithm OID (rsaEncryption), naming it', () => {
    expect(() => publicKeyFromSpki(spki({ algorithm: '06092a864886f70d010101' }))).toThrow(
      /^The KMS public key is not a secp256k1 key: its algorithm is 1\.2\.840\.113549\.1\.1\.1, not id-ecPublicKey \(1\.2\.840\.10045\.2\.1\)\. Use a KMS key with key spec ECC_SECG_P256K1\.$/,
    );
  });

  it('rejects an unknown curve by its OID', () => {
    expect(() => publicKeyFromSpki(spki({ curve: '06052b81040021' }))).toThrow(/its curve is 1\.3\.132\.0\.33, not secp256k1 \(1\.3\.132\.0\.10\)/);
  });

  it.each([
    ['P-384', '06052b81040022', /NIST P-384 \(KMS key spec ECC_NIST_P384\)/],
    ['P-521', '06052b81040023', /NIST P-521 \(KMS key spec ECC_NIST_P521\)/],
  ])('names the KMS key spec of a %s key', (_label, curve, message) => {
    expect(() => freshPublicKeyFromSpki()(spki({ curve }))).toThrow(message);
  });

  it('rejects a bit string with unused bits', () => {
    expect(() => publicKeyFromSpki(spki({ unused: '01' }))).toThrow(/not a 65-byte uncompressed point/);
  });

  it('rejects a 64-byte point that starts with 0x04', () => {
    expect(() => publicKeyFromSpki(spki({ key: point().slice(0, 128) }))).toThrow(/its point is 64 bytes, not a 65-byte uncompressed point/);
  });

  it('rejects a 65-byte point whose prefix is not 0x04', () => {
    expect(() => publicKeyFromSpki(spki({ key: '06' + point().slice(2) }))).toThrow(/its point is 65 bytes, not a 65-byte uncompressed point/);
  });

  it('keeps the decoder error as the cause of a DER failure, and is named InvalidPublicKeyError', () => {
    let caught: unknown;
    try {
      publicKeyFromSpki(Buffer.from('3000', 'hex'));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidPublicKeyError);
    expect((caught as Error).name).toBe('InvalidPublicKeyError');
    expect((caught as Error).cause).toBeInstanceOf(Error);
  });

  it('keeps the curve check error as the cause of an off-curve point', () => {
    const key = point();
    const offCurve = key.slice(0, -2) + ((parseInt(key.slice(-2), 16) ^ 1).toString(16).padStart(2, '0'));
    try {
      publicKeyFromSpki(spki({ key: offCurve }));
      throw new Error('expected InvalidPublicKeyError');
    } catch (error) {
      expect((error as Error).message).toMatch(/not on the secp256k1 curve/);
      expect((error as Error).cause).toBeInstanceOf(Error);
    }
  });
});
