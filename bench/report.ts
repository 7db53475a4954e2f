// The markdown tables that `npm run bench` prints and docs/performance.md shows.
import type { BenchResults } from './benchmark';
import { networkModelMarkdown } from './network-model';
import type { Summary } from './stats';

const ms = (value: number | undefined, digits = 2): string => (value === undefined || Number.isNaN(value) ? 'n/a' : `${value.toFixed(digits)} ms`);
const distribution = (s: Summary | undefined, digits = 2): string =>
  s ? `${ms(s.median, digits)} (p99 ${ms(s.p99, digits)}, min ${ms(s.min, digits)}, n=${s.n})` : 'n/a';
const verdict = (met: boolean): string => (met ? 'met' : '**missed**');

/** Renders the results as two markdown tables (side by side with peers, then ours alone) and a machine line. */
export function toMarkdown(results: BenchResults): string {
  const [ours, ...peers] = results.overhead;
  const contenders = results.overhead.map((c) => `\`${c.name}\``);
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const lines = [
    row(['per signature, KMS answered in-process', ...contenders, 'target']),
    row(['---', ...contenders.map(() => '---'), '---']),
    row(['local overhead: median (p99, min, n)', ...results.overhead.map((c) => distribution(c.latencyMs, 3)), `≤ 1.0 ms: ${verdict((ours?.latencyMs.median ?? Infinity) <= 1)}`]),
    row(['spread of per-round medians (noise)', ...results.overhead.map((c) => `${c.roundSpreadPercent.toFixed(0)} % over ${c.roundMediansMs.length} rounds`), '']),
    row(['peer median / our median', '1.00×', ...peers.map((p) => `${(results.speedup[p.name] ?? Number.NaN).toFixed(2)}×`), `≥ 2×: ${verdict(peers.every((p) => (results.speedup[p.name] ?? 0) >= 2))}`]),
    row(['KMS calls: cold / warm', ...results.overhead.map((c) => `${c.kmsCalls.cold} / ${c.kmsCalls.warm.toFixed(2)}`), `warm = 1: ${verdict(ours?.kmsCalls.warm === 1)}`]),
    '',
    ...clientCpuTable(results),
    row(['kms-eth-signer Lambda', 'value', 'target']),
    row(['---', '---', '---']),
  ];
  for (const cold of results.coldStart) {
    lines.push(row([`bundle \`${cold.bundle}\` with its chunks`, `${(cold.bytes / 1000).toFixed(0)} KB (${cold.bytes} bytes)`, `≤ 700 KB: ${verdict(cold.bytes <= 700_000)}`]));
  }
  for (const cold of results.coldStart) {
    lines.push(row([`init: \`import()\` of \`${cold.bundle}\` in a fresh node`, distribution(cold.importMs, 1), `≤ 80 ms: ${verdict(cold.importMs.median <= 80)}`]));
    lines.push(row([`init of \`${cold.bundle}\` / bare \`import('@aws-sdk/client-kms')\` (same run, medians)`, `${(results.initRatio[cold.bundle] ?? Number.NaN).toFixed(2)}×`, '']));
    lines.push(row([`node process start to module ready (\`${cold.bundle}\`)`, distribution(cold.processToReadyMs, 1), '']));
    if (cold.firstInvocationMs) lines.push(row(['first invocation (GetPublicKey + Sign over HTTP to the local KMS)', distribution(cold.firstInvocationMs, 1), '']));
  }
  lines.push(row(["reference: bare `import('@aws-sdk/client-kms')` in a fresh node", distribution(results.initReferenceMs, 1), '']));
  for (const [name, summary] of Object.entries(results.policyEvaluation)) {
    const budgeted = !name.startsWith('implicit deny');
    lines.push(row([`signing policy (100 rules, 1,000 addresses): ${name}`, distribution(summary, 4), budgeted ? `≤ 0.1 ms: ${verdict(summary.median <= 0.1)}` : '']));
  }
  const memory = results.memory;
  lines.push(row([`peak RSS over ${memory.signatures} signatures (fresh process)`, `${memory.peakRssMb.toFixed(1)} MB (${memory.rssBeforeMb.toFixed(1)} MB before the first)`, `≤ 128 MB: ${verdict(memory.peakRssMb <= 128)}`]));
  if (Array.isArray(results.throughput)) {
    for (const t of results.throughput) {
      lines.push(row([`throughput, concurrency ${t.concurrency} (SDK over HTTP to the local KMS)`, `${t.perSecond.toFixed(0)} sig/s (${t.signatures} in ${t.seconds.toFixed(2)} s)`, '']));
    }
  } else {
    lines.push(row(['throughput on the local stack', `skipped: ${results.throughput.skipped}`, '']));
  }
  lines.push('', 'skipped' in results.networkModel ? `Network model: skipped (${results.networkModel.skipped}).` : networkModelMarkdown(results.networkModel));
  const m = results.machine;
  lines.push('', `Measured ${results.date.slice(0, 16).replace('T', ' ')} UTC on ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, Node ${m.node} ${m.platform}, load average ${m.loadAverage1m} at start${results.quick ? ' (QUICK smoke run: figures are meaningless)' : ''}.`);
  return lines.join('\n');
}

/** The client CPU table (contenders through the local KMS over HTTP), or a line saying why it is missing. */
function clientCpuTable(results: BenchResults): string[] {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  if (!Array.isArray(results.clientCpu)) return [`Client CPU over HTTP: skipped: ${results.clientCpu.skipped}`, ''];
  const cpu = results.clientCpu;
  const peer = '@rumblefishdev/eth-signer-kms';
  const goal = results.clientCpuRatio[peer] ?? Number.NaN;
  return [
    row(['per signature, local KMS over HTTP in another process', ...cpu.map((c) => `\`${c.name}\``), 'target']),
    row(['---', ...cpu.map(() => '---'), '---']),
    row(['client CPU (`process.cpuUsage`): median of rounds (min, max, rounds)', ...cpu.map((c) => `${ms(c.cpuMs.median, 3)} (${ms(c.cpuMs.min, 3)}, ${ms(c.cpuMs.max, 3)}, n=${c.cpuMs.n})`), '']),
    row(['spread of per-round CPU (noise)', ...cpu.map((c) => `${c.roundSpreadPercent.toFixed(0)} %`), '']),
    row(['our CPU / theirs', '1.00×', ...cpu.slice(1).map((c) => `${(results.clientCpuRatio[c.name] ?? Number.NaN).toFixed(2)}×`), `≤ 0.35× ${peer}: ${verdict(goal <= 0.35)}`]),
    row(['wall time (includes the local KMS): median of rounds', ...cpu.map((c) => ms(c.wallMs.median, 3)), '']),
    '',
  ];
}
