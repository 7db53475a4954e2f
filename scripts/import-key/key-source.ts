import { readFile, stat } from 'node:fs/promises';
import { capped, userPath, type CliIo } from './cli-io';
import { isTerminal, readHiddenInput } from './hidden-input';
import { KeyInputError, METAMASK_FIRST_ACCOUNT_PATH, parseKeyFile, parseMnemonic, type KeyInput } from './key-input';
import { UsageError } from './usage';

/** Where the user said the key is: exactly one of a key file, a mnemonic file, or stdin for either. */
export interface KeySourceOptions {
  readonly 'key-file'?: string;
  readonly 'mnemonic-file'?: string;
  readonly mnemonic?: string;
  readonly path?: string;
}

/** A key file is a few hundred bytes; refusing large inputs keeps a mistaken `--key-file /dev/sda` harmless. */
const MAX_INPUT_BYTES = 64 * 1024;

/** True if the options name a key source. */
export function hasKeySource(options: KeySourceOptions): boolean {
  return options['key-file'] !== undefined || options['mnemonic-file'] !== undefined || options.mnemonic !== undefined;
}

/** Reads and parses the key the options point at; the raw input is zeroed before returning. */
export async function readKeySource(options: KeySourceOptions, io: CliIo): Promise<KeyInput> {
  const sources = [options['key-file'], options['mnemonic-file'], options.mnemonic].filter((value) => value !== undefined);
  if (sources.length !== 1) throw new UsageError('Give exactly one of --key-file FILE, --mnemonic-file FILE, --mnemonic - (stdin)');
  if (options.mnemonic !== undefined && options.mnemonic !== '-') {
    throw new UsageError(
      '--mnemonic takes only "-" (read the phrase from stdin); the value given was NOT used. If it was your phrase, it is ' +
        'now in your shell history: treat it as exposed. Use --mnemonic-file FILE or --mnemonic -',
    );
  }
  const isMnemonic = options['key-file'] === undefined;
  if (!isMnemonic && options.path !== undefined) throw new UsageError('--path applies only to a mnemonic (--mnemonic-file or --mnemonic -)');
  const path = options.path ?? METAMASK_FIRST_ACCOUNT_PATH;
  if (isMnemonic) checkDerivationPath(path);
  const source = (options['key-file'] ?? options['mnemonic-file'] ?? '-') as string;
  const bytes = source === '-' ? await readStdin(io, isMnemonic) : await readKeyFile(userPath(source), io);
  try {
    return isMnemonic ? parseMnemonic(bytes, path) : parseKeyFile(bytes);
  } finally {
    bytes.fill(0);
  }
}

/** Checks a BIP-32 path of the form m/44'/60'/0'/0/0 (hardened with '). */
export function checkDerivationPath(path: string): void {
  const indexes = path.split('/').slice(1);
  const valid =
    /^m(\/\d+'?)*$/.test(path) && indexes.every((index) => Number.parseInt(index, 10) < 2 ** 31) && indexes.length > 0;
  if (!valid) {
    throw new UsageError(`--path "${path}" is not a BIP-32 derivation path like ${METAMASK_FIRST_ACCOUNT_PATH} (MetaMask account N is m/44'/60'/0'/0/N)`);
  }
}

async function readKeyFile(path: string, io: CliIo): Promise<Buffer> {
  let mode: number;
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new KeyFileError(path, 'it is not a regular file');
    if (info.size > MAX_INPUT_BYTES) throw new KeyFileError(path, `it is ${info.size} bytes; a key file is at most a few hundred`);
    mode = info.mode;
    bytes = await readFile(path);
  } catch (cause) {
    if (cause instanceof KeyFileError) throw cause;
    throw new KeyFileError(path, (cause as NodeJS.ErrnoException).code ?? 'it cannot be read', cause);
  }
  if (mode & 0o077) {
    io.stderr.write(`warning: ${capped(path)} can be read by other users (mode ${(mode & 0o777).toString(8)}); protect it with: chmod 600 ${capped(path)}\n`);
  }
  return bytes;
}

async function readStdin(io: CliIo, isMnemonic: boolean): Promise<Buffer> {
  if (isTerminal(io.stdin)) {
    // A person at a terminal: say what to paste, and do not echo it onto the screen (or a screen recording).
    const what = isMnemonic ? 'the mnemonic (12-24 words)' : 'the private key (64 hex digits, or a PEM block)';
    return readHiddenInput(io.stdin, io.stderr, `Paste ${what}; the input is hidden. Then press Enter:\n`, MAX_INPUT_BYTES);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of io.stdin) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
      chunks.push(bytes);
      total += bytes.length;
      if (total > MAX_INPUT_BYTES) throw new KeyFileError('stdin', `it is more than ${MAX_INPUT_BYTES} bytes; a key is at most a few hundred`);
    }
    return Buffer.concat(chunks, total);
  } finally {
    for (const chunk of chunks) chunk.fill(0);
  }
}

/** The key file cannot be read. */
export class KeyFileError extends KeyInputError {
  override readonly name = 'KeyFileError';
  constructor(path: string, problem: string, cause?: unknown) {
    super(`Cannot read the key from ${capped(path)}: ${problem}. Check the path (use - for stdin).`, { cause });
  }
}
