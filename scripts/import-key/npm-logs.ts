// npm prints the arguments of `npm run NAME -- ARGS` in its banner and writes them to a debug log before the
// script starts: a script cannot stop that, but it can say which files now hold what was typed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What npm did with this process's command line, when npm started it. */
export interface NpmExposure {
  /** npm's debug-log folder (npm_config_logs_dir, else <npm cache>/_logs). */
  readonly logsDir: string;
  /** The debug logs in it that hold the value, newest last. */
  readonly logs: readonly string[];
  /** npm run (which also printed the command in its banner), rather than npx / npm exec (which did not). */
  readonly banner: boolean;
}

// A debug log is a few kilobytes; one larger than this is not npm's and is not read.
const MAX_LOG_BYTES = 16 * 1024 * 1024;

/**
 * When this process was started by npm (npm run and npx both set npm_lifecycle_event), the npm debug logs
 * that hold `value`; undefined when npm did not start it.
 */
export function npmExposure(value: string, env: NodeJS.ProcessEnv = process.env): NpmExposure | undefined {
  if (!env.npm_lifecycle_event) return undefined;
  const banner = env.npm_command !== 'exec';
  const logsDir = env.npm_config_logs_dir || join(env.npm_config_cache || join(homedir(), '.npm'), '_logs');
  let names: string[];
  try {
    names = readdirSync(logsDir).filter((name) => name.endsWith('.log')).sort();
  } catch {
    return { logsDir, logs: [], banner };
  }
  // npm logs argv JSON-quoted: a PEM's line breaks become \n there, so look for its longest line.
  const needle = value.trim().split(/\r?\n/).reduce((longest, line) => (line.length > longest.length ? line : longest), '');
  const logs = names.map((name) => join(logsDir, name)).filter((file) => {
    try {
      return statSync(file).size <= MAX_LOG_BYTES && readFileSync(file, 'utf8').includes(needle);
    } catch {
      return false;
    }
  });
  return { logsDir, logs, banner };
}
