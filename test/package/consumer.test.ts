// The npm package as a team installs it: `npm pack` (which builds it), the tarball unpacked into a fresh
// project under the system's temporary directory (so it cannot see this repository's sources), consumers
// type-checked with strict TypeScript (ESM and CommonJS) and run under plain node against the local KMS and
// anvil (prague). Nothing here is mocked.
//
// The tarball's dependencies are linked from this repository's node_modules rather than installed from the
// registry: no network, no npm cache that CI may not have, and exactly the packages the tarball's
// package.json declares (an import of an undeclared package fails here as it would after `npm install`).
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ContractFactory, parseEther, Transaction, Wallet } from 'ethers';
import { BUDGETS } from '../../bench/package-size';
import { KmsSigner } from '../../lambdas/signer/kms-signer';
import { DEV_ACCOUNTS } from '../../scripts/local-chain';
import { createSigningKey, startLocalStack, type LocalStack } from '../../scripts/local-stack/stack';
import { signerFunctionName, startSignerFunctions } from '../../scripts/local-stack/signer-functions';
import { compileSolidity } from '../helpers/solidity';

const REPOSITORY = process.cwd();
const execFileAsync = promisify(execFile);
const DELEGATE_SOURCE = `
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
contract Delegate {
    uint256 public counter;
    function run(uint256 amount) external { counter += amount; }
}`;

/** What `npm pack --json` reports. */
interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string; size: number }>;
}

/**
 * Runs node (or tsc) in the consumer project; returns stdout, or throws with stderr. Asynchronous: the local KMS
 * answers from this process, which must not be blocked while a consumer waits for it.
 */
