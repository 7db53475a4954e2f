import asn1 from 'asn1.js';
import { getBytes, HDNodeWallet, LangEn, Mnemonic } from 'ethers';
import { SignerError } from '../../lambdas/signer/errors';
import { decodePem, InvalidPemError, looksLikePem, type PemBlock } from './pem';
import { decodeEcPrivateKey, ID_EC_PUBLIC_KEY_OID_DER, PrivateKeyInfoAsn1, SECP256K1_OID_DER } from './pkcs8';
import { privateKeyFromScalar, type PrivateKey } from './private-key';

/** Every way a key can be given to the tools. */
export type KeyFormat = 'sec1-pem' | 'pkcs8-pem' | 'sec1-der' | 'pkcs8-der' | 'hex' | 'mnemonic';

/** What each format is, in the words a user would recognise. */
export const KEY_FORMAT_DESCRIPTIONS: Record<KeyFormat, string> = {
  'sec1-pem': 'SEC1 PEM ("EC PRIVATE KEY", as openssl ecparam -genkey writes it)',
  'pkcs8-pem': 'PKCS#8 PEM ("PRIVATE KEY")',
  'sec1-der': 'SEC1 DER (ECPrivateKey)',
  'pkcs8-der': 'PKCS#8 DER (PrivateKeyInfo)',
  hex: '64 hex digits (MetaMask "Export private key")',
  mnemonic: 'BIP-39 mnemonic',
};

/** MetaMask's first account: BIP-44, Ethereum coin type 60, account 0, external chain, index 0. */
export const METAMASK_FIRST_ACCOUNT_PATH = "m/44'/60'/0'/0/0";

/** How an address is labelled: as MetaMask shows it only when it is what MetaMask would show. */
export function addressLabel(input: Pick<KeyInput, 'format' | 'path'>): string {
  if (input.path === undefined) return 'Address (as MetaMask shows it)';
  const account = /^m\/44'\/60'\/0'\/0\/(\d+)$/.exec(input.path);
  if (account) return `Address (as MetaMask shows account ${Number(account[1]) + 1})`;
  return `Address (at ${input.path}, a path MetaMask does not use: its account N is m/44'/60'/0'/0/N-1)`;
}

/** A parsed key and the format it was read from. */
export interface KeyInput {
  readonly key: PrivateKey;
  readonly format: KeyFormat;
  /** The derivation path, for a mnemonic. */
  readonly path?: string;
}

const KNOWN_OIDS: Record<string, string> = {
  '1.3.132.0.10': 'secp256k1',
  '1.2.840.10045.3.1.7': 'NIST P-256 (prime256v1)',
  '1.3.132.0.34': 'NIST P-384',
  '1.3.132.0.35': 'NIST P-521',
  '1.2.840.113549.1.1.1': 'RSA',
  '1.3.101.112': 'Ed25519',
  '1.3.101.110': 'X25519',
};

const Oid = asn1.define<number[]>('Oid', function () {
  this.objid();
});

/**
 * Parses a key file (or stdin) in any supported format into a checked secp256k1 private key. The input
 * bytes are not modified; the caller zeroes them.
 */
export function parseKeyFile(bytes: Uint8Array): KeyInput {
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = trimWhitespace(input);
  if (text.length === 0) throw new UnsupportedKeyFormatError('the input is empty');
  // Hex first: "0x…" and hex starting with "0" begin with the byte 0x30, like DER, but DER is never all hex digits.
  if (withoutHexPrefix(text).every(isHexDigit)) return parseHex(text);
  if (looksLikePem(text)) return parsePem(text);
  if (input[0] === 0x30) return parseDer(input);
  return parseHex(text);
}

