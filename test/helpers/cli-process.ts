// Runs a command of this repository as a user would: a child process with argv, stdin, an environment, a
// working directory; returns its exit code and output.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** What a finished command left behind. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** How to run it. */
export interface CliOptions {
  readonly stdin?: string | Buffer;
  /** The user's directory: npm records it as INIT_CWD while running the script in the repository root. */
  readonly userDir?: string;
  /** Variables added to a minimal environment (PATH, HOME in a fresh temp dir, no AWS_* from the test's). */
  readonly env?: Record<string, string | undefined>;
  readonly timeoutMs?: number;
}

export const REPO_ROOT = resolve(__dirname, '..', '..');
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

/** A HOME with no AWS config and no npm logs, shared by a test file's commands and removed after it. */
export const CLI_HOME = mkdtempSync(join(tmpdir(), 'cli-home-'));
afterAll(() => rmSync(CLI_HOME, { recursive: true, force: true }));

/** The environment a fresh user's shell would have: PATH, and a HOME with no AWS config or npm logs. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = { PATH: process.env.PATH, HOME: CLI_HOME, ...extra };
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** Runs `tsx scripts/<script>` (what `npm run <name>` runs) in the repository root. */
export function runScript(script: string, argv: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return runProcess(TSX, [join('scripts', script), ...argv], REPO_ROOT, {
    ...options,
    env: { ...(options.userDir ? { INIT_CWD: options.userDir } : {}), ...options.env },
  });
}

/** Runs any program; stdin is written then closed. */
export function runProcess(command: string, args: readonly string[], cwd: string, options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // the command may exit before reading stdin
    child.stdin.end(options.stdin ?? '');
  });
}