async function run(project: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(process.execPath, args, { cwd: project, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, encoding: 'utf8', timeout: 240_000 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`node ${args.join(' ')} failed: ${(error as Error).message}\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** Links a package from this repository's node_modules into the consumer's, as an install would place it. */
function linkPackage(project: string, name: string): void {
  const target = join(project, 'node_modules', name);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(join(REPOSITORY, 'node_modules', name), target, 'dir');
}

describe('the npm package, installed into a fresh project', () => {
  let project: string;
  let pack: PackResult;
  let compiled = false;
  /** Type-checks and compiles the consumers (once: each block may run on its own with jest -t). */
  const compileConsumers = async () => {
    if (!compiled) await run(project, [join(project, 'node_modules/typescript/bin/tsc'), '-p', '.']);
    compiled = true;
  };

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'kms-eth-signer-consumer-'));
    // Outside the repository, the consumer resolves nothing of ours except through its node_modules.
    if (resolve(project).startsWith(`${REPOSITORY}/`)) throw new Error(`The consumer project ${project} is inside the repository: set TMPDIR elsewhere`);
    // prepack builds dist/package (scripts/build-package.ts) before the tarball is made.
    const output = execFileSync('npm', ['pack', '--json', '--pack-destination', project], { cwd: REPOSITORY, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
    pack = (JSON.parse(output.slice(output.indexOf('['))) as PackResult[])[0]!;
    mkdirSync(join(project, 'node_modules'));
    execFileSync('tar', ['-xzf', join(project, pack.filename), '-C', project]);
    execFileSync('mv', [join(project, 'package'), join(project, 'node_modules', 'kms-eth-signer')]);

    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/kms-eth-signer/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    // What the consumer installs: the package's dependencies, its optional peers (ethers, viem), and its own tools.
    for (const name of [...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies), 'typescript', '@types/node']) linkPackage(project, name);

    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true, skipLibCheck: true, types: ['node'], outDir: 'out', rootDir: 'src',
        },
        include: ['src'],
      }),
    );
    mkdirSync(join(project, 'src'));
    copyFileSync(join(REPOSITORY, 'test/package/consumer/esm.ts'), join(project, 'src/esm.ts'));
    copyFileSync(join(REPOSITORY, 'test/package/consumer/cjs.cts'), join(project, 'src/cjs.cts'));
  }, 300_000);

  afterAll(() => {
    rmSync(project, { recursive: true, force: true });
  });

  it('packs only the built entries, their declarations, the JSON Schemas, the docs, the licence and the manifest', () => {
    const paths = pack.files.map((file) => file.path);
    // The CDK entry ships the two signer bundles it deploys, without their source maps (3 MB each: stack traces of a
    // function deployed from the package point into the minified bundle), never a policy hash of the packer's build.
    const bundle = /^dist\/(eip1559|legacy)\/(index\.mjs|chunks\/[\w-]+\.mjs)$/;
    for (const path of paths) {
      expect(path).toMatch(/^(package\.json|README\.md|LICENSE|docs\/package\.md|(events|policy)\.schema\.json|dist\/package\/[\w/.-]+\.(js|cjs|d\.ts|d\.cts)|dist\/(eip1559|legacy)\/[\w/.-]+)$/);
      if (path.startsWith('dist/eip1559/') || path.startsWith('dist/legacy/')) expect(path).toMatch(bundle);
    }
    expect(paths).toEqual(expect.arrayContaining(['LICENSE', 'events.schema.json', 'policy.schema.json', 'dist/package/index.js', 'dist/package/index.cjs', 'dist/package/viem.js', 'dist/package/viem.cjs', 'dist/package/client.cjs', 'dist/package/cdk.cjs', 'dist/eip1559/index.mjs', 'dist/legacy/index.mjs']));
    expect(paths.filter((path) => /test|\.map$|\.pem$|\.local-|state\.json|policy\.sha256/.test(path))).toEqual([]);
    // The install sizes of the entries are printed by npm run bench:package, with their budgets.
    console.log(`kms-eth-signer tarball: ${(pack.size / 1024).toFixed(1)} KiB packed (budget ${BUDGETS.tarball / 1024} KiB), ${(pack.unpackedSize / 1024).toFixed(1)} KiB unpacked, ${paths.length} files`);
    expect(pack.size).toBeLessThanOrEqual(BUDGETS.tarball);
  });

  it('type-checks strict ESM and CommonJS consumers of the ethers and viem entries', async () => {
    await compileConsumers();
  }, 240_000);

  it.each([
    ['kms-eth-signer', 'viem'],
    ['kms-eth-signer/viem', 'ethers'],
  ])('loads %s without loading %s, from ESM and from CommonJS', async (entry, absent) => {
    // ESM: a resolve hook records every module the import resolves; CommonJS: require.cache.
    writeFileSync(join(project, 'record-hooks.mjs'), "import { appendFileSync } from 'node:fs';\nexport async function resolve(specifier, context, next) {\n  const result = await next(specifier, context);\n  appendFileSync(process.env.RESOLVED_LOG, result.url + '\\n');\n  return result;\n}\n");
    writeFileSync(join(project, 'record.mjs'), "import { register } from 'node:module';\nregister('./record-hooks.mjs', import.meta.url);\n");
    const log = join(project, `resolved-${absent}.log`);
    writeFileSync(log, '');
    await run(project, ['--import', './record.mjs', '--input-type=module', '-e', `await import(${JSON.stringify(entry)});`], { RESOLVED_LOG: log });
    const esm = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    const cjs = JSON.parse(await run(project, ['-e', `require(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(require.cache)))`])) as string[];

    const fromPackage = (name: string) => (path: string) => path.includes(`/node_modules/${name}/`);
    expect(esm.some(fromPackage('kms-eth-signer'))).toBe(true);
    expect(cjs.some(fromPackage('kms-eth-signer'))).toBe(true);
    expect(esm.filter(fromPackage(absent))).toEqual([]);
    expect(cjs.filter(fromPackage(absent))).toEqual([]);
  }, 60_000);

  it('synthesizes a CommonJS CDK app (require) with the EthereumSigner construct and the bundles it ships', async () => {
    const policy = join(project, 'policy.json');
    copyFileSync(join(REPOSITORY, 'examples/policies/relayer.json'), policy);
    writeFileSync(
      join(project, 'cdk-app.cjs'),
      [
        "const { App, Stack } = require('aws-cdk-lib');",
        "const { EthereumSigner } = require('kms-eth-signer/cdk');",
        'const app = new App({ outdir: process.env.CDK_OUT });',
        "const stack = new Stack(app, 'TeamStack', { env: { account: '111122223333', region: 'eu-west-1' } });",
        "new EthereumSigner(stack, 'Signer', { policyFile: process.env.POLICY, bootstrapQualifier: 'team1', invokerPrincipalArns: ['arn:aws:iam::111122223333:role/payments'] });",
        'const template = app.synth().getStackByName(stack.stackName).template;',
        "const functions = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function');",
        'console.log(JSON.stringify({ functions: functions.length, handlers: functions.map((f) => f.Properties.Handler).sort() }));',
      ].join('\n'),
    );
    const out = (await run(project, ['cdk-app.cjs'], { POLICY: policy, CDK_OUT: join(project, 'cdk.out') })).trim().split('\n').pop()!;
    expect(JSON.parse(out)).toEqual({ functions: expect.any(Number), handlers: expect.arrayContaining(['index.handler']) });
    expect((JSON.parse(out) as { functions: number }).functions).toBeGreaterThanOrEqual(2);
  }, 240_000);

  it('calls the signer Lambdas on npm run local\'s Invoke endpoint through kms-eth-signer/client (CommonJS): signs, refuses with a typed error, replays a retry, lambdaAccount signs as a viem account, and the JSON Schemas load by their export names', async () => {
    const stack = await startLocalStack({ dynamodb: {} });
    const { keyId } = await createSigningKey(stack.kmsClient);
    const policy = join(project, 'client-policy.json');
    writeFileSync(policy, JSON.stringify({ version: 1, rules: [{ id: 'pay-one', effect: 'allow', to: [DEV_ACCOUNTS[1].address], maxValue: '1 ether' }] }));
    const lambdas = await startSignerFunctions(stack, { keyId, policyFile: policy, logs: 'ignore' });
    try {
      writeFileSync(
        join(project, 'client-app.cjs'),
        [
          "const { LambdaClient } = require('@aws-sdk/client-lambda');",
          "const { LambdaSigner, lambdaAccount, PolicyDeniedError } = require('kms-eth-signer/client');",
          "const client = new LambdaClient({ endpoint: process.env.LAMBDA_URL, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });",
          'const signer = new LambdaSigner({ functionName: process.env.FUNCTION, client });',
          'const tx = { to: process.env.RECIPIENT, value: 10n ** 16n, nonce: 0, gasLimit: 21000, maxFeePerGas: 10n ** 9n, maxPriorityFeePerGas: 10n ** 8n, chainId: BigInt(process.env.CHAIN_ID) };',
          '(async () => {',
          '  const address = await signer.getAddress();',
          "  const first = await signer.signTransaction(tx, { idempotencyKey: 'payout-1' });",
          "  const retry = await signer.signTransaction(tx, { idempotencyKey: 'payout-1' });",
          '  let denied;',
          '  try { await signer.signTransaction({ ...tx, to: process.env.STRANGER }); } catch (error) { denied = { isTyped: error instanceof PolicyDeniedError, name: error.name }; }',
          '  const account = await lambdaAccount({ functionName: process.env.FUNCTION, client });',
          "  const viaViem = await account.signTransaction({ type: 'eip1559', to: process.env.RECIPIENT, value: 10n ** 16n, nonce: 1, gas: 21000n, maxFeePerGas: 10n ** 9n, maxPriorityFeePerGas: 10n ** 8n, chainId: Number(process.env.CHAIN_ID) });",
          "  const schemas = [require('kms-eth-signer/events.schema.json').$id, require('kms-eth-signer/policy.schema.json').$id];",
          '  console.log(JSON.stringify({ address, signed: first.slice(0, 4), sameOnRetry: retry === first, denied, viemAccount: account.address, viaViem, schemas }));',
          '  client.destroy();',
          '})();',
        ].join('\n'),
      );
      const env = { LAMBDA_URL: lambdas.url, FUNCTION: signerFunctionName('eip1559'), RECIPIENT: DEV_ACCOUNTS[1].address, STRANGER: DEV_ACCOUNTS[2].address, CHAIN_ID: String(stack.anvil.chainId) };
      const out = JSON.parse((await run(project, ['client-app.cjs'], env)).trim().split('\n').pop()!) as Record<string, unknown>;
      const address = await new KmsSigner({ keyId, client: stack.kmsClient }).getAddress();
      expect(out).toEqual({ address, signed: '0x02', sameOnRetry: true, denied: { isTyped: true, name: 'PolicyDeniedError' }, viemAccount: address, viaViem: expect.stringMatching(/^0x02/), schemas: ['urn:kms-eth-signer:events:v1', 'urn:kms-eth-signer:signing-policy:v1'] });
      const viaViem = Transaction.from(out.viaViem as string);
      expect({ from: viaViem.from, to: viaViem.to, nonce: viaViem.nonce }).toEqual({ from: address, to: DEV_ACCOUNTS[1].address, nonce: 1 });
    } finally {
      await lambdas.close();
      await stack.close();
    }
  }, 240_000);

  describe('run against the local KMS and anvil', () => {
    let stack: LocalStack;
    let env: Record<string, string>;
    let kmsAddress: string;

    beforeAll(async () => {
      stack = await startLocalStack({ anvilArgs: ['--hardfork', 'prague'] });
      const { keyId } = await createSigningKey(stack.kmsClient, 'alias/package-consumer');
      kmsAddress = await new KmsSigner({ keyId, client: stack.kmsClient }).getAddress();
      const funder = new Wallet(DEV_ACCOUNTS[0].privateKey, stack.anvil.provider);
      const { abi, bytecode } = compileSolidity(DELEGATE_SOURCE).get('Delegate')!;
      const delegate = await new ContractFactory(abi, bytecode, funder).deploy();
      await delegate.waitForDeployment();
      await (await funder.sendTransaction({ to: kmsAddress, value: parseEther('10') })).wait();
      env = {
        KMS_ENDPOINT: stack.kms.url,
        KEY_ID: 'alias/package-consumer',
        RPC_URL: stack.anvil.rpcUrl,
        CHAIN_ID: String(stack.anvil.chainId),
        DELEGATE: await delegate.getAddress(),
        RECIPIENT: DEV_ACCOUNTS[1].address,
      };
      await compileConsumers();
    }, 300_000);

    afterAll(async () => {
      await stack?.close();
    });

    it('sends transactions of types 0, 1, 2 and 4 with the viem account that anvil mines, and its signatures verify in viem', async () => {
      const results = JSON.parse((await run(project, ['out/esm.js'], env)).trim().split('\n').pop()!) as Record<string, unknown>;
      expect(results.address).toBe(kmsAddress);
      expect(results.source).toBe('kms');
      for (const [type, name] of [['legacy', 'legacy'], ['eip2930', 'eip2930'], ['eip1559', 'eip1559']]) {
        expect(results[type!]).toEqual({ status: 'success', type: name, from: kmsAddress.toLowerCase() });
      }
      expect(results.verifyMessage).toBe(true);
      expect(results.verifyTypedData).toBe(true);
      // The authorization took effect (delegation designator 0xef0100 || delegate) and the call ran in the account.
      expect(results.eip7702).toEqual({ status: 'success', type: 'eip7702', code: `0xef0100${env.DELEGATE!.slice(2).toLowerCase()}`, counter: '7' });
      expect(results.otherChain).toBe('ChainIdMismatchError');
      expect(results.rawSignWithoutOptIn).toBe('undefined');
      expect(results.rawSignWithOptIn).toBe(kmsAddress);
      expect(results.ethers).toEqual({ address: kmsAddress, status: 1, verifyMessage: kmsAddress });
    }, 240_000);

    it('serves a CommonJS consumer through require(), with typed errors it can catch', async () => {
      const results = JSON.parse((await run(project, ['out/cjs.cjs'], env)).trim().split('\n').pop()!) as Record<string, unknown>;
      expect(results).toEqual({ ethers: kmsAddress, viem: kmsAddress, recovered: kmsAddress, refusal: 'InvalidDigestError', module: 'object' });
    }, 120_000);
  });
});