/** Derives the private key at `path` from a BIP-39 mnemonic (English word list, no passphrase, as MetaMask). */
export function parseMnemonic(bytes: Uint8Array, path: string = METAMASK_FIRST_ACCOUNT_PATH): KeyInput {
  // Strings cannot be zeroed; the phrase exists as one only for as long as ethers needs it.
  const text = Buffer.from(bytes).toString('utf8').trim();
  if (/^(0x)?[0-9a-fA-F]{64}$/.test(text) || text.includes('-----BEGIN')) {
    throw new InvalidMnemonicError('it looks like a private key, not a mnemonic: use --key-file FILE (or --key-file - for stdin) instead');
  }
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (![12, 15, 18, 21, 24].includes(words.length)) {
    throw new InvalidMnemonicError(`it has ${words.length} words; a BIP-39 mnemonic has 12, 15, 18, 21 or 24`);
  }
  const wordlist = LangEn.wordlist();
  const unknown = words.findIndex((word) => wordlist.getWordIndex(word) < 0);
  if (unknown >= 0) {
    // Name the position, never the word: the words are the secret.
    throw new InvalidMnemonicError(`word ${unknown + 1} is not in the BIP-39 English word list`);
  }
  let mnemonic: Mnemonic;
  try {
    mnemonic = Mnemonic.fromPhrase(words.join(' '));
  } catch (cause) {
    throw new InvalidMnemonicError('its checksum is wrong (a word is misspelt, missing or out of order)', cause);
  }
  const wallet = HDNodeWallet.fromMnemonic(mnemonic, path);
  const scalar = Buffer.from(getBytes(wallet.privateKey));
  try {
    return { key: privateKeyFromScalar(scalar), format: 'mnemonic', path };
  } finally {
    scalar.fill(0);
  }
}

function parsePem(text: Buffer): KeyInput {
  let blocks: PemBlock[];
  try {
    blocks = decodePem(text);
  } catch (cause) {
    if (cause instanceof InvalidPemError && /encrypted/.test(cause.message)) throw new EncryptedKeyError();
    throw new MalformedKeyError('PEM', cause instanceof Error ? cause.message : 'it cannot be decoded', cause);
  }
  try {
    const labels = blocks.map((block) => block.label);
    if (labels.includes('ENCRYPTED PRIVATE KEY')) throw new EncryptedKeyError();
    const keys = blocks.filter((block) => block.label === 'EC PRIVATE KEY' || block.label === 'PRIVATE KEY');
    if (keys.length === 0) {
      const found = labels.map((label) => `"${label}"`).join(', ');
      throw new UnsupportedKeyFormatError(
        labels.some((label) => label.includes('PUBLIC KEY'))
          ? `the PEM holds only a public key (${found}); the private key is needed`
          : `the PEM holds no "EC PRIVATE KEY" or "PRIVATE KEY" block (found ${found})`,
      );
    }
    if (keys.length > 1) throw new UnsupportedKeyFormatError(`the PEM holds ${keys.length} private keys; put one key in the file`);
    const [block] = keys as [PemBlock];
    if (block.label === 'PRIVATE KEY') return { key: decodePkcs8(block.der, 'PKCS#8 PEM'), format: 'pkcs8-pem' };
    // openssl ecparam -genkey writes an "EC PARAMETERS" block before the key unless told -noout.
    const parameters = blocks.find((candidate) => candidate.label === 'EC PARAMETERS');
    if (parameters) checkCurve(parameters.der, 'the "EC PARAMETERS" block');
    return { key: decodeSec1(parameters ? SECP256K1_OID_DER : undefined, block.der, 'SEC1 PEM'), format: 'sec1-pem' };
  } finally {
    for (const block of blocks) block.der.fill(0);
  }
}

function parseDer(der: Buffer): KeyInput {
  // PrivateKeyInfo is SEQUENCE { INTEGER, SEQUENCE, … }; ECPrivateKey is SEQUENCE { INTEGER, OCTET STRING, … }.
  const tag = secondElementTag(der);
  if (tag === 0x30) return { key: decodePkcs8(der, 'PKCS#8 DER'), format: 'pkcs8-der' };
  if (tag === 0x04) return { key: decodeSec1(undefined, der, 'SEC1 DER'), format: 'sec1-der' };
  throw new UnsupportedKeyFormatError('the binary input is neither PKCS#8 nor SEC1 DER');
}

