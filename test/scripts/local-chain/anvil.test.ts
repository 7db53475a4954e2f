import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { HDNodeWallet, Mnemonic, Wallet } from 'ethers';
import { ANVIL_CHAIN_ID, DEV_ACCOUNTS, DEV_MNEMONIC, foundryBinary, startAnvil } from '../../../scripts/local-chain';

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
    await Promise.all([a.close(), b.close()]);
    await expect(fetch(a.rpcUrl, { method: 'POST' })).rejects.toThrow();
  });
});
