// Entry point of `npm start`: the whole flow on the local stack, with the Lambda bundles that would be deployed.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SignerHandler } from '../lambdas/handler';
import { formatSummary, runDemo } from './local-stack/demo';
import { createSigningKey, startLocalStack } from './local-stack/stack';

const ALIAS = 'alias/kms-eth-signer-demo';
// What the signer may sign: small transfers to one anvil account; the demo shows one transfer it refuses.
const POLICY = resolve('examples/policies/local-demo.json');

async function loadHandler(name: 'eip1559' | 'legacy'): Promise<SignerHandler> {
  const bundle = resolve('dist', name, 'index.mjs');
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build first (npm start does)`);
  return ((await import(pathToFileURL(bundle).href)) as { handler: SignerHandler }).handler;
}

const log = (line: string) => console.log(`- ${line}`);
// Lambda runs Node 22; on an older local Node the SDK's support notice would only clutter the demo.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The signers' CloudWatch metrics (EMF lines on stdout) mean nothing outside Lambda; keep the demo's output readable.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
console.log('Starting the local KMS and anvil on loopback...');
const stack = await startLocalStack();
try {
  const { keyId } = await createSigningKey(stack.kmsClient, ALIAS);
  log(`signing policy ${POLICY}`);
  log(`created ECC_SECG_P256K1 key ${keyId} (${ALIAS}) in the local KMS at ${stack.kms.url}; anvil at ${stack.anvil.rpcUrl}`);
  // The bundles read their settings as a Lambda would: from the environment, on their first invocation.
  Object.assign(process.env, stack.awsEnv, {
    KMS_KEY_ID: ALIAS,
    ETH_NETWORK: String(stack.anvil.chainId),
    SIGNING_POLICY_FILE: POLICY,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'ERROR', // the policy's refusal below is expected; its WARN line would only clutter the demo
  });
  const handlers = { eip1559: await loadHandler('eip1559'), legacy: await loadHandler('legacy') };
  const result = await runDemo(stack, handlers, keyId, log);
  console.log(formatSummary(result));
} catch (error) {
  console.error(`\nnpm start failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  process.exitCode = 1;
} finally {
  await stack.close();
}
