import { Wallet } from 'ethers';
import fc from 'fast-check';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import {
  EncryptedKeyError,
  InvalidMnemonicError,
  MalformedKeyError,
  parseKeyFile,
  parseMnemonic,
  UnsupportedKeyFormatError,
  WrongCurveError,
} from '../../../scripts/import-key/key-input';
import { encodePem, decodePem } from '../../../scripts/import-key/pem';
import { encodeSec1 } from '../../../scripts/import-key/pkcs8';
import { privateKeyFromScalar, ScalarOutOfRangeError } from '../../../scripts/import-key/private-key';
import { openssl, opensslSecp256k1Pem } from './openssl';

const DEV = KNOWN_KEYS[0];
const MNEMONIC = 'test test test test test test test test test test test junk';
const text = (value: string) => Buffer.from(value);

/** The address ethers' Wallet gives for the private key that openssl reads from a PEM (independent path). */
function opensslAddress(pem: Buffer): string {
  const der = openssl(['ec', '-outform', 'der'], pem);
  // SEC1 DER from openssl: 30 74 02 01 01 04 20 <32-byte scalar> …
  return new Wallet(`0x${der.subarray(7, 39).toString('hex')}`).address;
}

describe('parseKeyFile', () => {
  describe('64 hex digits, as MetaMask exports a private key', () => {
    it.each(KNOWN_KEYS)('gives $address for $privateKey', ({ privateKey, address }) => {
      expect(parseKeyFile(text(privateKey)).key.address).toBe(address);
    });

    it.each([
      ['without 0x', DEV.privateKey.slice(2)],
      ['in upper case', `0X${DEV.privateKey.slice(2).toUpperCase()}`],
      ['with a trailing newline', `${DEV.privateKey}\n`],
      ['with surrounding spaces and CRLF', `  ${DEV.privateKey}\r\n`],
    ])('accepts it %s', (_, input) => {
      expect(parseKeyFile(text(input))).toMatchObject({ format: 'hex', key: { address: DEV.address } });
    });

    it.each([
      [63, 'it has 63 hex digits; a private key has 64'],
      [40, 'that is the length of an address'],
      [130, 'that is the length of an uncompressed public key'],
    ])('rejects %i hex digits, saying why', (digits, message) => {
      expect(() => parseKeyFile(text('a'.repeat(digits)))).toThrow(UnsupportedKeyFormatError);
      expect(() => parseKeyFile(text('a'.repeat(digits)))).toThrow(message);
    });

    it('rejects a mnemonic given as a key file, pointing at --mnemonic-file', () => {
      expect(() => parseKeyFile(text(MNEMONIC))).toThrow(/--mnemonic-file/);
    });

    it('rejects the scalars 0 and n (outside [1, n-1])', () => {
      expect(() => parseKeyFile(text('00'.repeat(32)))).toThrow(ScalarOutOfRangeError);
      expect(() => parseKeyFile(text('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'))).toThrow(/not less than the curve order/);
    });

    it('accepts n-1, the largest private key', () => {
      const nMinus1 = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140';
      expect(parseKeyFile(text(nMinus1)).key.address).toBe(new Wallet(`0x${nMinus1}`).address);
    });

    it('rejects an empty file', () => {
      expect(() => parseKeyFile(text(' \n'))).toThrow('the input is empty');
    });
  });

  describe('OpenSSL PEM and DER', () => {
    const pem = opensslSecp256k1Pem();
    const expected = opensslAddress(pem);

    it('reads `openssl ecparam -genkey` output (EC PARAMETERS block + EC PRIVATE KEY)', () => {
      expect(pem.toString()).toContain('-----BEGIN EC PARAMETERS-----');
      expect(parseKeyFile(pem)).toMatchObject({ format: 'sec1-pem', key: { address: expected } });
    });

    it('reads an EC PRIVATE KEY without the parameters block (-noout)', () => {
      const noParams = openssl(['ec'], pem);
      expect(noParams.toString()).not.toContain('EC PARAMETERS');
      expect(parseKeyFile(noParams).key.address).toBe(expected);
    });

    it('reads PKCS#8 PEM and DER, and SEC1 DER', () => {
      expect(parseKeyFile(openssl(['pkcs8', '-topk8', '-nocrypt'], pem))).toMatchObject({ format: 'pkcs8-pem', key: { address: expected } });
      expect(parseKeyFile(openssl(['pkcs8', '-topk8', '-nocrypt', '-outform', 'der'], pem))).toMatchObject({ format: 'pkcs8-der', key: { address: expected } });
      expect(parseKeyFile(openssl(['ec', '-outform', 'der'], pem))).toMatchObject({ format: 'sec1-der', key: { address: expected } });
    });

    it('reads a key without the public key, when the curve is named', () => {
      expect(parseKeyFile(openssl(['ec', '-no_public'], pem)).key.address).toBe(expected);
    });

    it('reads a key whose public key is stored compressed', () => {
      expect(parseKeyFile(openssl(['ec', '-conv_form', 'compressed'], pem)).key.address).toBe(expected);
    });

    it('gives the dev key 0xac09…ff80 the address 0xf39F…2266 from every encoding', () => {
      const sec1 = encodeSec1(privateKeyFromScalar(Buffer.from(DEV.privateKey.slice(2), 'hex')));
      const sec1Pem = encodePem('EC PRIVATE KEY', sec1);
      for (const input of [sec1Pem, openssl(['pkcs8', '-topk8', '-nocrypt'], sec1Pem), openssl(['pkcs8', '-topk8', '-nocrypt', '-outform', 'der'], sec1Pem), sec1]) {
        expect(parseKeyFile(Buffer.from(input)).key.address).toBe(DEV.address);
      }
    });
  });

  describe('keys it must refuse', () => {
    it('names the curve of a NIST P-256 key', () => {
      const p256 = openssl(['ecparam', '-name', 'prime256v1', '-genkey']);
      expect(() => parseKeyFile(p256)).toThrow(WrongCurveError);
      expect(() => parseKeyFile(p256)).toThrow(/NIST P-256/);
      expect(() => parseKeyFile(openssl(['pkcs8', '-topk8', '-nocrypt'], p256))).toThrow(/NIST P-256/);
    });

    it('refuses RSA and Ed25519 keys as not elliptic-curve secp256k1', () => {
      expect(() => parseKeyFile(openssl(['genpkey', '-algorithm', 'ed25519']))).toThrow(/Ed25519 key, not an elliptic-curve key/);
      expect(() => parseKeyFile(openssl(['genpkey', '-algorithm', 'rsa', '-pkeyopt', 'rsa_keygen_bits:1024']))).toThrow(/RSA key/);
    });

    it('asks for a named curve when the key spells out explicit parameters', () => {
      const explicit = openssl(['ec', '-param_enc', 'explicit'], opensslSecp256k1Pem());
      expect(() => parseKeyFile(explicit)).toThrow(/explicit curve parameters.*-param_enc named_curve/);
    });

    it('refuses passphrase-encrypted keys (PKCS#8 and legacy PEM) and says how to pipe them in', () => {
      const pem = opensslSecp256k1Pem();
      const pkcs8 = openssl(['pkcs8', '-topk8', '-passout', 'pass:secret'], pem);
      const legacy = openssl(['ec', '-aes256', '-passout', 'pass:secret'], pem);
      expect(() => parseKeyFile(pkcs8)).toThrow(EncryptedKeyError);
      expect(() => parseKeyFile(legacy)).toThrow(EncryptedKeyError);
      expect(() => parseKeyFile(pkcs8)).toThrow(/--key-file -/);
    });

    it('says a public key is not enough', () => {
      expect(() => parseKeyFile(openssl(['ec', '-pubout'], opensslSecp256k1Pem()))).toThrow(/only a public key/);
    });

    it('detects a stored public key that does not belong to the private key (a corrupted file)', () => {
      const der = openssl(['ec', '-outform', 'der'], opensslSecp256k1Pem());
      der.writeUInt8((der.at(-1) ?? 0) ^ 0x01, der.length - 1);
      expect(() => parseKeyFile(der)).toThrow(MalformedKeyError);
      expect(() => parseKeyFile(der)).toThrow(/does not belong to its private key/);
    });

    it('refuses truncated DER', () => {
      const der = openssl(['pkcs8', '-topk8', '-nocrypt', '-outform', 'der'], opensslSecp256k1Pem());
      expect(() => parseKeyFile(der.subarray(0, 100))).toThrow(MalformedKeyError);
    });

    it('refuses a SEC1 DER key that names no curve and stores no public key', () => {
      const bare = openssl(['ec', '-outform', 'der'], opensslSecp256k1Pem());
      // Keep only version and private key: 30 25 02 01 01 04 20 <32>.
      const stripped = Buffer.concat([Buffer.from('30250201010420', 'hex'), bare.subarray(7, 39)]);
      expect(() => parseKeyFile(stripped)).toThrow(/does not say which curve/);
    });

    it('never puts key material in an error message', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 0, max: 3 }), (bytes, mutation) => {
          const hex = Buffer.from(bytes).toString('hex');
          const inputs = [hex.slice(1), `${hex}z`, `${hex} ${hex}`, `0x${hex}00`];
          try {
            parseKeyFile(Buffer.from(inputs[mutation] ?? hex));
          } catch (error) {
            expect((error as Error).message).not.toContain(hex.slice(1, 20));
          }
        }),
        { numRuns: 50 },
      );
    });
  });
});

