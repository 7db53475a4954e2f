import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SignerError } from '../../lambdas/signer/errors';
import { refuseSecretArguments, secretKind } from './secret-arguments';

/** The options of a command, in node:util parseArgs form. */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses argv strictly. Positional arguments are refused: keys and mnemonics are never taken from the
 * command line (shell history, process list), and a stray positional is most likely one.
 */
export function parseCommandLine<T extends OptionSpec>(argv: string[], options: T): ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>>['values'] {
  refuseSecretArguments(argv); // before parseArgs, whose messages may quote a value
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (cause) {
    // node's message names the option, never its value.
    // Read the message structurally: an Error from another realm (a test VM) fails instanceof Error.
    throw new UsageError((cause as { message?: string } | undefined)?.message ?? 'invalid arguments', cause);
  }
  if (parsed.positionals.length > 0) {
    const secretLooking = parsed.positionals.some((value) => secretKind(value) !== undefined || value.trim().split(/\s+/).length >= 12);
    throw new UsageError(
      secretLooking
        ? 'A private key or mnemonic was given on the command line and was NOT used. It is now in your shell history and ' +
            'was visible in the process list: treat it as exposed. Pass keys with --key-file FILE or --key-file - (stdin).'
        : `Unexpected argument(s): ${parsed.positionals.length} positional value(s). Every input is an --option; keys come from files or stdin.`,
    );
  }
  return parsed.values;
}

/** The command line is wrong: the message says what to change. */
export class UsageError extends SignerError {
  override readonly name = 'UsageError';
  constructor(message: string, cause?: unknown) {
    super(message.endsWith('.') ? `${message} Run with --help for usage.` : `${message}. Run with --help for usage.`, { cause });
  }
}