function parseHex(text: Buffer): KeyInput {
  if (text[0] === 0x7b) {
    throw new UnsupportedKeyFormatError('it looks like a JSON keystore; export the private key from the wallet instead');
  }
  const digits = withoutHexPrefix(text);
  if (digits.some((byte) => byte === 0x20) && digits.every((byte) => (byte >= 0x61 && byte <= 0x7a) || byte === 0x20 || byte === 0x0a)) {
    throw new UnsupportedKeyFormatError('it looks like a mnemonic; pass it with --mnemonic-file FILE (or --mnemonic - for stdin)');
  }
  if (!digits.every(isHexDigit)) {
    throw new UnsupportedKeyFormatError(
      'it is not PEM, DER or a hex private key (the text has characters other than hex digits)',
    );
  }
  if (digits.length !== 64) {
    const what: Record<number, string> = {
      40: ' (that is the length of an address, not a private key)',
      66: ' (that is the length of a compressed public key)',
      128: ' (that is the length of a public key)',
      130: ' (that is the length of an uncompressed public key)',
    };
    throw new UnsupportedKeyFormatError(`it has ${digits.length} hex digits; a private key has 64${what[digits.length] ?? ''}`);
  }
  const scalar = Buffer.alloc(32);
  try {
    for (let i = 0; i < 32; i++) scalar[i] = (hexValue(digits[2 * i] ?? 0) << 4) | hexValue(digits[2 * i + 1] ?? 0);
    return { key: privateKeyFromScalar(scalar), format: 'hex' };
  } finally {
    scalar.fill(0);
  }
}

/** Decodes PrivateKeyInfo, checking the algorithm is id-ecPublicKey on secp256k1. */
function decodePkcs8(der: Buffer, format: string): PrivateKey {
  let info;
  try {
    info = PrivateKeyInfoAsn1.decode(der, 'der');
  } catch (cause) {
    throw new MalformedKeyError(format, 'it is not a DER PrivateKeyInfo', cause);
  }
  const algorithm = info.algorithm.id.join('.');
  if (algorithm !== '1.2.840.10045.2.1') {
    throw new WrongCurveError(`it is an ${KNOWN_OIDS[algorithm] ?? algorithm} key, not an elliptic-curve key`);
  }
  checkCurve(info.algorithm.parameters, 'the PKCS#8 algorithm parameters');
  return decodeSec1(SECP256K1_OID_DER, info.privateKey, format);
}

/**
 * Decodes an ECPrivateKey. The curve must be named secp256k1 in the key, or by its container
 * (`outerCurve`), or be proven by the stored public key matching the scalar on secp256k1.
 */
function decodeSec1(outerCurve: Buffer | undefined, der: Buffer, format: string): PrivateKey {
  let fields;
  try {
    fields = decodeEcPrivateKey(der);
  } catch (cause) {
    throw new MalformedKeyError(format, `it is not a DER ECPrivateKey (RFC 5915): ${(cause as Error).message}`, cause);
  }
  if (fields.version !== 1) throw new MalformedKeyError(format, `its ECPrivateKey version is ${fields.version}, not 1`);
  if (fields.parameters) checkCurve(fields.parameters, 'the key');
  const key = privateKeyFromScalar(fields.privateKey);
  const stored = fields.publicKey?.data;
  if (stored) {
    const derived = Buffer.from(getBytes(key.publicKey));
    // A stored point that differs is a corrupted file, or a scalar read on the wrong curve.
    const matches = stored.length === 65 ? stored.equals(derived) : stored.length === 33 && stored.equals(compress(derived));
    if (!matches) {
      key.scalar.fill(0);
      throw new MalformedKeyError(format, 'the public key stored in it does not belong to its private key on secp256k1 (a corrupted file, or a key on another curve)');
    }
  } else if (!fields.parameters && !outerCurve) {
    key.scalar.fill(0);
    throw new WrongCurveError('it does not say which curve it is on (no named curve and no public key); re-export it with: openssl ec -param_enc named_curve');
  }
  return key;
}

