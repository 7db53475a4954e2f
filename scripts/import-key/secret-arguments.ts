import { LangEn } from 'ethers';
import { SignerError } from '../../lambdas/signer/errors';
import { npmExposure, type NpmExposure } from './npm-logs';

/** What a command-line value looks like, when it looks like a secret. */
export type SecretKind = 'a private key (hex)' | 'a PEM key' | 'a BIP-39 mnemonic';

/**
 * Says whether a command-line value looks like key material: 62-66 hex digits (a private key, perhaps
 * mistyped), a PEM block, or three or more words that are nearly all BIP-39 words. A file name almost
 * never does; if one does, refusing it costs a rename, while echoing a key costs the funds.
 */
export function secretKind(value: string): SecretKind | undefined {
  const text = value.trim();
  if (/^(0x)?[0-9a-fA-F]{62,66}$/i.test(text)) return 'a private key (hex)';
  if (/-----BEGIN|PRIVATE KEY-----/.test(text)) return 'a PEM key';
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length >= 3) {
    const wordlist = LangEn.wordlist();
    const known = words.filter((word) => wordlist.getWordIndex(word) >= 0).length;
    if (known / words.length >= 0.75) return 'a BIP-39 mnemonic';
  }
  return undefined;
}

/**
 * Refuses a command line that holds a value that looks like a key or mnemonic, before anything reads or
 * echoes it (an option's value, `--option=value`, or a stray positional). Call it on the raw argv.
 */
export function refuseSecretArguments(argv: readonly string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const [option, value] = equals > 0 ? [arg.slice(0, equals), arg.slice(equals + 1)] : [argv[i - 1]?.startsWith('--') ? argv[i - 1] : undefined, arg];
    const kind = secretKind(value);
    if (kind) throw new SecretArgumentError(kind, option, npmExposure(value));
  }
}

/**
 * A key or mnemonic was given on the command line: it was not used, not echoed, and must be treated as exposed.
 * Started by npm, the message says what npm did with it (banner, debug log) and names the logs that hold it.
 */
export class SecretArgumentError extends SignerError {
  override readonly name = 'SecretArgumentError';
  constructor(readonly kind: SecretKind, option: string | undefined, readonly npm?: NpmExposure) {
    super(
      `${option ? `The value given to ${option}` : 'A command-line argument'} looks like ${kind}, not a file name. It was NOT used and is ` +
        'not shown here. Treat it as EXPOSED: a command line is kept in your shell history (~/.bash_history) and is visible to ' +
        'other users in the process list while the command runs. ' +
        (npm ? npmWarning(npm) : '') +
        'If it controls funds, move them to a new key; then remove it from those places (history -c' +
        (npm && npm.logs.length > 0 ? `; ${removeCommand(npm.logs)}` : '') +
        '). Pass keys safely: in a file only you can read (chmod 600 FILE), given as ' +
        '--key-file FILE (or --mnemonic-file FILE), or on stdin with --key-file - (or --mnemonic -), which at a terminal ' +
        'prompts and reads without echo.',
    );
  }
}

function npmWarning({ logsDir, logs, banner }: NpmExposure): string {
  const logged =
    logs.length > 0
      ? `it is in npm's debug log${logs.length > 1 ? 's' : ''} ${logs.join(', ')} (mode 644: readable by other users)`
      : `npm records its command line in debug logs in ${logsDir} (none there holds it now: check logs-dir in your npm config)`;
  return banner
    ? 'You ran it through npm, which had already shown it before this command started: npm printed it in its "> tsx scripts/…" ' +
        `banner (in your terminal's scrollback unless you used npm run --silent), and ${logged}. `
    : `You ran it through npx (npm exec), which had already logged it before this command started: ${logged}. `;
}

// Shell-quoted, so that a copied command removes exactly those files.
function removeCommand(files: readonly string[]): string {
  return `rm -- ${files.map((file) => `'${file.replace(/'/g, "'\\''")}'`).join(' ')}`;
}
