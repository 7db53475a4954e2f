import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { execTransactionData, packSignatures, safeTx, safeTxHash } from '../../safe/safe-tx';
import { KNOWN_KEYS } from '../fixtures/known-keys';
import { runScript } from '../helpers/cli-process';

const SAFE = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
let dir: string;
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'safe-cli-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run safe', () => {
  it('writes the request, its hash, and the execTransaction call from two owners\' responses (files relative to the user\'s directory)', async () => {
    const request = await runScript('safe.ts', ['request', '--safe', SAFE, '--chain-id', '1', '--to', TO, '--value', '1000', '--nonce', '3']);
    expect(request).toMatchObject({ code: 0, stderr: '' });
    writeFileSync(join(dir, 'request.json'), request.stdout);
    const tx = safeTx({ to: TO, value: 1000n, nonce: 3n });
    const hash = safeTxHash(SAFE, 1n, tx);
    await expect(runScript('safe.ts', ['hash', 'request.json'], { userDir: dir })).resolves.toMatchObject({ code: 0, stdout: `${hash}\n` });

    const owners = KNOWN_KEYS.slice(0, 2).map((key) => new Wallet(key.privateKey));
    const responses = owners.map((wallet, i) => {
      const response = { signature: wallet.signingKey.sign(hash).serialized, address: wallet.address, digest: hash };
      writeFileSync(join(dir, `owner-${i}.json`), JSON.stringify(response));
      return { owner: wallet.address, signature: response.signature };
    });
    const exec = await runScript('safe.ts', ['exec', 'request.json', 'owner-1.json', 'owner-0.json'], { userDir: dir });
    expect(exec.code).toBe(0);
    expect(JSON.parse(exec.stdout)).toEqual({ to: SAFE, data: execTransactionData(tx, packSignatures(responses)), safeTxHash: hash, signatures: packSignatures(responses) });
  });

  it('refuses a response that does not sign this SafeTx, and names the owner (exit 1)', async () => {
    const request = await runScript('safe.ts', ['request', '--safe', SAFE, '--chain-id', '1', '--to', TO, '--nonce', '4']);
    writeFileSync(join(dir, 'request-4.json'), request.stdout);
    const wallet = new Wallet(KNOWN_KEYS[0].privateKey);
    const stale = wallet.signingKey.sign(safeTxHash(SAFE, 1n, safeTx({ to: TO, nonce: 3n }))).serialized;
    writeFileSync(join(dir, 'stale.json'), JSON.stringify({ signature: stale, address: wallet.address }));
    await expect(runScript('safe.ts', ['exec', 'request-4.json', 'stale.json'], { userDir: dir })).resolves.toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(new RegExp(`^error: the signature from ${wallet.address} does not sign SafeTx 0x[0-9a-f]{64}`)),
    });
  });

  it.each<[string, string[], RegExp]>([
    ['an unknown command', ['bogus'], /unknown command "bogus"/],
    ['a bad address', ['request', '--safe', '0x12', '--chain-id', '1', '--to', TO, '--nonce', '0'], /--safe must be an address/],
    ['no nonce and no RPC URL', ['request', '--safe', SAFE, '--chain-id', '1', '--to', TO], /give --nonce N, or --rpc-url URL/],
    ['operation 2', ['request', '--safe', SAFE, '--chain-id', '1', '--to', TO, '--nonce', '0', '--operation', '2'], /--operation must be 0 \(CALL\) or 1 \(DELEGATECALL\)/],
    ['odd-length data', ['request', '--safe', SAFE, '--chain-id', '1', '--to', TO, '--nonce', '0', '--data', '0xabc'], /--data must be 0x-prefixed hex/],
    ['exec without responses', ['exec', 'request.json'], /exec takes REQUEST.json and at least one RESPONSE.json/],
  ])('refuses %s as a usage error (exit 2)', async (_label, argv, message) => {
    await expect(runScript('safe.ts', argv, { userDir: dir })).resolves.toMatchObject({ code: 2, stderr: expect.stringMatching(message) });
  });
});
