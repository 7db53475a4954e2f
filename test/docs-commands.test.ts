// The docs' commands work as written, and the stack outputs they name exist (issue 28 items 3, 4, 5, 9, 12):
// the documented `npm run deploy` / `npm run synth` context is what synth accepts, every output a doc tells the
// reader to use is one the synthesized template has (by that id), the AWS CLI takes AWS_ENDPOINT_URL_KMS as
// docs/local-kms.md says, backup.md's relative --backup through npm --prefix works, and the Node.js versions
// the README names are the ones package.json and the stack declare.
import { mkdtempSync, readFileSync, readdirSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSettings } from '../infra/context';
import { startLocalKms, type LocalKms } from '../scripts/local-kms';
import { synthesize } from './infra/stack-fixture';
import { REPO_ROOT, runProcess } from './helpers/cli-process';

jest.setTimeout(120_000);

const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');
const DOCS = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
const CDK_CONTEXT = (JSON.parse(read('cdk.json')) as { context: Record<string, unknown> }).context;

// Placeholders a reader replaces, with values of the right shape.
const PLACEHOLDERS: [RegExp, string][] = [
  [/^policy\.json$|^.*YOUR-POLICY\.json$|^policies\/prod\.json$/, 'examples/policies/allow-all.json'],
  [/^0x…$|^<the address import-key printed>$|^"\$ADDRESS"$/, '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'],
];
const fill = (value: string) =>
  PLACEHOLDERS.reduce((text, [pattern, replacement]) => (pattern.test(text) ? text.replace(pattern, replacement) : text), value)
    .replace(/\/signing-profiles\/NAME\/VERSION$/, '/signing-profiles/treasury/AbCdEf1234')
    .replace(/^s3:\/\/BUCKET\//, 's3://signed-bundles/')
    .replace(/REGION/g, 'eu-west-1')
    .replace(/KEY_ACCOUNT|ACCOUNT/g, '111122223333')
    .replace(/key\/ID$/, 'key/1234abcd-12ab-34cd-56ef-1234567890ab');

/** Every `npm run deploy|synth -- …` command in the docs (continuation lines joined), with its -c context. */
function documentedCdkCommands(): [string, string, Record<string, string>][] {
  return DOCS.flatMap((doc) =>
    [...read(doc).replace(/\\\n\s*/g, ' ').matchAll(/npm run (?:deploy|synth) --(?:\s+-c [A-Za-z0-9]+=(?:<[^>\n]*>|[^\s`]+))+/g)].map((match) => {
      // A shell-quoted value ('s3://…?versionId=…') reaches cdk without its quotes.
      const unquote = (value: string) => value.replace(/^'(.*)'$/, '$1');
      const context = Object.fromEntries([...match[0].matchAll(/-c ([A-Za-z0-9]+)=(<[^>\n]*>|\S+)/g)].map((c) => [c[1] as string, fill(unquote(c[2] as string))]));
      return [doc, match[0], context] as [string, string, Record<string, string>];
    }),
  );
}

describe('npm run deploy / synth commands in the docs', () => {
  const commands = documentedCdkCommands();

  it('are found (deploy.md has several)', () => {
    expect(commands.length).toBeGreaterThanOrEqual(6);
  });

  it.each(commands)('%s: `%s` gives the context synth requires (policyFile among it)', (_doc, _command, context) => {
    expect(() => readSettings((key) => ({ ...CDK_CONTEXT, ...context })[key])).not.toThrow();
  });

  it('a command without policyFile is refused by the same check (so the check above means something)', () => {
    expect(() => readSettings((key) => CDK_CONTEXT[key])).toThrow(/policyFile is required/);
  });

  it('no doc tells the reader to run npm run synth or npm run deploy without -c policyFile', () => {
    for (const doc of DOCS) expect({ doc, bare: read(doc).match(/`npm run (?:synth|deploy)`(?= (?:prints|builds|runs))/g) ?? [] }).toEqual({ doc, bare: [] });
  });
});

describe('stack outputs the docs name', () => {
  // Every output a doc sends the reader to: "output `X`", "`X` output" and <X> placeholders for outputs.
  const named = new Map<string, string>();
  for (const doc of DOCS) {
    const text = read(doc);
    for (const match of text.matchAll(/outputs?\s+`([A-Z][A-Za-z0-9]+)`|`([A-Z][A-Za-z0-9]+)`\s+output|<([A-Z][a-z][A-Za-z0-9]*(?:Arn|Name))>/g)) {
      const id = (match[1] ?? match[2] ?? match[3]) as string;
      if (!named.has(id)) named.set(id, doc);
    }
  }
  const outputIds = new Set<string>();
  beforeAll(() => {
    // One synth with every optional part that adds outputs: backups (with a cross-account writer), the trail, an EXTERNAL key.
    const contexts = [
      { keyMode: 'existing', keyArn: 'arn:aws:kms:eu-west-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
      { keyMode: 'external', backupBucket: 'true', backupWriterAccount: '444455556666', backupWriterExternalId: 'a-long-random-external-id', trail: 'true' },
    ];
    for (const context of contexts) {
      for (const [id, output] of Object.entries(synthesize(context).template.findOutputs('*'))) {
        outputIds.add(id);
        outputValues.set(id, JSON.stringify((output as { Value: unknown }).Value));
      }
    }
  });
  const outputValues = new Map<string, string>();

  it('are found', () => {
    expect(named.size).toBeGreaterThanOrEqual(6);
  });

  it.each([...named])('%s (named in %s) is an output of the synthesized stack, by that id', (id) => {
    expect([...outputIds]).toContain(id);
  });

  const names = [...named].filter(([id]) => id.endsWith('Name'));
  it.each(names)('%s (named in %s) holds a name, not an ARN', (id) => {
    expect(outputValues.get(id) ?? '').not.toMatch(/"Arn"|arn:aws/);
  });
});

describe('docs/local-kms.md: the AWS CLI reads AWS_ENDPOINT_URL_KMS', () => {
  let kms: LocalKms;
  beforeAll(async () => {
    kms = await startLocalKms();
  });
  afterAll(() => kms?.close());

  it('creates a key at the local KMS with only the exports, no --endpoint-url (the installed CLI, v1 or v2)', async () => {
    expect(read('docs/local-kms.md')).toMatch(/\naws kms create-key --key-spec ECC_SECG_P256K1 --key-usage SIGN_VERIFY\n/);
    const env = { AWS_ENDPOINT_URL_KMS: kms.url, AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_PAGER: '' };
    const result = await runProcess('bash', ['-c', 'aws kms create-key --key-spec ECC_SECG_P256K1 --key-usage SIGN_VERIFY --query KeyMetadata.KeySpec --output text'], REPO_ROOT, { env });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('ECC_SECG_P256K1');
  });
});

describe('docs/operations.md: commands run against the local KMS as written', () => {
  let kms: LocalKms;
  beforeAll(async () => {
    kms = await startLocalKms();
  });
  afterAll(() => kms?.close());
  const env = () => ({ AWS_ENDPOINT_URL_KMS: kms.url, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_PAGER: '', npm_config_update_notifier: 'false' });
  const operations = () => read('docs/operations.md');

  it('the Region check creates an EXTERNAL secp256k1 key, gets import parameters for it and schedules its deletion', async () => {
    const block = /```sh\n(KEY=\$\(aws kms create-key --region REGION[\s\S]*?)```/.exec(operations())?.[1];
    expect(block).toBeDefined();
    const result = await runProcess('bash', ['-e', '-o', 'pipefail', '-c', (block as string).replace(/REGION/g, 'us-east-1')], REPO_ROOT, { env: env() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/PendingDeletion/);
  });

  it('pinning: the address command of the second deploy prints exactly the KMS key\'s address', async () => {
    const line = /^ADDRESS=\$\((.*)\)$/m.exec(operations())?.[1];
    expect(line).toBe('npm run --silent address -- --kms-key-id "$KEY_ARN" | awk \'{print $NF}\'');
    const keyArn = (await runProcess('bash', ['-c', 'aws kms create-key --region us-east-1 --key-spec ECC_SECG_P256K1 --key-usage SIGN_VERIFY --query KeyMetadata.Arn --output text'], REPO_ROOT, { env: env() })).stdout.trim();
    const address = await runProcess('bash', ['-o', 'pipefail', '-c', line as string], REPO_ROOT, { env: { ...env(), AWS_REGION: 'us-east-1', KEY_ARN: keyArn } });
    expect(address.stderr).toBe('');
    expect(address.stdout.trim()).toMatch(/^0x[0-9a-fA-F]{40}$/);
    const checked = await runProcess('bash', ['-c', `npm run --silent address -- --kms-key-id "$KEY_ARN"`], REPO_ROOT, { env: { ...env(), AWS_REGION: 'us-east-1', KEY_ARN: keyArn } });
    expect(checked.stdout.trim()).toBe(`KMS key ${keyArn}: ${address.stdout.trim()}`);
  });
});

describe('docs/backup.md: recovering with relative --backup paths from the backup folder', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'docs-backup-'));
    cpSync(join(REPO_ROOT, 'test', 'fixtures', 'backup-v1'), dir, { recursive: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('npm --prefix REPOSITORY run recover -- --backup <key id>/recovery_shard-0.txt works from where the shards are', async () => {
    expect(read('docs/backup.md')).toMatch(/npm --prefix ~\/kms-eth-signer run recover -- --backup <key id>\/recovery_shard-1\.txt/);
    const command = `npm --prefix '${REPO_ROOT}' run --silent recover -- --backup 1234abcd-12ab-34cd-56ef-1234567890ab/recovery_shard-0.txt --recovery-private-key recovery-private.pem --out ${join(dir, 'recovered.hex')}`;
    const result = await runProcess('bash', ['-c', command], dir, { env: { npm_config_update_notifier: 'false' } });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('Address: 0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F');
  });
});

describe('supported Node.js versions', () => {
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;

  it('the README states the engines range of package.json', () => {
    expect(read('README.md')).toContain(`\`engines\` in package.json: \`${engines}\``);
  });

  it("the README's Lambda runtime is the one the stack declares", () => {
    const runtime = /lambda\.Runtime\.NODEJS_(\d+)_X/.exec(read('infra/signer-function.ts'))?.[1];
    expect(runtime).toBeDefined();
    expect(read('README.md')).toMatch(new RegExp(`\\(Node\\.js ${runtime}, ARM64`));
    expect(Number(runtime)).toBeGreaterThanOrEqual(Number(/\d+/.exec(engines)?.[0]));
  });

  it('deploy.md asks for the same Node.js versions as the README', () => {
    expect(read('docs/deploy.md')).toMatch(/Node\.js 22 or 24/);
    expect(read('README.md')).toMatch(/Node\.js 22 or 24/);
  });
});
