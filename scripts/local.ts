// Entry point of `npm run local`: keeps the local stack up for manual use until Ctrl-C.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseEther, Wallet } from 'ethers';
import { KmsSigner } from '../lambdas/signer/kms-signer';
import { DEV_ACCOUNTS } from './local-chain';
import { createSigningKey, startLocalStack } from './local-stack/stack';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } } });
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const stack = await startLocalStack({ dataDir: values['data-dir'] });
const { keyId } = await createSigningKey(stack.kmsClient);
const address = await new KmsSigner({ keyId, client: stack.kmsClient }).getAddress();
const funder = new Wallet(DEV_ACCOUNTS[0].privateKey, stack.anvil.provider);
await (await funder.sendTransaction({ to: address, value: parseEther('100') })).wait();

// The bundles need a signing policy: the demo's (small transfers to anvil dev account 1); allow-all.json signs anything.
const exports = { ...stack.awsEnv, KMS_KEY_ID: keyId, AWS_KMS_KEY_ID: keyId, ETH_NETWORK: String(stack.anvil.chainId), ETH_RPC_URL: stack.anvil.rpcUrl, SIGNING_POLICY_FILE: resolve('examples/policies/local-demo.json') };
console.log(`The local stack is up (Ctrl-C stops it and leaves nothing running).
Local KMS ${stack.kms.url}, anvil ${stack.anvil.rpcUrl} (chain ${stack.anvil.chainId}).
A secp256k1 key ${keyId} with address ${address}, funded with 100 ETH.

Paste into another shell:

${Object.entries(exports).map(([name, value]) => `export ${name}=${value}`).join('\n')}

Then, for example:
  cast wallet address --aws
  cast send --aws ${DEV_ACCOUNTS[1].address} --value 0.1ether
  aws kms get-public-key --key-id $KMS_KEY_ID --endpoint-url $AWS_ENDPOINT_URL_KMS
  aws kms create-key --key-spec ECC_SECG_P256K1 --key-usage SIGN_VERIFY --endpoint-url $AWS_ENDPOINT_URL_KMS
  node --input-type=module -e "const { handler } = await import('./dist/eip1559/index.mjs'); console.log(await handler({ operation: 'status' }))"
`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stack.close().then(() => process.exit(0)));
}
