// Peak memory of a process that signs N transactions through the handler: can the smallest Lambda run it?
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { bundleForChild } from './bundle';
import { serializeAnswers, type KmsAnswers } from './precompute';

/** What the memory child reports, in MiB. */
export interface MemoryResult {
  readonly signatures: number;
  readonly rssBeforeMb: number;
  readonly rssAfterFirstMb: number;
  readonly peakRssMb: number;
  readonly heapUsedMb: number;
}

/** Runs `count` signatures in a fresh bundled node process and returns its peak RSS; `answers` must cover them. */
export async function measureMemory(answers: KmsAnswers, count: number): Promise<MemoryResult> {
  const script = await bundleForChild('bench/memory-worker.ts');
  const answersPath = join(dirname(script), 'answers.json');
  writeFileSync(answersPath, JSON.stringify(serializeAnswers(answers)));
  const child = spawnSync(process.execPath, [script, answersPath, String(count)], { encoding: 'utf8', env: childEnv() });
  if (child.status !== 0) throw new Error(`the memory child failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout) as MemoryResult;
}

/**
 * The environment for a measured child: the SDK's Node 20 deprecation notice is noise on stderr, and the
 * signer's metrics (EMF lines) would be mixed into the result the child writes on stdout.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_METRICS_DISABLED: 'true', ...extra };
}
