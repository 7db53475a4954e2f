// Throughput on the local stack: signatures per second through the handler, the SDK and HTTP to a local KMS.
import type { SignerHandler } from '../lambdas/handler';

/** Signatures per second at one concurrency. */
export interface ThroughputResult {
  readonly concurrency: number;
  readonly signatures: number;
  readonly seconds: number;
  readonly perSecond: number;
}

/**
 * Keeps `concurrency` invocations in flight until `count` signatures are done (one handler, as one warm
 * Lambda would serve them; several Lambdas would be several processes). Every event is signed once.
 */
export async function measureThroughput(
  handler: SignerHandler,
  events: readonly unknown[],
  concurrency: number,
): Promise<ThroughputResult> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < events.length; i = next++) {
      const response = await handler(events[i]);
      if (!('signedTransaction' in response)) throw new Error('the handler did not sign');
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { concurrency, signatures: events.length, seconds, perSecond: events.length / seconds };
}
