// The repository's own CDK app (infra/app.ts) is a user of the EthereumSigner construct: run as the CDK CLI runs
// it (cdk.json's context in CDK_CONTEXT_JSON), it deploys the bundles npm run build wrote, and every resource a
// deployed stack holds keeps the logical id it had before the construct existed, so an upgrade updates the stack
// in place and replaces nothing.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './construct-package';

const TSX = join(REPO, 'node_modules', '.bin', 'tsx');
// Loading aws-cdk-lib, cdk-nag and synthesizing take many seconds on a loaded machine: a ceiling, not a measurement.
const SYNTH_CEILING_MS = 240_000;

/** The logical ids of the stateful and named resources and the outputs callers read, as synthesized before the construct (cdk.json's context). */
const KEPT_LOGICAL_IDS: Record<string, string> = {
  SigningKey49B95470: 'AWS::KMS::Key',
  SigningKeyAliasFA392759: 'AWS::KMS::Alias',
  PolicyStateTable056C26CA: 'AWS::DynamoDB::Table',
  Eip1559SignerLogs467664DD: 'AWS::Logs::LogGroup',
  Eip1559SignerRoleBDB91CA1: 'AWS::IAM::Role',
  Eip1559SignerFunction3279C972: 'AWS::Lambda::Function',
  LegacySignerLogsB3B847D0: 'AWS::Logs::LogGroup',
  LegacySignerRole86471592: 'AWS::IAM::Role',
  LegacySignerFunctionEBA25549: 'AWS::Lambda::Function',
  MonitoringTopicKey423AF5B2: 'AWS::KMS::Key',
  MonitoringTopic2EDA8B02: 'AWS::SNS::Topic',
};
const KEPT_OUTPUTS = ['KeyArn', 'KeyAlias', 'Eip1559FunctionName', 'Eip1559FunctionArn', 'LegacyFunctionName', 'LegacyFunctionArn', 'AlarmTopicArn', 'DeployRoleArn', 'PolicyTableName', 'GuardBoundaryArn'];
/** treasury-payouts.json is a mainnet policy: the before-mainnet checklist's context comes with it. */
const MAINNET = {
  policyFile: 'examples/policies/treasury-payouts.json',
  ethNetwork: 'mainnet',
  expectedAddress: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  alarmEmail: 'security@example.com',
  managementTrailLogGroup: 'org-trail',
};

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, any> }>; Outputs: Record<string, unknown> };
let outdir: string;
beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'signer-app-'));
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** Runs infra/app.ts with cdk.json's context and `context` on top, as cdk synth does. */
async function runApp(context: Record<string, unknown>, out: string) {
  const cdkJson = JSON.parse(readFileSync(join(REPO, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const env = { PATH: process.env.PATH ?? '', HOME: outdir, CDK_OUTDIR: out, CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJson.context, ...context }) };
  try {
    const { stdout, stderr } = await promisify(execFile)(TSX, [join('infra', 'app.ts')], { cwd: REPO, env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('infra/app.ts', () => {
  let template: Template;
  beforeAll(async () => {
    const run = await runApp(MAINNET, join(outdir, 'good'));
    if (run.code !== 0) throw new Error(`infra/app.ts failed (${run.code}): ${run.stderr}`);
    template = JSON.parse(readFileSync(join(outdir, 'good', 'KmsEthSigner.template.json'), 'utf8')) as Template;
  }, SYNTH_CEILING_MS);

  it('keeps the logical id of every stateful or named resource, so an upgrade replaces nothing', () => {
    const kept = Object.fromEntries(Object.keys(KEPT_LOGICAL_IDS).map((id) => [id, template.Resources[id]?.Type]));
    expect(kept).toEqual(KEPT_LOGICAL_IDS);
  });

  it('keeps the ids of the outputs callers read', () => {
    expect(Object.keys(template.Outputs)).toEqual(expect.arrayContaining(KEPT_OUTPUTS));
  });

  it('deploys the bundles npm run build wrote to dist/, with the policy as policy.json and its SHA-256 staged as policy.sha256', () => {
    const policy = readFileSync(join(REPO, MAINNET.policyFile));
    for (const [id, kind] of [['Eip1559SignerFunction3279C972', 'eip1559'], ['LegacySignerFunctionEBA25549', 'legacy']] as const) {
      const asset = join(outdir, 'good', `asset.${String(template.Resources[id]!.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
      expect(readFileSync(join(asset, 'index.mjs'))).toEqual(readFileSync(join(REPO, 'dist', kind, 'index.mjs')));
      expect(readFileSync(join(asset, 'policy.json'))).toEqual(policy);
      expect(readFileSync(join(asset, 'policy.sha256'), 'utf8')).toBe(`${createHash('sha256').update(policy).digest('hex')}\n`);
    }
  });

  it(
    'stops on a bad context value with the message naming it, and no stack trace',
    async () => {
      const run = await runApp({ ...MAINNET, keyMode: 'old' }, join(outdir, 'bad'));
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('Invalid CDK context: keyMode must be new, external or existing, got "old". Set it with cdk deploy -c key=value or in cdk.json.');
      expect(run.stderr).not.toMatch(/^\s+at /m);
    },
    SYNTH_CEILING_MS,
  );
});
