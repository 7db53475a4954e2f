// The command line of the recovery commands (npm run recovery-keypair, npm run recover): where they write, and
// how their arguments are read before anything else happens.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { refuseSecretArguments, SecretArgumentError } from '../import-key/secret-arguments';

/** Where a command writes its output; injected so tests can read it. */
export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** A command's options in node:util parseArgs form, with the --help every command has. */
export type CommandOptions = NonNullable<ParseArgsConfig['options']> & { readonly help: { readonly type: 'boolean' } };
/** What parseArgs reads for `T`. */
export type CommandValues<T extends CommandOptions> = ReturnType<typeof parseArgs<{ args: string[]; options: T }>>['values'];

/**
 * A command's option values; or, when the command is over before it starts, its exit code: 2 after printing what
 * is wrong with the command line and the usage, 0 after printing the usage for --help. A value that looks like a
 * key or mnemonic is refused before parseArgs, whose messages quote values, sees it.
 */
export function parseCommandArgs<T extends CommandOptions>(argv: string[], options: T, usage: string, io: CommandIo): CommandValues<T> | number {
  let values: CommandValues<T>;
  try {
    refuseSecretArguments(argv);
    ({ values } = parseArgs({ args: argv, options }));
  } catch (error) {
    io.stderr(`${error instanceof SecretArgumentError ? `error: ${error.message}` : (error as Error).message}\n\n${usage}\n`);
    return 2;
  }
  // parseArgs's value types do not resolve for a generic T: read the one option every command has by its type.
  if ((values as { readonly help?: boolean }).help) {
    io.stdout(`${usage}\n`);
    return 0;
  }
  return values;
}
