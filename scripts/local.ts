// Entry point of `npm run local`: keeps the local stack up for manual use until Ctrl-C.
import { resolve } from 'node:path';
import { parseEther, Wallet } from 'ethers';
import { KmsSigner } from '../lambdas/signer/kms-signer';
import { userPath } from './import-key/cli-io';
import { DEV_ACCOUNTS } from './local-chain';
import { LocalUsageError, parseLocalArgs, parsePort, runLocalCommand } from './local-stack/command-line';
import { signerFunctionName, startSignerFunctions } from './local-stack/signer-functions';
import { createSigningKey, startLocalStack } from './local-stack/stack';

const DEFAULT_BUCKET = 'kms-eth-signer-backups';
const DEFAULT_POLICY = 'examples/policies/local-demo.json';
const USAGE = `Usage: npm run local -- [--kms-port PORT] [--anvil-port PORT] [--s3-port PORT] [--dynamodb-port PORT] [--lambda-port PORT]
                       [--policy FILE] [--data-dir DIR] [--bucket NAME]

Starts the local KMS, anvil, a local S3 (s3rver), a local DynamoDB (dynalite) with the policy table and the two
signer Lambdas (the bundles of npm run build) behind the Lambda Invoke API, all on 127.0.0.1; creates a funded
secp256k1 key, prints the environment to paste into another shell, and keeps everything up until Ctrl-C.

  --kms-port PORT       local KMS port (default 0: a free port each run)
  --anvil-port PORT     anvil JSON-RPC port (default 0: a free port each run)
  --s3-port PORT        local S3 port (default 0: a free port each run)
  --dynamodb-port PORT  local DynamoDB port (default 0: a free port each run)
  --lambda-port PORT    the Lambda Invoke endpoint's port (default 0: a free port each run)
  --policy FILE         the signing policy of the local Lambdas (default ${DEFAULT_POLICY});
                        its spending limits are counted in the local policy table
  --data-dir DIR        keep KMS keys (DIR/state.json, private keys in the clear) and S3 objects (DIR/s3)
                        across runs; without it, all is gone at Ctrl-C. The chain and the policy table are
                        always fresh.
  --bucket NAME         the S3 bucket to create for backups (default ${DEFAULT_BUCKET})
  --help                this text
`;

await runLocalCommand(USAGE, async () => {
  const values = parseLocalArgs(process.argv.slice(2), {
    'kms-port': { type: 'string' },
    'anvil-port': { type: 'string' },
    's3-port': { type: 'string' },
    'dynamodb-port': { type: 'string' },
    'lambda-port': { type: 'string' },
    policy: { type: 'string' },
    'data-dir': { type: 'string' },
    bucket: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const bucket = values.bucket ?? DEFAULT_BUCKET;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new LocalUsageError(`--bucket "${bucket.slice(0, 70)}" is not an S3 bucket name (3-63 lower-case letters, digits, "." and "-")`);
  // The SDK's Node 20 end-of-support notice would only clutter the output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const stack = await startLocalStack({
    ...(values['data-dir'] !== undefined && { dataDir: userPath(values['data-dir']) }),
    kmsPort: parsePort(values['kms-port'], '--kms-port'),
    anvilPort: parsePort(values['anvil-port'], '--anvil-port'),
    s3: { port: parsePort(values['s3-port'], '--s3-port'), buckets: [bucket] },
    dynamodb: { port: parsePort(values['dynamodb-port'], '--dynamodb-port') },
  });
  let lambdas: Awaited<ReturnType<typeof startSignerFunctions>> | undefined;
  const stop = () => Promise.all([lambdas?.close(), stack.close()]);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stop().then(() => process.exit(0)));
  }
  const { keyId } = await createSigningKey(stack.kmsClient);
  const policyFile = resolve(values.policy === undefined ? DEFAULT_POLICY : userPath(values.policy));
  try {
    lambdas = await startSignerFunctions(stack, { keyId, policyFile, port: parsePort(values['lambda-port'], '--lambda-port') });
  } catch (error) {
    await stop();
    throw error;
  }
  const address = await new KmsSigner({ keyId, client: stack.kmsClient }).getAddress();
  const funder = new Wallet(DEV_ACCOUNTS[0].privateKey, stack.anvil.provider);
  await (await funder.sendTransaction({ to: address, value: parseEther('100') })).wait();

  // The bundles need a signing policy: the demo's (small transfers to anvil dev account 1) unless --policy names
  // another; allow-all.json signs anything.
  const exports = {
    ...stack.awsEnv,
    AWS_ENDPOINT_URL_LAMBDA: lambdas.url,
    KMS_KEY_ID: keyId,
    AWS_KMS_KEY_ID: keyId,
    ETH_NETWORK: String(stack.anvil.chainId),
    ETH_RPC_URL: stack.anvil.rpcUrl,
    SIGNING_POLICY_FILE: policyFile,
    POLICY_TABLE_NAME: stack.dynamodb?.tableName,
  };
  console.log(`The local stack is up (Ctrl-C stops it and leaves nothing running).
Local KMS ${stack.kms.url}, anvil ${stack.anvil.rpcUrl} (chain ${stack.anvil.chainId}), local S3 ${stack.s3?.url} (bucket ${bucket}),
local DynamoDB ${stack.dynamodb?.endpoint} (policy table ${stack.dynamodb?.tableName}).
A secp256k1 key ${keyId} with address ${address}, funded with 100 ETH.
The Lambdas ${signerFunctionName('eip1559')} and ${signerFunctionName('legacy')} (dist/, signing policy ${policyFile})
answer the Lambda Invoke API at ${lambdas.url}; their logs appear below.

Paste into another shell (only KMS, S3, DynamoDB and Lambda are redirected; every other AWS service is left alone):

${Object.entries(exports).filter(([, value]) => value !== undefined).map(([name, value]) => `export ${name}=${value}`).join('\n')}

Then, for example, from this repository:
  npm run invoke -- examples/events/status.json --function legacy
  aws lambda invoke --function-name ${signerFunctionName('eip1559')} --payload fileb://examples/events/status.json /tmp/status-response.json && cat /tmp/status-response.json
  npx cast wallet address --aws
  npx cast send --aws ${DEV_ACCOUNTS[1].address} --value 0.1ether
  aws kms get-public-key --key-id $KMS_KEY_ID --endpoint-url $AWS_ENDPOINT_URL_KMS
  aws kms create-key --key-spec ECC_SECG_P256K1 --key-usage SIGN_VERIFY --endpoint-url $AWS_ENDPOINT_URL_KMS
  aws s3 ls s3://${bucket} --recursive --endpoint-url $AWS_ENDPOINT_URL_S3
  node --input-type=module -e "const { handler } = await import('./dist/eip1559/index.mjs'); console.log(await handler({ operation: 'status' }))"

Backups to the local S3, as in docs/backup.md:
  npm run recovery-keypair -- --out-dir ~/eth-recovery-local
  npm run import-key -- --generate ~/eth-keys-local/test-1.pem --create --alias test-1 --backup-public-key ~/eth-recovery-local/recovery-public.der --backup-bucket ${bucket}
`);
});
