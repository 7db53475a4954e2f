// A smoke check that `npm run bench` runs and writes results of the documented shape; never a timing assertion.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

describe('bench/run.ts --quick', () => {
  it('prints the markdown tables and writes results.json with every measurement', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'bench-test-')), 'results.json');
    const tsx = join(process.cwd(), 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const { stdout } = await run(process.execPath, [tsx, 'bench/run.ts', '--quick', '--out', out], { timeout: 170_000 });

    const results = JSON.parse(readFileSync(out, 'utf8'));
    expect(results.quick).toBe(true);
    expect(results.overhead.map((c: { name: string }) => c.name)).toEqual([
      'kms-eth-signer (handler)',
      '@rumblefishdev/eth-signer-kms',
      'naive baseline',
    ]);
    for (const contender of results.overhead) {
      expect(contender.latencyMs).toEqual(expect.objectContaining({ n: 8, median: expect.any(Number), p99: expect.any(Number) }));
    }
    expect(results.overhead[0].kmsCalls).toEqual({ cold: 2, warm: 1 });
    expect(results.overhead[2].kmsCalls).toEqual({ cold: 2, warm: 2 });
    expect(results.coldStart).toHaveLength(2);
    expect(results.coldStart[0]).toEqual(expect.objectContaining({ bundle: 'dist/eip1559/index.mjs', bytes: expect.any(Number) }));
    expect(results.memory).toEqual(expect.objectContaining({ signatures: 10, peakRssMb: expect.any(Number) }));
    expect(results.throughput.map((t: { concurrency: number; signatures: number }) => [t.concurrency, t.signatures])).toEqual([[1, 8], [8, 8], [32, 8]]);
    expect(results.networkModel).toEqual({ skipped: expect.stringContaining('quick') }); // minutes long: full runs only
    expect(results.coldStart[0].firstInvocationMs).toEqual(expect.objectContaining({ n: 1 }));
    expect(results.initReferenceMs).toEqual(expect.objectContaining({ n: 1, median: expect.any(Number) }));
    expect(Object.keys(results.initRatio)).toEqual(['dist/eip1559/index.mjs', 'dist/legacy/index.mjs']);
    expect(results.clientCpu.map((c: { name: string; cpuMs: { n: number } }) => [c.name, c.cpuMs.n])).toEqual([
      ['kms-eth-signer (handler)', 2],
      ['@rumblefishdev/eth-signer-kms', 2],
      ['naive baseline', 2],
      ['bare SignCommand', 2],
    ]);
    for (const contender of results.clientCpu) expect(contender.cpuMs.median).toBeGreaterThan(0);
    expect(Object.keys(results.clientCpuRatio)).toEqual(['@rumblefishdev/eth-signer-kms', 'naive baseline', 'bare SignCommand']);

    expect(stdout).toContain('| local overhead: median (p99, min, n) |');
    expect(stdout).toContain('| KMS calls: cold / warm |');
    expect(stdout).toContain('peak RSS over 10 signatures');
    expect(stdout).toContain('QUICK smoke run');
    expect(Object.values(results.policyEvaluation)).toEqual(Array(3).fill(expect.objectContaining({ n: 20, median: expect.any(Number) })));
    expect(stdout).toContain('| signing policy (100 rules, 1,000 addresses): allowed by the last address rule');
    expect(stdout).toContain('| our CPU / theirs | 1.00× |');
    expect(stdout).toContain("reference: bare `import('@aws-sdk/client-kms')` in a fresh node");
    expect(stdout).toContain('| throughput, concurrency 32 (SDK over HTTP to the local KMS) |');
  }, 180_000);
});
