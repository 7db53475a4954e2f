// Bundles each signer Lambda into dist/<name>/index.mjs: the artifacts the CDK stack deploys.
import { build } from 'esbuild';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bundleBytes } from './bundle-size';

const LAMBDAS = ['eip1559', 'legacy'] as const;

// The AWS SDK still calls require() for Node built-ins; an ESM bundle has no require unless we make one.
const banner = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

for (const name of LAMBDAS) {
  const outdir = `dist/${name}`;
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { index: `lambdas/${name}.ts` },
    outdir,
    // Code the SDK loads with import() only when it needs it (SSO, INI-file and web-identity credential
    // providers, never used on Lambda) goes into chunks that a cold start does not parse.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    banner: { js: banner },
    logLevel: 'warning',
  });
  const entry = statSync(join(outdir, 'index.mjs')).size;
  console.log(`${outdir}/index.mjs: ${(entry / 1024).toFixed(1)} KiB (with its chunks: ${(bundleBytes(outdir) / 1024).toFixed(1)} KiB)`);
}
