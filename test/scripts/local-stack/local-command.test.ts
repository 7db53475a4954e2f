// npm run local and npm run kms as a user runs them: the printed environment redirects only KMS, S3, DynamoDB and Lambda,
// every printed command runs as printed in a fresh shell, backups go to the local S3 as docs/backup.md says,
// ports can be chosen, and mistakes give one line, not a stack trace.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, REPO_ROOT, runProcess, runScript } from '../../helpers/cli-process';

jest.setTimeout(180_000);

const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

/** Starts `npm run local` (tsx scripts/local.ts) and resolves once it printed its instructions. */
function startLocal(args: string[], env: Record<string, string>): Promise<{ child: ChildProcessWithoutNullStreams; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, ['scripts/local.ts', ...args], { cwd: REPO_ROOT, env });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (/Backups to the local S3[\s\S]*--backup-bucket \S+\n/.test(output)) resolve({ child, output });
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => reject(new Error(`npm run local exited ${code}: ${output}`)));
  });
}

function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('close');
    child.on('close', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

function occupiedPort(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
const portOf = (server: Server) => (server.address() as { port: number }).port;

describe('npm run local', () => {
  let home: string;
  let local: { child: ChildProcessWithoutNullStreams; output: string };
  let exports: Record<string, string>;
  let shellEnv: Record<string, string>;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'local-home-'));
    local = await startLocal(['--bucket', 'my-backups'], cleanEnv({ HOME: home }));
    exports = Object.fromEntries([...local.output.matchAll(/^export (\w+)=(\S+)$/gm)].map((match) => [match[1] as string, match[2] as string]));
    shellEnv = cleanEnv({ HOME: home, ...exports });
  });
  afterAll(async () => {
    if (local) expect(await stop(local.child)).toBe(0);
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('exports only service-specific endpoints (KMS, S3, DynamoDB, Lambda) and credentials the local S3 accepts (items 13, 15)', () => {
    expect(Object.keys(exports)).toEqual(
      expect.arrayContaining(['AWS_ENDPOINT_URL_KMS', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_LAMBDA', 'POLICY_TABLE_NAME', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'KMS_KEY_ID']),
    );
    expect(exports).not.toHaveProperty('AWS_ENDPOINT_URL');
  });

  it('docs/local-kms.md names every variable it exports (issue 28 item 5)', () => {
    const section = readFileSync(join(REPO_ROOT, 'docs', 'local-kms.md'), 'utf8').split('### `npm run local`')[1]?.split('| option |')[0] ?? '';
    for (const name of Object.keys(exports)) expect({ name, documented: section.includes(`\`${name}`) }).toEqual({ name, documented: true });
  });

  it('serves both signer Lambdas on the printed Invoke endpoint, counting spending limits in the printed policy table (issue 25)', async () => {
    const listing = await runProcess('bash', ['-c', 'aws dynamodb describe-table --table-name $POLICY_TABLE_NAME --query Table.KeySchema --output text'], REPO_ROOT, { env: shellEnv });
    expect(listing.stdout.trim().split('\n')).toEqual(['pk\tHASH', 'sk\tRANGE']);
    for (const kind of ['eip1559', 'legacy']) {
      const status = await runProcess('bash', ['-c', `npm run --silent invoke -- examples/events/status.json --function ${kind}`], REPO_ROOT, { env: shellEnv });
      expect({ kind, code: status.code, stderr: status.stderr }).toEqual({ kind, code: 0, stderr: '' });
      expect(local.output).toContain(`with address ${(JSON.parse(status.stdout) as { address: string }).address}`);
    }
    const denied = await runProcess('bash', ['-c', `echo '{"operation":"bogus"}' | npm run --silent invoke -- -`], REPO_ROOT, { env: shellEnv });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^InvalidRequestError: Invalid request \(1 problem\): operation must be/);
  });

  it('every example command runs as printed, in a fresh shell with those exports (item 14)', async () => {
    const commands = local.output.split('Then, for example, from this repository:\n')[1]?.split('\n\n')[0]?.split('\n').map((line) => line.trim()) ?? [];
    expect(commands.length).toBeGreaterThanOrEqual(6);
    for (const command of commands) {
      const result = await runProcess('bash', ['-c', command], REPO_ROOT, { env: shellEnv });
      expect({ command, code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ command, code: 0, stderr: '' });
    }
    const address = await runProcess('bash', ['-c', 'npx cast wallet address --aws'], REPO_ROOT, { env: shellEnv });
    expect(local.output).toContain(`with address ${address.stdout.trim()}`);
  });

  it('the backup commands it prints store a backup in the local S3, which recover reads back (item 15)', async () => {
    const backupCommands = local.output.split('Backups to the local S3, as in docs/backup.md:\n')[1]?.trim().split('\n').map((line) => line.trim()) ?? [];
    expect(backupCommands).toHaveLength(2);
    for (const command of backupCommands) {
      const result = await runProcess('bash', ['-c', command], REPO_ROOT, { env: shellEnv, timeoutMs: 60_000 });
      expect({ command, code: result.code, stderr: result.stderr }).toMatchObject({ command, code: 0 });
    }
    const listing = await runProcess('bash', ['-c', 'aws s3 ls s3://my-backups --recursive --endpoint-url $AWS_ENDPOINT_URL_S3'], REPO_ROOT, { env: shellEnv });
    const objectKey = /(\S+\/recovery_shard-0\.txt)/.exec(listing.stdout)?.[1];
    expect(objectKey).toBeDefined();
    const recovered = await runProcess(
      'bash',
      ['-c', `npm run --silent recover -- --backup s3://my-backups/${objectKey} --recovery-private-key ~/eth-recovery-local/recovery-private.pem --out ~/eth-keys-local/recovered.hex --kms-key-id alias/test-1`],
      REPO_ROOT,
      { env: shellEnv },
    );
    expect(recovered.stderr).toBe('');
    expect(recovered.stdout).toMatch(/addresses match/);
  });
});

describe('ports and mistakes (item 9)', () => {
  it('npm run local --kms-port/--anvil-port/--s3-port/--dynamodb-port/--lambda-port use the ports given', async () => {
    const ports = await Promise.all([occupiedPort(), occupiedPort(), occupiedPort(), occupiedPort(), occupiedPort()]);
    const numbers = ports.map(portOf);
    await Promise.all(ports.map((server) => new Promise((resolve) => server.close(resolve))));
    const flags = ['--kms-port', '--anvil-port', '--s3-port', '--dynamodb-port', '--lambda-port'].flatMap((flag, index) => [flag, String(numbers[index])]);
    const local = await startLocal(flags, cleanEnv());
    try {
      expect(local.output).toContain(`export AWS_ENDPOINT_URL_KMS=http://127.0.0.1:${numbers[0]}`);
      expect(local.output).toContain(`export ETH_RPC_URL=http://127.0.0.1:${numbers[1]}`);
      expect(local.output).toContain(`export AWS_ENDPOINT_URL_S3=http://127.0.0.1:${numbers[2]}`);
      expect(local.output).toContain(`export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:${numbers[3]}`);
      expect(local.output).toContain(`export AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:${numbers[4]}`);
    } finally {
      expect(await stop(local.child)).toBe(0);
    }
  });

  it.each([
    ['kms.ts', ['--help'], 0, /Usage: npm run kms/],
    ['local.ts', ['--help'], 0, /Usage: npm run local.*--data-dir DIR/s],
    ['kms.ts', ['--port', 'abc'], 2, /--port must be a port number from 0 to 65535/],
    ['kms.ts', ['--prot', '1'], 2, /Unknown option '--prot'/],
    ['local.ts', ['--anvil-port', '70000'], 2, /--anvil-port must be a port number/],
    ['invoke.ts', ['--help'], 0, /Usage: npm run invoke -- EVENT\.json/],
    ['invoke.ts', [], 2, /give exactly one event file \(or - for standard input\), got 0/],
    ['invoke.ts', ['no-such-event.json'], 2, /cannot read the event file no-such-event\.json \(ENOENT\)/],
    ['invoke.ts', ['package.json', '--timeout-ms', '0'], 2, /--timeout-ms must be a whole number of milliseconds/],
  ])('%s %j: exit %i, no stack trace', async (script, argv, code, message) => {
    const result = await runScript(script, argv);
    expect(result.code).toBe(code);
    expect(result.stdout + result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    ['kms.ts', '--port'],
    ['local.ts', '--kms-port'],
    ['local.ts', '--anvil-port'],
    ['local.ts', '--s3-port'],
    ['local.ts', '--dynamodb-port'],
    ['local.ts', '--lambda-port'],
  ])('%s %s with a port in use: exit 1, says so, no stack trace, nothing left running', async (script, flag) => {
    const server = await occupiedPort();
    try {
      const result = await runScript(script, [flag, String(portOf(server))], { timeoutMs: 60_000 });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`port ${portOf(server)}.* already in use.*choose another port`));
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
