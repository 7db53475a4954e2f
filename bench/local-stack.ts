// The local KMS for the HTTP figures (client CPU, throughput, first invocation): the project's emulator, in
// a child process of its own so that its CPU is not the measured process's.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { LocalKms } from './benchmark';
import { bundleForChild } from './bundle';
import { childEnv } from './memory';

/** Starts the local KMS with a secp256k1 signing key in a child `node` process. */
export async function startBenchLocalKms(): Promise<LocalKms> {
  const script = await bundleForChild('bench/kms-process.ts');
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'], env: childEnv() });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve(line));
    child.once('exit', (code) => reject(new Error(`the local KMS process exited (${code}) before it was ready`)));
  });
  const { url, keyId } = JSON.parse(first) as { url: string; keyId: string };
  return {
    url,
    keyId,
    close: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
