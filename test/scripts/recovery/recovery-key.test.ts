import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { generateRecoveryKeyPair, parseRecoveryPublicKey, RSA_4096_SPKI_BYTES, RSA_4096_SPKI_HEX_CHARS } from '../../../scripts/recovery/recovery-key';
import { InvalidRecoveryKeyError } from '../../../scripts/recovery/errors';

describe('parseRecoveryPublicKey', () => {
  let publicKey: KeyObject;
  let privateKey: KeyObject;
  let der: Buffer;
  beforeAll(async () => {
    ({ publicKey, privateKey } = await generateRecoveryKeyPair());
    der = publicKey.export({ type: 'spki', format: 'der' });
  });

  it('generates RSA-4096 keys whose public DER is 550 bytes and hex 1100 characters', () => {
    expect(der).toHaveLength(RSA_4096_SPKI_BYTES);
    expect(der.toString('hex')).toHaveLength(RSA_4096_SPKI_HEX_CHARS);
  });

  it('reads binary DER', () => {
    expect(parseRecoveryPublicKey(der, 'r.der')).toMatchObject({ format: 'der', der });
  });

  it('reads hex text, with or without a trailing newline or 0x', () => {
    expect(parseRecoveryPublicKey(Buffer.from(`${der.toString('hex')}\n`), 'r.hex')).toMatchObject({ format: 'hex', der });
    expect(parseRecoveryPublicKey(Buffer.from(`0x${der.toString('hex').toUpperCase()}`), 'r.hex').der).toEqual(der);
  });

  it('reads PEM and says it was PEM', () => {
    const pem = publicKey.export({ type: 'spki', format: 'pem' });
    expect(parseRecoveryPublicKey(Buffer.from(pem), 'r.pem')).toMatchObject({ format: 'pem', der });
  });

  const mistake = (content: Buffer, message: RegExp) => {
    expect(() => parseRecoveryPublicKey(content, 'key.file')).toThrow(InvalidRecoveryKeyError);
    expect(() => parseRecoveryPublicKey(content, 'key.file')).toThrow(message);
  };

  it('rejects a PEM private key given by mistake', () => {
    mistake(Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' })), /PRIVATE key; give the recovery PUBLIC key/);
    mistake(Buffer.from(privateKey.export({ type: 'pkcs1', format: 'pem' })), /PRIVATE key/);
  });

  it('rejects a smaller RSA key, naming its size', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });
    mistake(small, /the key is RSA-2048; generate an RSA-4096 key/);
  });

  it('rejects an EC key', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ type: 'spki', format: 'der' });
    mistake(ec, /the key is EC; generate an RSA-4096 key/);
  });

  it('rejects invalid hex characters, naming the first', () => {
    mistake(Buffer.from(der.toString('hex').replace(/^(.{10})./, '$1g')), /invalid hex character "g" at position 10/);
  });

  it('rejects a truncated DER file or hex file, naming the expected size', () => {
    mistake(der.subarray(0, 500), /truncated \(500 bytes, not 550/);
    mistake(Buffer.from(der.toString('hex').slice(0, 1000)), /truncated \(1000 hex characters, not 1100/);
    mistake(Buffer.from(der.toString('hex').slice(0, 1099)), /odd number of digits \(1099\)/);
  });

  it('rejects extra bytes after the key', () => {
    mistake(Buffer.concat([der, Buffer.from([0])]), /size is wrong \(551 bytes, not 550\)/);
  });

  it('rejects binary data that is not DER', () => {
    mistake(Buffer.from([0x01, 0x02, 0x00, 0xff]), /not a DER public key/);
  });
});
