import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { HDNodeWallet, Mnemonic, Wallet } from 'ethers';
import { ANVIL_CHAIN_ID, DEV_ACCOUNTS, DEV_MNEMONIC, foundryBinary, startAnvil, waitForReceipt } from '../../../scripts/local-chain';

describe('local chain tooling', () => {
  it.each(DEV_ACCOUNTS.map((account, index) => [index, account] as const))('dev account %i: key, address and mnemonic path agree', (index, account) => {
    expect(new Wallet(account.privateKey).address).toBe(account.address);
    expect(HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`).address).toBe(account.address);
  });

  it('finds anvil and cast in their npm platform packages', async () => {
    for (const tool of ['anvil', 'cast'] as const) {
      const { stdout } = await promisify(execFile)(foundryBinary(tool), ['--version']);
      expect(stdout).toMatch(new RegExp(`${tool} Version: \\d+\\.\\d+`));
    }
  });

  it('starts anvil on a free loopback port with funded dev accounts, and close() ends the process', async () => {
    const [a, b] = await Promise.all([startAnvil(), startAnvil()]);
    expect(a.rpcUrl).not.toBe(b.rpcUrl);
    expect(a.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(BigInt(await a.provider.send('eth_chainId', []))).toBe(ANVIL_CHAIN_ID);
    expect(await a.provider.getBalance(DEV_ACCOUNTS[0].address)).toBe(10_000n * 10n ** 18n);
    const anvilsOnPort = async (rpcUrl: string) => {
      const { stdout } = await promisify(execFile)('ps', ['-eo', 'args=']);
      return stdout.split('\n').filter((line) => line.includes(foundryBinary('anvil')) && line.includes(`--port ${new URL(rpcUrl).port} `));
    };
    expect(await anvilsOnPort(a.rpcUrl)).toHaveLength(1);
    await Promise.all([a.close(), b.close()]);
    await expect(fetch(a.rpcUrl, { method: 'POST' })).rejects.toThrow();
    expect(await anvilsOnPort(a.rpcUrl)).toEqual([]);
    expect(await anvilsOnPort(b.rpcUrl)).toEqual([]);
  });

  it('answers eth_chainId 31337 over plain JSON-RPC', async () => {
    const anvil = await startAnvil();
    try {
      const response = await fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }) });
      expect(await response.json()).toMatchObject({ result: '0x7a69' });
    } finally {
      await anvil.close();
    }
  });

  describe('waitForReceipt', () => {
    it('finds the receipt of a block mined while it waits, without waiting for a later block, and stops when its signal aborts', async () => {
      // No automine: the block comes only when asked for, and no block comes after it (the case ethers' wait() can miss).
      const anvil = await startAnvil(['--no-mining']);
      try {
        const wallet = new Wallet(DEV_ACCOUNTS[0].privateKey, anvil.provider);
        const { hash } = await wallet.sendTransaction({ to: DEV_ACCOUNTS[1].address, value: 1n });
        await expect(waitForReceipt(anvil.provider, hash, { signal: AbortSignal.timeout(200) })).rejects.toMatchObject({ name: 'TimeoutError' });
        const waiting = waitForReceipt(anvil.provider, hash, { timeoutMs: 10_000 });
        await anvil.provider.send('evm_mine', []);
        await expect(waiting).resolves.toMatchObject({ hash, status: 1 });
      } finally {
        await anvil.close();
      }
    });
  });
});
