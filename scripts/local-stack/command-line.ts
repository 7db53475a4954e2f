import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PortInUseError } from '../local-chain';
import { refuseSecretArguments } from '../import-key/secret-arguments';

/** A command-line mistake in npm run kms / npm run local: printed with the usage, exit 2. */
export class LocalUsageError extends Error {
  override readonly name = 'LocalUsageError';
}

/** Parses argv strictly (values never echoed when they look like secrets); --help is the caller's. */
export function parseLocalArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    refuseSecretArguments(argv);
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (cause) {
    throw new LocalUsageError((cause as Error).message);
  }
}

/** A TCP port from the command line: 0 (a free one) to 65535. */
export function parsePort(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new LocalUsageError(`${flag} must be a port number from 0 to 65535 (0 picks a free port), not "${value.slice(0, 40)}"`);
  }
  return Number(value);
}

/**
 * Runs a command body: usage errors print the usage (exit 2), a port in use or any other failure prints one
 * line (exit 1), never a stack trace.
 */
export async function runLocalCommand(usage: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof LocalUsageError) {
      process.stderr.write(`error: ${error.message}\n\n${usage}`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`error: ${describeStartError(error)}\n`);
    process.exitCode = 1;
  }
}

function describeStartError(error: unknown): string {
  if (error instanceof PortInUseError) return error.message;
  const { code, port, message } = (error ?? {}) as { code?: string; port?: number; message?: string };
  if (code === 'EADDRINUSE') {
    return `port ${port ?? ''} is already in use, perhaps by another npm run local or npm run kms: stop that, or choose another port (0 picks a free one)`;
  }
  if (code === 'EACCES') return `cannot listen on port ${port ?? ''} (${message}): ports below 1024 need privileges; choose another`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
