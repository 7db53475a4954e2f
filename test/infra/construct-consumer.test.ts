// A team's own CDK app with the signer construct: plain JavaScript in a directory that cannot see this
// repository's sources, loading the CDK entry as the package ships it (CommonJS, as `cdk init` writes an app,
// and ESM), with the Lambda bundles shipped beside it: no esbuild, no Docker at the team's synth.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildConstructPackage, REPO, type ConstructPackage } from './construct-package';

const POLICY = join(REPO, 'examples', 'policies', 'treasury-payouts.json');
const BACKEND = 'arn:aws:iam::111122223333:role/Backend';
// Loading aws-cdk-lib and synthesizing take seconds on a loaded machine: a ceiling, not a measurement.
const SYNTH_CEILING_MS = 240_000;

// The two apps differ only in how they load the construct. Each also checks that bad props fail the synth, and
// reports whether viem or esbuild were loaded.
const APP_BODY = `
// A mainnet signer: the before-mainnet checklist's props, and the team's dedicated bootstrap qualifier.
const props = {
  policyFile: 'policies/signing-policy.json',
  bootstrapQualifier: 'teamsigner',
  ethNetwork: 'mainnet',
  expectedAddress: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  managementTrailLogGroup: 'org-trail',
  invokerPrincipalArns: ['${BACKEND}'],
  alarmEmail: 'ops@example.com',
};
const refused = (() => {
  try {
    new EthereumSigner(new Stack(new App(), 'Bad'), 'Signer', { ...props, keyMode: 'old' });
    return null;
  } catch (error) {
    return { name: error.name, isPropsError: error instanceof EthereumSignerPropsError, problems: error.problems };
  }
})();
const app = new App();
const stack = new Stack(app, 'TeamStack', {
  env: { account: '111122223333', region: 'eu-west-1' },
  synthesizer: new DefaultStackSynthesizer({ qualifier: 'teamsigner' }),
  terminationProtection: true,
});
new EthereumSigner(stack, 'Signer', { ...props, functionNamePrefix: 'team-signer' });
// A second signer in the same stack: its own key, functions and output ids.
new EthereumSigner(stack, 'Payouts', { ...props, functionNamePrefix: 'team-payouts', keyAlias: 'alias/team-payouts' });
app.synth();
`;
const CJS_APP = `'use strict';
const { App, DefaultStackSynthesizer, Stack } = require('aws-cdk-lib');
const { EthereumSigner, EthereumSignerPropsError } = require(process.env.SIGNER_CDK_ENTRY);
${APP_BODY}
const loaded = (name) => Object.keys(require.cache).some((file) => file.includes('/node_modules/' + name + '/'));
console.log(JSON.stringify({ refused, viem: loaded('viem'), esbuild: loaded('esbuild') }));
`;
const ESM_APP = `import { App, DefaultStackSynthesizer, Stack } from 'aws-cdk-lib';
import { createRequire } from 'node:module';
const { EthereumSigner, EthereumSignerPropsError } = await import(process.env.SIGNER_CDK_ENTRY);
${APP_BODY}
// The package's CommonJS modules this app loaded (ES modules are not in require.cache: see the static check below).
const loaded = (name) => Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('/node_modules/' + name + '/'));
console.log(JSON.stringify({ refused, viem: loaded('viem'), esbuild: loaded('esbuild') }));
`;

