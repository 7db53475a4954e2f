import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { FetchRequest, JsonRpcProvider, type TransactionReceipt } from 'ethers';
import { foundryBinary } from './binaries';
import { ANVIL_CHAIN_ID } from './dev-accounts';

/** A running anvil node. */
export interface Anvil {
  readonly rpcUrl: string;
  readonly chainId: bigint;
  readonly provider: JsonRpcProvider;
  close(): Promise<void>;
}

const running = new Set<ChildProcess>();
// Never leave a node behind, whatever way this process ends.
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/**
 * Starts anvil on loopback and waits until it answers JSON-RPC: on `options.port`, or (anvil has no port 0)
 * on a port found free, retried if another process takes it first.
 */
export async function startAnvil(extraArgs: string[] = [], options: { port?: number } = {}): Promise<Anvil> {
  let lastError: unknown;
  const fixed = options.port !== undefined && options.port !== 0;
  // A fixed port held by another anvil would answer our readiness probe: check it is free first.
  if (fixed && !(await portIsFree(options.port as number))) throw new PortInUseError('anvil', options.port as number);
  for (let attempt = 0; attempt < (fixed ? 1 : 5); attempt++) {
    const port = fixed ? (options.port as number) : await freePort();
    const child = spawn(foundryBinary('anvil'), ['--host', '127.0.0.1', '--port', String(port), '--silent', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const rpcUrl = `http://127.0.0.1:${port}`;
    // A dev chain changes every few milliseconds: no 250 ms result cache (it answered a stale nonce right after
    // a transaction was mined), and a request anvil never answers fails after 30 s instead of ethers' 5 minutes.
    const request = new FetchRequest(rpcUrl);
    request.timeout = 30_000;
    const provider = new JsonRpcProvider(request, Number(ANVIL_CHAIN_ID), { staticNetwork: true, pollingInterval: 50, cacheTimeout: -1 });
    try {
      await waitUntilReady(provider, child, () => stderr);
      return { rpcUrl, chainId: ANVIL_CHAIN_ID, provider, close: () => stop(child, provider) };
    } catch (error) {
      lastError = error;
      await stop(child, provider); // most likely the port was taken between our check and anvil's bind
    }
  }
  if (fixed && /in use/i.test(String(lastError))) throw new PortInUseError('anvil', options.port as number);
  throw new Error(`anvil did not start: ${String(lastError)}`);
}

async function waitUntilReady(provider: JsonRpcProvider, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`anvil exited with ${child.exitCode}: ${stderr()}`);
    try {
      await provider.send('eth_chainId', []);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error('anvil did not answer within 15 s');
}

async function stop(child: ChildProcess, provider: JsonRpcProvider): Promise<void> {
  provider.destroy();
  running.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** True if nothing listens on the loopback port (a bind to it succeeds). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A port asked for is taken by another process. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(readonly service: string, readonly port: number) {
    super(`port ${port} (for ${service}) is already in use, perhaps by another npm run local or npm run kms: stop that, or choose another port (0 picks a free one)`);
  }
}

/**
 * Waits for a transaction's receipt by asking for it every 20 ms. Not ethers' `wait()`: anvil answers
 * eth_sendRawTransaction before it mines, and when the block lands between wait()'s receipt check and the start
 * of its block polling, wait() waits for a next block that automine never makes (about 1 in 400 on a busy machine).
 */
export async function waitForReceipt(provider: JsonRpcProvider, hash: string, { signal, timeoutMs = 60_000 }: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<TransactionReceipt> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) return receipt;
    if (Date.now() > deadline) throw new Error(`no receipt for ${hash} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
