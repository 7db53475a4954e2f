// Foundry's cast, an independent KMS signer implementation (Rust AWS SDK), against our local KMS: proves the
// emulator is faithful to KMS, not tuned to our own signer.
import { parseEther, Wallet } from 'ethers';
import { KmsSigner } from '../../../lambdas/signer/kms-signer';
import { DEV_ACCOUNTS, runCast } from '../../../scripts/local-chain';
import { createSigningKey, startLocalStack, type LocalStack } from '../../../scripts/local-stack/stack';

describe('cast --aws against the local KMS', () => {
  let stack: LocalStack;
  let keyId: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    stack = await startLocalStack();
    ({ keyId } = await createSigningKey(stack.kmsClient));
    env = { ...stack.awsEnv, AWS_KMS_KEY_ID: keyId };
  });
  afterAll(() => stack.close());

  it("derives the same address as our signer's status", async () => {
    const ours = await new KmsSigner({ keyId, client: stack.kmsClient }).getAddress();
    expect(await runCast(['wallet', 'address', '--aws'], env)).toBe(ours);
  });

  it('signs a transfer through the local KMS that anvil mines from the KMS address', async () => {
    const address = await runCast(['wallet', 'address', '--aws'], env);
    await (await new Wallet(DEV_ACCOUNTS[0].privateKey, stack.anvil.provider).sendTransaction({ to: address, value: parseEther('1') })).wait();
    const output = await runCast(['send', '--aws', '--rpc-url', stack.anvil.rpcUrl, '--json', DEV_ACCOUNTS[2].address, '--value', '12345'], env);
    const receipt = JSON.parse(output) as { status: string; from: string; transactionHash: string };
    expect(receipt.status).toBe('0x1');
    expect(receipt.from.toLowerCase()).toBe(address.toLowerCase());
    const mined = await stack.anvil.provider.getTransaction(receipt.transactionHash);
    expect(mined?.value).toBe(12345n);
  }, 60_000);
});
