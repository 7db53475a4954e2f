// Bundles each signer Lambda into dist/<name>/index.mjs: the artifacts the CDK stack deploys.
import { build } from 'esbuild';
import { statSync } from 'node:fs';

const LAMBDAS = ['eip1559', 'legacy'] as const;

// The AWS SDK still calls require() for Node built-ins; an ESM bundle has no require unless we make one.
const banner = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

for (const name of LAMBDAS) {
  const outfile = `dist/${name}/index.mjs`;
  await build({
    entryPoints: [`lambdas/${name}.ts`],
    outfile,
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
  console.log(`${outfile}: ${(statSync(outfile).size / 1024).toFixed(1)} KiB`);
}
