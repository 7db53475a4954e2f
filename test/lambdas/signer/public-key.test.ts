import { generateKeyPairSync } from 'node:crypto';
import { publicKeyFromSpki, InvalidPublicKeyError } from '../../../lambdas/signer/public-key';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { spkiFor } from '../../helpers/kms-mock';

const SECP256K1_SPKI_PREFIX = '3056301006072a8648ce3d020106052b8104000a034200';

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
    expect(() => publicKeyFromSpki(spki)).toThrow(/curve is NIST P-256 \(KMS key spec ECC_NIST_P256\), not secp256k1/);
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
