// Child processes run bundled JavaScript under plain `node`, as Lambda does: no TypeScript loader in the
// measured process, whose own memory and start-up time would otherwise be counted as ours.
import { build } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Same banner as scripts/build.ts: the AWS SDK calls require() for Node built-ins.
const banner = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/**
 * Bundles a bench entry point (ESM, minified like the Lambdas) into a temporary directory; returns its path.
 * `readable` keeps names and layout (for a CPU profile someone will read), at the price of a larger bundle.
 */
export async function bundleForChild(entry: string, { readable = false }: { readable?: boolean } = {}): Promise<string> {
  const outfile = join(mkdtempSync(join(tmpdir(), 'kms-eth-signer-bench-')), 'index.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    mainFields: ['module', 'main'],
    minify: !readable,
    keepNames: readable,
    banner: { js: banner },
    logLevel: 'warning',
  });
  return outfile;
}
