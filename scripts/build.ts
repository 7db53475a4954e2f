// Bundles each signer Lambda into dist/<name>/index.mjs: the artifacts the CDK stack deploys.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleBytes } from './bundle-size';
import { lambdaEntry, lambdaEntryPoint } from './lambda-entry';
import { lambdaOnlyImports } from './lambda-only-imports';
import { checkPolicies } from './policy/build-check';
import { writeValidator, VALIDATOR_FILE } from './policy-validator';
import { EVENTS_SCHEMA_FILE, EVENTS_VALIDATOR_FILE, writeEventsValidator } from './events-validator';

const LAMBDAS = ['eip1559', 'legacy'] as const;
/** Beside each bundle when it was built for a policy: the policy's SHA-256, for the synth to compare. */
const POLICY_SHA256_FILE = 'policy.sha256';

// The AWS SDK still calls require() for Node built-ins; an ESM bundle has no require unless we make one.
const banner = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

// The policy validator is generated from policy.schema.json before bundling, so the bundle never compiles a schema.
if (writeValidator()) console.log(`${VALIDATOR_FILE}: regenerated from policy.schema.json`);
// So is the events validator, from events.schema.json (the Lambdas' contract with their callers).
if (writeEventsValidator()) console.log(`${EVENTS_VALIDATOR_FILE}: regenerated from ${EVENTS_SCHEMA_FILE}`);
// An invalid policy must never reach a function: the example policies, and the one named by SIGNING_POLICY_FILE.
if (!checkPolicies(process.env.SIGNING_POLICY_FILE)) process.exit(1);
// Built for a policy, the bundle refuses any other policy file at start (lambdas/policy-file.ts); the synth compares
// dist/<name>/policy.sha256 with -c policyFile (infra/signer-function.ts).
const policySha256 = process.env.SIGNING_POLICY_FILE ? createHash('sha256').update(readFileSync(process.env.SIGNING_POLICY_FILE)).digest('hex') : undefined;

for (const name of LAMBDAS) {
  const outdir = `dist/${name}`;
  rmSync(outdir, { recursive: true, force: true });
  await build({
    // lambdas/<name>.ts with a top-level await of its start at init: see scripts/lambda-entry.ts.
    entryPoints: { index: lambdaEntryPoint(name) },
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
    define: { __SIGNING_POLICY_SHA256__: policySha256 === undefined ? 'undefined' : JSON.stringify(policySha256) },
    // SDK code loaded with import() only off Lambda (profile/SSO credential sources, browser and event-stream
    // support) is replaced by stand-ins: see scripts/lambda-only-imports.ts.
    plugins: [lambdaEntry(), lambdaOnlyImports()],
    logLevel: 'warning',
  });
  if (policySha256 !== undefined) writeFileSync(join(outdir, POLICY_SHA256_FILE), `${policySha256}\n`);
  const entry = statSync(join(outdir, 'index.mjs')).size;
  console.log(`${outdir}/index.mjs: ${(entry / 1024).toFixed(1)} KiB (with its chunks: ${(bundleBytes(outdir) / 1024).toFixed(1)} KiB)`);
}
