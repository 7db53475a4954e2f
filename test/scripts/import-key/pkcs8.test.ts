import { createPrivateKey } from 'node:crypto';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import { parseKeyFile } from '../../../scripts/import-key/key-input';
import { encodePem } from '../../../scripts/import-key/pem';
import { encodePkcs8, encodeSec1 } from '../../../scripts/import-key/pkcs8';
import { privateKeyFromScalar } from '../../../scripts/import-key/private-key';
import { openssl, opensslSecp256k1Pem } from './openssl';

const keyOf = (hex: string) => privateKeyFromScalar(Buffer.from(hex.slice(2), 'hex'));

describe('encodePkcs8', () => {
  it('is byte for byte `openssl pkcs8 -topk8 -outform der -nocrypt` for keys openssl generated', () => {
    for (let i = 0; i < 5; i++) {
      const pem = opensslSecp256k1Pem();
      const expected = openssl(['pkcs8', '-topk8', '-outform', 'der', '-nocrypt'], pem);
      expect(encodePkcs8(parseKeyFile(pem).key).toString('hex')).toBe(expected.toString('hex'));
    }
  });

  it.each(KNOWN_KEYS)('is byte for byte what openssl writes for $privateKey (including the smallest key, 1)', ({ privateKey }) => {
    const key = keyOf(privateKey);
    const expected = openssl(['pkcs8', '-topk8', '-outform', 'der', '-nocrypt'], encodePem('EC PRIVATE KEY', encodeSec1(key)));
    expect(encodePkcs8(key).equals(expected)).toBe(true);
  });

  it('is 135 bytes that OpenSSL (node crypto) reads back as the same secp256k1 scalar', () => {
    const key = keyOf(KNOWN_KEYS[0].privateKey);
    const der = encodePkcs8(key);
    const jwk = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    expect(der).toHaveLength(135);
    expect(jwk.crv).toBe('secp256k1');
    expect(`0x${Buffer.from(jwk.d as string, 'base64url').toString('hex')}`).toBe(KNOWN_KEYS[0].privateKey);
  });
});

describe('encodeSec1', () => {
  it('is byte for byte `openssl ec -outform der` (named curve and public key)', () => {
    const pem = opensslSecp256k1Pem();
    expect(encodeSec1(parseKeyFile(pem).key).equals(openssl(['ec', '-outform', 'der'], pem))).toBe(true);
  });
});
