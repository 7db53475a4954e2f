import { constants, createDecipheriv, generateKeyPairSync, privateDecrypt } from 'node:crypto';
import { aesKeyWrapPad, WRAPPING_ALGORITHMS, WrappingKeyError, wrapKeyMaterial } from '../../../scripts/import-key/wrap';
import { openssl } from './openssl';

const hex = (value: string) => Buffer.from(value.replace(/\s/g, ''), 'hex');

describe('aesKeyWrapPad', () => {
  // RFC 5649, section 6 (192-bit KEK).
  const kek = hex('5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8');

  it('matches the RFC 5649 test vector for 20 bytes of key material', () => {
    const wrapped = aesKeyWrapPad(kek, hex('c37b7e6492584340 bed1220780894115 5068f738'));
    expect(wrapped.toString('hex')).toBe('138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a');
  });

  it('matches the RFC 5649 test vector for 7 bytes of key material', () => {
    expect(aesKeyWrapPad(kek, hex('466f7250617369')).toString('hex')).toBe('afbeb0f07dfbf5419200f2ccb50bb24f');
  });

  it('agrees with `openssl enc -id-aes256-wrap-pad` for a 135-byte PKCS#8 under a 256-bit key', () => {
    const key = Buffer.alloc(32, 7);
    const material = Buffer.alloc(135, 0x42);
    const expected = openssl(['enc', '-id-aes256-wrap-pad', '-K', key.toString('hex'), '-iv', 'A65959A6'], material);
    expect(aesKeyWrapPad(key, material).equals(expected)).toBe(true);
  });
});

describe('wrapKeyMaterial', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = rsa.publicKey.export({ type: 'spki', format: 'der' });
  const material = Buffer.from('30818402010030100607', 'hex');
  const decrypt = (data: Buffer, oaepHash: string) =>
    privateDecrypt({ key: rsa.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data);

  it.each(['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1'] as const)('%s: RSA-OAEP of the material itself', (algorithm) => {
    const wrapped = wrapKeyMaterial(material, spki, algorithm);
    expect(wrapped).toHaveLength(256);
    expect(decrypt(wrapped, algorithm.endsWith('256') ? 'sha256' : 'sha1').equals(material)).toBe(true);
  });

  it.each(['RSA_AES_KEY_WRAP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1'] as const)(
    '%s: RSA-OAEP of a fresh AES-256 key, then the material wrapped under it (RFC 5649)',
    (algorithm) => {
      const wrapped = wrapKeyMaterial(material, spki, algorithm);
      const aesKey = decrypt(wrapped.subarray(0, 256), algorithm.endsWith('256') ? 'sha256' : 'sha1');
      const decipher = createDecipheriv('id-aes256-wrap-pad', aesKey, hex('a65959a6'));
      expect(aesKey).toHaveLength(32);
      expect(Buffer.concat([decipher.update(wrapped.subarray(256)), decipher.final()]).equals(material)).toBe(true);
    },
  );

  it('uses a new AES key every time', () => {
    const first = wrapKeyMaterial(material, spki, 'RSA_AES_KEY_WRAP_SHA_256');
    const second = wrapKeyMaterial(material, spki, 'RSA_AES_KEY_WRAP_SHA_256');
    expect(first.subarray(256).equals(second.subarray(256))).toBe(false);
  });

  it('offers exactly the four wrapping algorithms KMS accepts for ECC key material', () => {
    expect([...WRAPPING_ALGORITHMS].sort()).toEqual(['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256']);
  });

  it('refuses a wrapping key that is not RSA of 2048 bits or more', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' });
    expect(() => wrapKeyMaterial(material, ec, 'RSAES_OAEP_SHA_256')).toThrow(WrappingKeyError);
    expect(() => wrapKeyMaterial(material, Buffer.from('junk'), 'RSAES_OAEP_SHA_256')).toThrow(/not a DER SubjectPublicKeyInfo/);
  });
});
