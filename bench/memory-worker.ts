// Child process: signs N transactions through the handler with KMS in memory, then reports its peak RSS.
// Run bundled (see bundle.ts) as: node --expose-gc index.mjs <answers.json> <count>
import { readFileSync } from 'node:fs';
import { createHandler } from '../lambdas/handler';
import { deserializeAnswers } from './answers';
import { BENCH_HANDLER_ENV } from './handler-env';
import { createInProcessKms } from './in-process-kms';
import { benchTransactions } from './transactions';

async function main(): Promise<void> {
  const [answersPath = '', countArg = '1000'] = process.argv.slice(2);
  const count = Number(countArg);
  const answers = deserializeAnswers(JSON.parse(readFileSync(answersPath, 'utf8')));
  const transactions = benchTransactions(count);
  Object.assign(process.env, BENCH_HANDLER_ENV);
  const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
  const handler = createHandler('eip1559', { client: createInProcessKms(answers.publicKey, answers.signatures).client });
  let afterFirstMb = 0;
  for (const [i, { event }] of transactions.entries()) {
    await handler(event);
    if (i === 0) afterFirstMb = process.memoryUsage().rss / 2 ** 20;
  }
  // maxRSS is in kibibytes on Linux: the peak over the whole process life, which is what Lambda bills against.
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const heapUsedMb = process.memoryUsage().heapUsed / 2 ** 20;
  process.stdout.write(`${JSON.stringify({ signatures: count, rssBeforeMb, rssAfterFirstMb: afterFirstMb, peakRssMb, heapUsedMb })}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