describe('parseMnemonic', () => {
  it("derives 0xf39F…2266 from the test mnemonic at MetaMask's first account, m/44'/60'/0'/0/0", () => {
    expect(parseMnemonic(text(MNEMONIC))).toMatchObject({ format: 'mnemonic', path: "m/44'/60'/0'/0/0", key: { address: DEV.address } });
  });

  it("derives MetaMask's second account at m/44'/60'/0'/0/1", () => {
    expect(parseMnemonic(text(MNEMONIC), "m/44'/60'/0'/0/1").key.address).toBe(KNOWN_KEYS[1].address);
  });

  it('tolerates extra whitespace, newlines and capitals', () => {
    expect(parseMnemonic(text(`  ${MNEMONIC.toUpperCase().replace(/ /g, '  ')}\n`)).key.address).toBe(DEV.address);
  });

  it('names the position of an unknown word, not the word', () => {
    const error = (() => {
      try {
        parseMnemonic(text(MNEMONIC.replace('junk', 'junq')));
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error).toBeInstanceOf(InvalidMnemonicError);
    expect(error?.message).toMatch(/word 12 is not in the BIP-39 English word list/);
    expect(error?.message).not.toContain('junq');
  });

  it('rejects a wrong checksum and a wrong word count', () => {
    expect(() => parseMnemonic(text(MNEMONIC.replace('junk', 'test')))).toThrow(/checksum/);
    expect(() => parseMnemonic(text('test test test'))).toThrow(/it has 3 words/);
  });
});

describe('decodePem', () => {
  it('decodes base64 exactly as node does, for any bytes and line layout', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const [block] = decodePem(Buffer.from(encodePem('TEST', bytes)));
        expect(block?.der.equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });
});
