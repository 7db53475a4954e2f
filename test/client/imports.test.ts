// What importing kms-eth-signer/client loads: its own modules, ethers and the Lambda SDK client; never the
// Lambda code, the CDK or (until lambdaAccount is called) viem. Read from esbuild's import graph of client/index.ts.
import { build, type Metafile } from 'esbuild';
import { resolve } from 'node:path';

let metafile: Metafile;
beforeAll(async () => {
  ({ metafile } = await build({ entryPoints: [resolve('client/index.ts')], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent' }));
});

describe('client/index.ts imports', () => {
  it('loads only modules of client/', () => {
    expect(Object.keys(metafile.inputs).filter((input) => !input.startsWith('client/'))).toEqual([]);
  });

  it('imports only ethers, @aws-sdk/client-lambda and Node built-ins statically; viem only dynamically', () => {
    const packages = Object.values(metafile.inputs).flatMap((input) => input.imports.filter((entry) => entry.external).map((entry) => `${entry.kind === 'dynamic-import' ? 'dynamic ' : ''}${entry.path}`));
    expect([...new Set(packages)].sort()).toEqual(['@aws-sdk/client-lambda', 'dynamic viem', 'dynamic viem/accounts', 'ethers', 'node:timers/promises']);
  });
});
