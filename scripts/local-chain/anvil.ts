import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { JsonRpcProvider } from 'ethers';
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

/** Starts anvil on a free loopback port (it has no port 0) and waits until it answers JSON-RPC. */
export async function startAnvil(extraArgs: string[] = []): Promise<Anvil> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(foundryBinary('anvil'), ['--host', '127.0.0.1', '--port', String(port), '--silent', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const rpcUrl = `http://127.0.0.1:${port}`;
    const provider = new JsonRpcProvider(rpcUrl, Number(ANVIL_CHAIN_ID), { staticNetwork: true, pollingInterval: 50 });
    try {
      await waitUntilReady(provider, child, () => stderr);
      return { rpcUrl, chainId: ANVIL_CHAIN_ID, provider, close: () => stop(child, provider) };
    } catch (error) {
      lastError = error;
      await stop(child, provider); // most likely the port was taken between our check and anvil's bind
    }
  }
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