/** Checks raw DER ECParameters name secp256k1, naming the curve it does name otherwise. */
function checkCurve(parameters: Buffer | undefined, where: string): void {
  if (parameters?.equals(SECP256K1_OID_DER)) return;
  if (!parameters) throw new WrongCurveError(`${where} names no curve`);
  if (parameters[0] === 0x30) {
    throw new WrongCurveError(`${where} spells out explicit curve parameters; re-export it with a named curve: openssl ec -param_enc named_curve`);
  }
  if (parameters.equals(ID_EC_PUBLIC_KEY_OID_DER)) throw new WrongCurveError(`${where} names no curve`);
  let oid = 'an unknown curve';
  try {
    const dotted = Oid.decode(parameters, 'der').join('.');
    oid = KNOWN_OIDS[dotted] ?? dotted;
  } catch {
    // keep the generic name: the parameters are not an OID at all
  }
  throw new WrongCurveError(`${where} is on ${oid}`);
}

function secondElementTag(der: Buffer): number | undefined {
  // Skip the outer SEQUENCE header (short or long form length), then the first element (the version).
  let at = 1;
  const length = der[at] ?? 0;
  at += length & 0x80 ? 1 + (length & 0x7f) : 1;
  if (der[at] !== 0x02) return undefined;
  at += 2 + (der[at + 1] ?? 0);
  return der[at];
}

function compress(uncompressed: Buffer): Buffer {
  const prefix = (uncompressed[64] ?? 0) & 1 ? 0x03 : 0x02;
  return Buffer.concat([Buffer.of(prefix), uncompressed.subarray(1, 33)]);
}

function trimWhitespace(bytes: Buffer): Buffer {
  const isSpace = (byte: number | undefined) => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
  let start = 0;
  let end = bytes.length;
  while (start < end && isSpace(bytes[start])) start++;
  while (end > start && isSpace(bytes[end - 1])) end--;
  return bytes.subarray(start, end);
}

function withoutHexPrefix(text: Buffer): Buffer {
  return text[0] === 0x30 && (text[1] === 0x78 || text[1] === 0x58) ? text.subarray(2) : text;
}

function isHexDigit(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46);
}

function hexValue(byte: number): number {
  if (byte <= 0x39) return byte - 0x30;
  return (byte | 0x20) - 0x61 + 10;
}

/** The key input cannot be used; subclasses name the kind of problem. */
export class KeyInputError extends SignerError {
  override readonly name: string = 'KeyInputError';
}

/** The input is in no format the tools read. */
export class UnsupportedKeyFormatError extends KeyInputError {
  override readonly name = 'UnsupportedKeyFormatError';
  constructor(problem: string) {
    super(
      `The key input is not a supported private key: ${problem}. Supported: PEM from openssl ecparam -name secp256k1 -genkey, ` +
        'PKCS#8 PEM or DER, SEC1 DER, 64 hex digits as MetaMask exports them, or a BIP-39 mnemonic with --mnemonic-file.',
    );
  }
}

/** The key is not a secp256k1 key. */
export class WrongCurveError extends KeyInputError {
  override readonly name = 'WrongCurveError';
  constructor(problem: string) {
    super(`The key is not a secp256k1 key: ${problem}. Ethereum keys are secp256k1 (openssl ecparam -name secp256k1).`);
  }
}

/** The key's encoding is broken. */
export class MalformedKeyError extends KeyInputError {
  override readonly name = 'MalformedKeyError';
  constructor(format: string, problem: string, cause?: unknown) {
    super(`The ${format} key cannot be read: ${problem}. Check the file is complete and unmodified.`, { cause });
  }
}

/** The key is encrypted with a passphrase. */
export class EncryptedKeyError extends KeyInputError {
  override readonly name = 'EncryptedKeyError';
  constructor() {
    super(
      'The key is encrypted with a passphrase, which these tools do not read. Decrypt it to stdin instead of a file, e.g. ' +
        'openssl pkcs8 -in key.pem -nocrypt -topk8 | npm run import-key -- --key-file - …',
    );
  }
}

/** The mnemonic is not a valid BIP-39 English phrase. */
export class InvalidMnemonicError extends KeyInputError {
  override readonly name = 'InvalidMnemonicError';
  constructor(problem: string, cause?: unknown) {
    super(`The mnemonic is not a valid BIP-39 phrase: ${problem}. Check it against your backup, word by word.`, { cause });
  }
}
