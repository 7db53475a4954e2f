import { SignerError } from '../../lambdas/signer/errors';

// PEM (RFC 7468) read straight from bytes: the base64 body is decoded without ever becoming a JS string,
// because strings cannot be zeroed and the body of a private-key PEM is the key.

/** One PEM block: its label ("EC PRIVATE KEY", "PRIVATE KEY", …) and its decoded DER bytes. */
export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

const BEGIN = Buffer.from('-----BEGIN ');
const END = Buffer.from('-----END ');
const DASHES = Buffer.from('-----');

/** True if the bytes contain a PEM begin line. */
export function looksLikePem(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(BEGIN);
}

/** Decodes every PEM block in the bytes, in order; text outside the blocks (comments) is ignored. */
export function decodePem(bytes: Uint8Array): PemBlock[] {
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blocks: PemBlock[] = [];
  let at = input.indexOf(BEGIN);
  while (at !== -1) {
    const labelStart = at + BEGIN.length;
    const labelEnd = input.indexOf(DASHES, labelStart);
    if (labelEnd === -1) throw new InvalidPemError('a BEGIN line is not closed with "-----"');
    const label = input.subarray(labelStart, labelEnd).toString('latin1');
    const bodyStart = labelEnd + DASHES.length;
    const endLine = Buffer.concat([END, Buffer.from(label, 'latin1'), DASHES]);
    const bodyEnd = input.indexOf(endLine, bodyStart);
    if (bodyEnd === -1) throw new InvalidPemError(`the "${label}" block has no matching "-----END ${label}-----" line`);
    blocks.push({ label, der: decodeBase64(input.subarray(bodyStart, bodyEnd), label) });
    at = input.indexOf(BEGIN, bodyEnd + endLine.length);
  }
  return blocks;
}

/** Encodes DER bytes as a PEM block with 64-character lines, as OpenSSL writes it. */
export function encodePem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SEXTETS = new Int8Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) SEXTETS[ALPHABET.charCodeAt(i)] = i;

/** Decodes a base64 body (whitespace allowed, '=' padding at the end) into a fresh Buffer. */
function decodeBase64(body: Buffer, label: string): Buffer {
  const out = Buffer.alloc(Math.floor((body.length * 3) / 4));
  let length = 0;
  let bits = 0;
  let count = 0;
  let padding = 0;
  for (const byte of body) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    if (byte === 0x3d) {
      padding++;
      continue;
    }
    const sextet = SEXTETS[byte] ?? -1;
    if (sextet < 0 || padding > 0) {
      out.fill(0);
      // PEM headers such as "Proc-Type: 4,ENCRYPTED" (legacy OpenSSL encryption) land here too.
      throw new InvalidPemError(
        body.includes('ENCRYPTED')
          ? `the "${label}" block is encrypted with a passphrase`
          : `the "${label}" block is not valid base64`,
      );
    }
    bits = ((bits << 6) | sextet) & 0xffffff;
    if (++count % 4 === 0) {
      out[length++] = (bits >> 16) & 0xff;
      out[length++] = (bits >> 8) & 0xff;
      out[length++] = bits & 0xff;
      bits = 0;
    }
  }
  const rest = count % 4;
  if (rest === 1 || padding > 2) {
    out.fill(0);
    throw new InvalidPemError(`the "${label}" block is not valid base64 (truncated)`);
  }
  if (rest === 2) out[length++] = (bits >> 4) & 0xff;
  if (rest === 3) {
    out[length++] = (bits >> 10) & 0xff;
    out[length++] = (bits >> 2) & 0xff;
  }
  // Copy out the exact length, then wipe the scratch buffer.
  const der = Buffer.from(out.subarray(0, length));
  out.fill(0);
  return der;
}

/** The text looked like PEM but could not be decoded. */
export class InvalidPemError extends SignerError {
  override readonly name = 'InvalidPemError';
}
