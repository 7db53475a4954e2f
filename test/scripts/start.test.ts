// `npm start` is the README's first command: it must run the whole flow on the local stack and clean up.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Process ids of orphaned anvil nodes: a node left behind by an exited `npm start` is reparented to PID 1.
 * Other test files (run in parallel by Jest) start anvil nodes too; theirs have a live parent, so they do
 * not count (counting every anvil on the machine failed whenever another test started one meanwhile).
 */
async function anvilProcesses(): Promise<string[]> {
  const { stdout } = await run('ps', ['-eo', 'pid=,ppid=,args=']);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, ppid, ...args]) => ppid === '1' && /\/anvil$/.test(args[0] ?? '') && args[1] === '--host')
    .map(([pid]) => pid!);
}

describe('npm start (scripts/start.ts with the built Lambda bundles)', () => {
  beforeAll(() => {
    if (!existsSync('dist/eip1559/index.mjs')) throw new Error('dist/ is missing: npm test runs npm run build before jest');
  });

  it('signs with both Lambdas through the local KMS, gets both transfers mined, shows a transfer the policy refuses, agrees with cast, exits 0 and leaves no process behind', async () => {
    const before = await anvilProcesses();
    const { stdout } = await run('npx', ['tsx', 'scripts/start.ts'], { timeout: 120_000, env: { ...process.env, LOG_LEVEL: 'WARN' } });
    const address = /KMS address\s+(0x[0-9a-fA-F]{40})/.exec(stdout)?.[1];
    expect(address).toBeDefined();
    expect(stdout).toContain(`cast --aws address   ${address}`);
    expect(stdout).toMatch(/eip1559\s+2\s+0x[0-9a-f]{64}\s+\d+\s+21000/);
    expect(stdout).toMatch(/legacy\s+0\s+0x[0-9a-f]{64}\s+\d+\s+21000/);
    expect(stdout).toMatch(new RegExp(`signMessage +"kms-eth-signer demo: hello from KMS" +verified: recovers to ${address}`));
    expect(stdout).toMatch(new RegExp(`signTypedData +EIP-712 Mail +verified: recovers to ${address}`));
    expect(stdout).toMatch(/denied {4}0\.5 ETH by the eip1559 signer: PolicyDeniedError: no rule allowed the transaction; closest: rule "small-transfers-to-dev-account-1": maxValue \(value 500000000000000000 is more than maxValue 50000000000000000\)/);
    expect(stdout).toMatch(/balance of the KMS address {2}1\.0 ETH -> 0\.97/);
    expect(await anvilProcesses()).toEqual(before);
  }, 150_000);
});
