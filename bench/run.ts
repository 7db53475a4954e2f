// `npm run bench` (add `--quick` or BENCH_QUICK=1 for a smoke run, `--out FILE` to write elsewhere).
import { writeFileSync } from 'node:fs';
import { FULL_PLAN, QUICK_PLAN, runBenchmark } from './benchmark';
import { startBenchLocalKms } from './local-stack';
import { toMarkdown } from './report';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick') || process.env.BENCH_QUICK === '1';
  const outIndex = args.indexOf('--out');
  const out = (outIndex >= 0 ? args[outIndex + 1] : undefined) ?? 'bench/results.json';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const results = await runBenchmark(quick ? QUICK_PLAN : FULL_PLAN, {
    quick,
    startLocalKms: startBenchLocalKms,
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${toMarkdown(results)}\n`);
  process.stderr.write(`bench: wrote ${out}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