let root: string;
let pkg: ConstructPackage;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'construct-consumer-'));
  pkg = await buildConstructPackage(root);
}, SYNTH_CEILING_MS);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes the app into a fresh directory beside the package and runs it with node, as cdk synth would. */
async function synthesize(file: string, source: string, entry: string) {
  const appDir = join(root, `app-${file.replace('.', '-')}`);
  mkdirSync(join(appDir, 'policies'), { recursive: true });
  cpSync(POLICY, join(appDir, 'policies', 'signing-policy.json'));
  writeFileSync(join(appDir, file), source);
  const outdir = join(appDir, 'cdk.out');
  const env = { PATH: process.env.PATH ?? '', HOME: root, CDK_OUTDIR: outdir, SIGNER_CDK_ENTRY: entry };
  const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: appDir, env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { refused: { name: string; isPropsError: boolean; problems: string[] } | null; viem: boolean; esbuild: boolean };
  const template = JSON.parse(readFileSync(join(outdir, 'TeamStack.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, any> }>; Outputs: Record<string, unknown> };
  return { report, template, outdir };
}

const resourcesOf = (template: { Resources: Record<string, { Type: string; Properties: Record<string, any> }> }, type: string) =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

describe.each([
  ['CommonJS', 'app.js', CJS_APP, () => pkg.cjs],
  ['ESM', 'app.mjs', ESM_APP, () => pkg.esm],
])('EthereumSigner in a %s CDK app', (_format, file, source, entry) => {
  let result: Awaited<ReturnType<typeof synthesize>>;
  beforeAll(async () => {
    result = await synthesize(file, source, entry());
  }, SYNTH_CEILING_MS);

  it('deploys each signer\'s two functions from the bundles shipped in the package, with the team’s policy as policy.json and its SHA-256 as policy.sha256', () => {
    const functions = resourcesOf(result.template, 'AWS::Lambda::Function').map(([, fn]) => fn.Properties);
    expect(functions.map((fn) => fn.FunctionName).sort()).toEqual(['team-payouts-eip1559', 'team-payouts-legacy', 'team-signer-eip1559', 'team-signer-legacy']);
    const policySha256 = createHash('sha256').update(readFileSync(POLICY)).digest('hex');
    for (const fn of functions) {
      expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
      expect(fn.Environment.Variables.SIGNING_POLICY_FILE).toBe('policy.json');
      const kind = String(fn.FunctionName).endsWith('-eip1559') ? 'eip1559' : 'legacy';
      const asset = join(result.outdir, `asset.${String(fn.Code.S3Key).replace(/\.zip$/, '')}`);
      expect(readFileSync(join(asset, 'index.mjs'))).toEqual(readFileSync(join(pkg.dist, kind, 'index.mjs')));
      expect(readFileSync(join(asset, 'policy.json'), 'utf8')).toBe(readFileSync(POLICY, 'utf8'));
      // The package's bundles are built for no policy: the synth stages the hash the function checks at start.
      expect(readFileSync(join(asset, 'policy.sha256'), 'utf8')).toBe(`${policySha256}\n`);
    }
  });

  it('creates the signing key, lets the named invoker call both functions, and subscribes the alarm email', () => {
    const keys = resourcesOf(result.template, 'AWS::KMS::Key').filter(([, key]) => key.Properties.KeySpec === 'ECC_SECG_P256K1');
    expect(keys).toHaveLength(2);
    for (const [, key] of keys) expect(key.Properties.KeyUsage).toBe('SIGN_VERIFY');
    const invokers = resourcesOf(result.template, 'AWS::Lambda::Permission').map(([, permission]) => permission.Properties);
    expect(invokers.filter((permission) => permission.Principal === BACKEND && permission.Action === 'lambda:InvokeFunction')).toHaveLength(4);
    const subscriptions = resourcesOf(result.template, 'AWS::SNS::Subscription').map(([, subscription]) => subscription.Properties);
    expect(subscriptions).toEqual([expect.objectContaining({ Protocol: 'email', Endpoint: 'ops@example.com' }), expect.objectContaining({ Protocol: 'email', Endpoint: 'ops@example.com' })]);
  });

  it('names its resources and output ids after the construct id, so two signers share a stack without colliding', () => {
    expect(Object.keys(result.template.Resources).every((id) => id.startsWith('Signer') || id.startsWith('Payouts'))).toBe(true);
    const outputs = result.template.Outputs as Record<string, { Export?: { Name: string } }>;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['SignerKeyArn', 'SignerEip1559FunctionArn', 'SignerDeployRoleArn', 'PayoutsKeyArn', 'PayoutsEip1559FunctionArn', 'PayoutsDeployRoleArn']));
    const exports = Object.values(outputs).flatMap((output) => (output.Export ? [output.Export.Name] : []));
    expect(exports).toEqual(expect.arrayContaining(['TeamStack-SignerKeyArn', 'TeamStack-PayoutsKeyArn']));
    expect(new Set(exports).size).toBe(exports.length);
  });

  it('trusts the team\'s dedicated bootstrap qualifier as the deployer, never the default bootstrap', () => {
    const json = JSON.stringify(result.template);
    expect(json).toContain('cdk-teamsigner-cfn-exec-role-111122223333-eu-west-1');
    expect(json).not.toContain('hnb659fds');
  });

  it('fails the synth on invalid props with the message the CDK context gives', () => {
    expect(result.report.refused).toEqual({ name: 'EthereumSignerPropsError', isPropsError: true, problems: ['keyMode must be new, external or existing, got "old"'] });
  });

  it('loads neither viem nor esbuild', () => {
    expect(result.report).toMatchObject({ viem: false, esbuild: false });
  });
});

describe('the CDK entry', () => {
  it('imports neither viem nor esbuild, in either format', () => {
    for (const file of [pkg.cjs, pkg.esm]) {
      const specifiers = [...readFileSync(file, 'utf8').matchAll(/(?:require\(|from |import\()\s*["']([^"']+)["']/g)].map((match) => match[1]!);
      expect(specifiers).toEqual(expect.arrayContaining(['aws-cdk-lib', 'constructs']));
      expect(specifiers.filter((specifier) => /^(viem|esbuild)(\/|$)/.test(specifier))).toEqual([]);
    }
  });
});
