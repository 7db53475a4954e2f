// Bundles each signer Lambda into dist/<name>/index.mjs: the artifacts the CDK stack deploys.
import { build } from 'esbuild';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bundleBytes } from './bundle-size';
import { lambdaOnlyImports } from './lambda-only-imports';
import { checkPolicies } from './policy/build-check';
import { writeValidator, VALIDATOR_FILE } from './policy-validator';
import { EVENTS_SCHEMA_FILE, EVENTS_VALIDATOR_FILE, writeEventsValidator } from './events-validator';

const LAMBDAS = ['eip1559', 'legacy'] as const;

// The AWS SDK still calls require() for Node built-ins; an ESM bundle has no require unless we make one.
const banner = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

// The policy validator is generated from policy.schema.json before bundling, so the bundle never compiles a schema.
if (writeValidator()) console.log(`${VALIDATOR_FILE}: regenerated from policy.schema.json`);
// So is the events validator, from events.schema.json (the Lambdas' contract with their callers).
if (writeEventsValidator()) console.log(`${EVENTS_VALIDATOR_FILE}: regenerated from ${EVENTS_SCHEMA_FILE}`);
// An invalid policy must never reach a function: the example policies, and the one named by SIGNING_POLICY_FILE.
if (!checkPolicies(process.env.SIGNING_POLICY_FILE)) process.exit(1);

for (const name of LAMBDAS) {
  const outdir = `dist/${name}`;
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { index: `lambdas/${name}.ts` },
    outdir,
    // Code loaded with import() only when needed (the container credential provider, the DynamoDB state)
    // goes into chunks that a cold start does not parse.
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
    // SDK code loaded with import() only off Lambda (profile/SSO credential sources, browser and event-stream
    // support) is replaced by stand-ins: see scripts/lambda-only-imports.ts.
    plugins: [lambdaOnlyImports()],
    logLevel: 'warning',
  });
  const entry = statSync(join(outdir, 'index.mjs')).size;
  console.log(`${outdir}/index.mjs: ${(entry / 1024).toFixed(1)} KiB (with its chunks: ${(bundleBytes(outdir) / 1024).toFixed(1)} KiB)`);
}
