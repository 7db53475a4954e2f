// The built bundles on the Node.js major version of the Lambda runtime the stack deploys (infra/signer-function.ts),
// not only on the Node.js that runs these tests: Node's official Linux binary of that major comes from the npm
// registry (package node-linux-<arch>), the functions run on it behind the local Invoke endpoint, and anvil mines
// what they sign.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { parseEther, Wallet } from 'ethers';
import { LambdaSigner } from '../../client';
import { DEV_ACCOUNTS, waitForReceipt } from '../../scripts/local-chain';
import type { LocalInvokeEndpoint } from '../../scripts/local-stack/invoke-endpoint';
import { signerFunctionName, startSignerFunctions } from '../../scripts/local-stack/signer-functions';
import { createSigningKey, startLocalStack, type LocalStack } from '../../scripts/local-stack/stack';
import { REPO_ROOT } from '../helpers/cli-process';

jest.setTimeout(240_000);

/** The runtime's Node.js major, read from the stack's source (lambda.Runtime.NODEJS_<major>_X). */
function lambdaNodeMajor(): string {
  const match = /lambda\.Runtime\.NODEJS_(\d+)_X/.exec(readFileSync(join(REPO_ROOT, 'infra/signer-function.ts'), 'utf8'));
  if (!match?.[1]) throw new Error('infra/signer-function.ts names no lambda.Runtime.NODEJS_<major>_X');
  return match[1];
}

/** Node.js of that major from the npm registry, unpacked once into a cache directory that outlives the run. */
function nodeBinary(major: string): string {
  const dir = join(tmpdir(), `kms-eth-signer-node-${major}-${process.arch}`);
  const binary = join(dir, 'package', 'bin', 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const output = execFileSync('npm', ['pack', '--json', `node-linux-${process.arch}@${major}`, '--pack-destination', dir], { encoding: 'utf8', timeout: 180_000 });
  const [{ filename }] = JSON.parse(output.slice(output.indexOf('['))) as [{ filename: string }];
  execFileSync('tar', ['-xzf', join(dir, filename), '-C', dir, 'package/bin/node']);
  rmSync(join(dir, filename));
  return binary;
}

const major = lambdaNodeMajor();
let stack: LocalStack;
let lambdas: LocalInvokeEndpoint;
let client: LambdaClient;
let dir: string;
let binary: string;

beforeAll(async () => {
  binary = nodeBinary(major);
  dir = mkdtempSync(join(tmpdir(), 'lambda-runtime-'));
  writeFileSync(join(dir, 'policy.json'), JSON.stringify({ version: 1, rules: [{ id: 'pay-one', effect: 'allow', to: [DEV_ACCOUNTS[1].address], maxValue: '1 ether' }] }));
  stack = await startLocalStack({ dynamodb: {} });
  const { keyId } = await createSigningKey(stack.kmsClient);
  lambdas = await startSignerFunctions(stack, { keyId, policyFile: join(dir, 'policy.json'), logs: 'ignore', nodeBinary: binary });
  client = new LambdaClient({ endpoint: lambdas.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
afterAll(async () => {
  client?.destroy();
  await lambdas?.close();
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe(`the signer bundles on the Lambda runtime's Node.js (${major})`, () => {
  it('is that Node.js major the functions run on', () => {
    expect(execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim()).toMatch(new RegExp(`^v${major}\\.`));
  });

  it.each(['eip1559', 'legacy'] as const)('signs a transfer through the %s function that anvil mines, and refuses what the policy denies', async (kind) => {
    const signer = new LambdaSigner({ functionName: signerFunctionName(kind), client, ...(kind === 'legacy' && { kind }) }, stack.anvil.provider);
    const address = await signer.getAddress();
    const funder = new Wallet(DEV_ACCOUNTS[0].privateKey, stack.anvil.provider);
    await waitForReceipt(stack.anvil.provider, (await funder.sendTransaction({ to: address, value: parseEther('1') })).hash);
    const sent = await signer.sendTransaction({ to: DEV_ACCOUNTS[1].address, value: parseEther('0.01') });
    expect(await waitForReceipt(stack.anvil.provider, sent.hash)).toMatchObject({ status: 1, from: address });
    await expect(signer.sendTransaction({ to: DEV_ACCOUNTS[2].address, value: 1n })).rejects.toMatchObject({ name: 'PolicyDeniedError' });
  });
});
