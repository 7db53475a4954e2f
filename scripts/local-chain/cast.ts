import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { foundryBinary } from './binaries';

const run = promisify(execFile);

/** Runs Foundry's cast with the given arguments and extra environment; returns its trimmed stdout. */
export async function runCast(args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await run(foundryBinary('cast'), args, { env: { ...process.env, ...env }, timeout: 60_000 });
    return stdout.trim();
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`cast ${args[0] ?? ''} ${args[1] ?? ''} failed: ${stderr?.trim() || message}`);
  }
}
