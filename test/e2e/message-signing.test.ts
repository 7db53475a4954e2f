// End to end for signMessage, signTypedData and signAuthorization: the signer handlers -> the real AWS SDK over
// HTTP -> the local KMS, with the signatures checked by independent software: ethers, Foundry's cast, and
// contracts on anvil (prague) that must accept them (an OpenZeppelin ERC-20 permit, an EIP-7702 delegation,
// a 2-of-3 multisig). Nothing here is mocked.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, ContractFactory, NonceManager, parseEther, verifyMessage, verifyTypedData, Wallet, type TypedDataField } from 'ethers';
import { createHandler, type SignerHandler } from '../../lambdas/handler';
import type { MessageSignResponse } from '../../lambdas/operations/message-signing';
import type { MessagesDocument } from '../../lambdas/policy/message-policy';
import { DEV_ACCOUNTS, runCast } from '../../scripts/local-chain';
import { lambdaContext } from '../../scripts/local-stack/lambda-context';
import { createSigningKey, startLocalStack, type LocalStack } from '../../scripts/local-stack/stack';
import { compileSolidity, type CompiledContract } from '../helpers/solidity';
import { E2E_CONTRACTS } from './contracts.sol';

const SAFE_TX_TYPES: Record<string, TypedDataField[]> = {
  SafeTx: [{ name: 'to', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'data', type: 'bytes' }, { name: 'nonce', type: 'uint256' }],
};
const PERMIT_TYPES: Record<string, TypedDataField[]> = {
  Permit: [
    { name: 'owner', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'value', type: 'uint256' },
    { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' },
  ],
};
const MAIL_TYPES: Record<string, TypedDataField[]> = {
  Person: [{ name: 'name', type: 'string' }, { name: 'wallet', type: 'address' }],
  Mail: [{ name: 'from', type: 'Person' }, { name: 'to', type: 'Person' }, { name: 'contents', type: 'string' }],
};

describe('message operations on the local stack (local KMS, anvil prague, ethers, cast)', () => {
  let stack: LocalStack;
  let contracts: Map<string, CompiledContract>;
  let deployer: NonceManager;
  let chainId: bigint;
  const owners: Array<{ alias: string; keyId: string; address: string; handler: SignerHandler }> = [];
  let token: Contract;
  let delegate: Contract;
  let safe: Contract;
  let directory: string;
  let policyFile: string;

  /** A handler for one KMS key, configured from the environment on its first invocation, as on Lambda. */
  function handlerFor(alias: string): SignerHandler {
    const handler = createHandler('eip1559', { client: stack.kmsClient });
    return async (event) => {
      Object.assign(process.env, { KMS_KEY_ID: alias, ETH_NETWORK: String(chainId), LOG_LEVEL: 'SILENT', SIGNING_POLICY_FILE: policyFile });
      return handler(event, lambdaContext('eth-signer-eip1559'));
    };
  }
  const sign = async (index: number, event: Record<string, unknown>) => (await owners[index]!.handler(event)) as MessageSignResponse;
  const kms = () => owners[0]!;

  async function deploy(name: string, ...args: unknown[]): Promise<Contract> {
    const { abi, bytecode } = contracts.get(name)!;
    const contract = await new ContractFactory(abi, bytecode, deployer).deploy(...args);
    await contract.waitForDeployment();
    return contract as Contract;
  }

  beforeAll(async () => {
    [stack, contracts] = await Promise.all([startLocalStack({ anvilArgs: ['--hardfork', 'prague'] }), Promise.resolve().then(() => compileSolidity(E2E_CONTRACTS))]);
    chainId = stack.anvil.chainId;
    // One nonce counter for the deployments that follow each other quickly.
    deployer = new NonceManager(new Wallet(DEV_ACCOUNTS[0].privateKey, stack.anvil.provider));
    const keys = await Promise.all([0, 1, 2].map((i) => createSigningKey(stack.kmsClient, `alias/e2e-messages-${i}`)));
    const { KmsSigner } = await import('../../lambdas/signer/kms-signer');
    const addresses = await Promise.all(keys.map(({ keyId }) => new KmsSigner({ keyId, client: stack.kmsClient }).getAddress()));

    token = await deploy('PermitToken', addresses[0], parseEther('1000'));
    delegate = await deploy('Delegate');
    safe = await deploy('MiniSafe', addresses, 2);
    await (await deployer.sendTransaction({ to: await safe.getAddress(), value: parseEther('5') })).wait();

    // The signing policy the three handlers run with, as a file (SIGNING_POLICY_FILE) as on Lambda.
    const messages: MessagesDocument = {
      signMessage: { allow: true, prefixes: ['kms-eth-signer e2e'] },
      signTypedData: [
        { id: 'mail', primaryType: 'Mail', domain: { name: 'Ether Mail' } },
        { id: 'permit', primaryType: 'Permit', domain: { name: 'Permit Token', version: '1', chainId: Number(chainId), verifyingContract: [await token.getAddress()] }, permit: { maxValue: '100 ether', spenders: [DEV_ACCOUNTS[1].address], maxDeadlineSeconds: 3600 } },
        { id: 'safe', primaryType: 'SafeTx', domain: { name: 'MiniSafe', version: '1', chainId: Number(chainId), verifyingContract: [await safe.getAddress()] } },
      ],
      signAuthorization: { delegates: [await delegate.getAddress()] },
    };
    directory = mkdtempSync(join(tmpdir(), 'e2e-messages-'));
    policyFile = join(directory, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ version: 1, rules: [{ id: 'no-transactions', effect: 'deny' }], messages }));
    keys.forEach(({ keyId }, i) => owners.push({ alias: `alias/e2e-messages-${i}`, keyId, address: addresses[i]!, handler: handlerFor(`alias/e2e-messages-${i}`) }));
  }, 60_000);
  afterAll(async () => {
    process.env.SIGNING_POLICY_FILE = 'examples/policies/allow-all.json';
    if (directory) rmSync(directory, { recursive: true, force: true });
    await stack?.close();
  });

  describe('signMessage', () => {
    const text = 'kms-eth-signer e2e: sign in';

    it('returns a signature that ethers and cast wallet verify both accept for the KMS address', async () => {
      const response = await sign(0, { operation: 'signMessage', message: text });
      expect(response.address).toBe(kms().address);
      expect(verifyMessage(text, response.signature)).toBe(kms().address);
      await expect(runCast(['wallet', 'verify', '--address', kms().address, text, response.signature])).resolves.toMatch(/Validation succeeded/);
      await expect(runCast(['wallet', 'verify', '--address', owners[1]!.address, text, response.signature])).rejects.toThrow(/Validation failed/);
    });

    it('signs 0x-hex as bytes, as cast does', async () => {
      const response = await sign(0, { operation: 'signMessage', message: '0x6b6d732d6574682d7369676e657220653265' }); // "kms-eth-signer e2e"
      await expect(runCast(['wallet', 'verify', '--address', kms().address, '0x6b6d732d6574682d7369676e657220653265', response.signature])).resolves.toMatch(/succeeded/);
    });

    it('agrees with cast wallet sign --aws on the same KMS key: both recover to the same address', async () => {
      const castSignature = await runCast(['wallet', 'sign', '--aws', text], { ...stack.awsEnv, AWS_KMS_KEY_ID: kms().keyId });
      const ours = await sign(0, { operation: 'signMessage', message: text });
      expect(verifyMessage(text, castSignature)).toBe(kms().address);
      expect(verifyMessage(text, ours.signature)).toBe(verifyMessage(text, castSignature));
    });

    it('refuses a message the policy does not allow, and signs nothing', async () => {
      await expect(sign(0, { operation: 'signMessage', message: 'transfer everything' })).rejects.toMatchObject({ name: 'PolicyDeniedError' });
    });
  });

  describe('signTypedData', () => {
    const mail = () => ({
      domain: { name: 'Ether Mail', version: '1', chainId: Number(chainId), verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
      primaryType: 'Mail',
      message: { from: { name: 'KMS', wallet: kms().address }, to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' }, contents: 'Hello, Bob!' },
    });
    const withDomainType = (types: Record<string, TypedDataField[]>) => ({
      EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' }, { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }],
      ...types,
    });

    it('returns a signature that ethers verifyTypedData and cast wallet verify --data accept', async () => {
      const { domain, primaryType, message } = mail();
      const response = await sign(0, { operation: 'signTypedData', domain, types: withDomainType(MAIL_TYPES), primaryType, message });
      expect(verifyTypedData(domain, MAIL_TYPES, message, response.signature)).toBe(kms().address);
      const json = JSON.stringify({ domain, types: withDomainType(MAIL_TYPES), primaryType, message });
      await expect(runCast(['wallet', 'verify', '--data', '--address', kms().address, json, response.signature])).resolves.toMatch(/Validation succeeded/);
    });

    it('agrees with cast wallet sign --aws --data on the same KMS key', async () => {
      const { domain, primaryType, message } = mail();
      const json = JSON.stringify({ domain, types: withDomainType(MAIL_TYPES), primaryType, message });
      const castSignature = await runCast(['wallet', 'sign', '--aws', '--data', json], { ...stack.awsEnv, AWS_KMS_KEY_ID: kms().keyId });
      expect(verifyTypedData(domain, MAIL_TYPES, message, castSignature)).toBe(kms().address);
      const ours = await sign(0, { operation: 'signTypedData', domain, types: MAIL_TYPES, primaryType, message });
      expect(verifyTypedData(domain, MAIL_TYPES, message, ours.signature)).toBe(kms().address);
    });

    it('signs an EIP-2612 permit that the OpenZeppelin ERC-20 accepts on anvil; the spender then moves the tokens', async () => {
      const spender = new NonceManager(new Wallet(DEV_ACCOUNTS[1].privateKey, stack.anvil.provider));
      const spenderAddress = await spender.getAddress();
      const value = parseEther('25');
      const deadline = BigInt((await stack.anvil.provider.getBlock('latest'))!.timestamp) + 600n;
      const domain = { name: 'Permit Token', version: '1', chainId: chainId.toString(), verifyingContract: await token.getAddress() };
      const message = { owner: kms().address, spender: spenderAddress, value: value.toString(), nonce: (await token.getFunction('nonces')(kms().address)).toString(), deadline: deadline.toString() };
      const response = await sign(0, { operation: 'signTypedData', domain, types: PERMIT_TYPES, primaryType: 'Permit', message });

      const asSpender = token.connect(spender) as Contract;
      await (await asSpender.getFunction('permit')(kms().address, spenderAddress, value, deadline, response.v, response.r, response.s)).wait();
      expect(await token.getFunction('allowance')(kms().address, spenderAddress)).toBe(value);
      await (await asSpender.getFunction('transferFrom')(kms().address, spenderAddress, value)).wait();
      expect(await token.getFunction('balanceOf')(spenderAddress)).toBe(value);
    });

    it('refuses a permit above the policy cap before KMS is asked', async () => {
      const domain = { name: 'Permit Token', version: '1', chainId: chainId.toString(), verifyingContract: await token.getAddress() };
      const message = { owner: kms().address, spender: DEV_ACCOUNTS[1].address, value: parseEther('101').toString(), nonce: 1, deadline: 1 };
      await expect(sign(0, { operation: 'signTypedData', domain, types: PERMIT_TYPES, primaryType: 'Permit', message })).rejects.toMatchObject({
        name: 'PolicyDeniedError',
        message: expect.stringMatching(/Permit.value 101000000000000000000 exceeds the cap 100000000000000000000/),
      });
    });

    it('has a 2-of-3 multisig execute a transfer signed by its three KMS-key owners through the Lambda, and refuses one signature', async () => {
      const safeAddress = await safe.getAddress();
      const recipient = Wallet.createRandom().address;
      // Reads at a given block: ethers may answer a repeated identical call from its short-lived cache.
      const safeNonce = async (blockTag: number | 'latest') => (await safe.getFunction('nonce')({ blockTag })) as bigint;
      const safeTx = async (blockTag: number | 'latest') => ({ to: recipient, value: parseEther('1').toString(), data: '0x', nonce: (await safeNonce(blockTag)).toString() });
      const domain = { name: 'MiniSafe', version: '1', chainId: chainId.toString(), verifyingContract: safeAddress };
      const signAll = async (message: Record<string, unknown>, who: number[]) => {
        const signed = await Promise.all(who.map(async (i) => ({ owner: owners[i]!.address, response: await sign(i, { operation: 'signTypedData', domain, types: SAFE_TX_TYPES, primaryType: 'SafeTx', message }) })));
        for (const { owner, response } of signed) expect(verifyTypedData(domain, SAFE_TX_TYPES, message, response.signature)).toBe(owner);
        // Safe's rule: signatures sorted by owner address.
        return signed.sort((a, b) => (BigInt(a.owner) < BigInt(b.owner) ? -1 : 1)).map((s) => s.response.signature);
      };

      const first = await safeTx('latest');
      const receipt = await (await safe.getFunction('execTransaction')(first.to, first.value, first.data, await signAll(first, [0, 1, 2]))).wait();
      expect(await stack.anvil.provider.getBalance(recipient, receipt!.blockNumber)).toBe(parseEther('1'));

      const second = await safeTx(receipt!.blockNumber);
      // staticCall: a reverted send would still use up a nonce in the deployer's NonceManager.
      await expect(safe.getFunction('execTransaction').staticCall(second.to, second.value, second.data, await signAll(second, [2]))).rejects.toThrow(/not enough signatures/);
      const last = await (await safe.getFunction('execTransaction')(second.to, second.value, second.data, await signAll(second, [0, 2]))).wait();
      expect(await safeNonce(last!.blockNumber)).toBe(2n);
    });
  });

  describe('signAuthorization', () => {
    it('signs an EIP-7702 delegation that anvil (prague) accepts in a type 4 transaction; the EOA then runs the delegated code', async () => {
      const eoa = kms().address;
      const delegateAddress = await delegate.getAddress();
      const nonce = await stack.anvil.provider.getTransactionCount(eoa);
      const response = await sign(0, { operation: 'signAuthorization', address: delegateAddress, nonce });
      const { authorization } = response;
      expect(authorization).toMatchObject({ address: delegateAddress, chainId: chainId.toString(), nonce: String(nonce) });

      // A sponsor sends the type 4 transaction carrying the KMS account's authorization.
      const sponsor = new NonceManager(new Wallet(DEV_ACCOUNTS[2].privateKey, stack.anvil.provider));
      const tx = await sponsor.sendTransaction({
        type: 4,
        to: eoa,
        authorizationList: [{ address: authorization!.address, nonce: BigInt(authorization!.nonce), chainId: BigInt(authorization!.chainId), signature: { r: authorization!.r, s: authorization!.s, yParity: authorization!.yParity } }],
        data: delegate.interface.encodeFunctionData('run', [7]),
        gasLimit: 200_000,
      });
      const receipt = await tx.wait();
      expect(receipt?.status).toBe(1);
      expect(await stack.anvil.provider.getCode(eoa)).toBe(`0xef0100${delegateAddress.slice(2).toLowerCase()}`);

      // The EOA runs Delegate's code against its own storage.
      const asDelegate = new Contract(eoa, delegate.interface, sponsor);
      await (await asDelegate.getFunction('run')(5)).wait();
      expect(await asDelegate.getFunction('counter')()).toBe(12n);
      expect(await delegate.getFunction('counter')()).toBe(0n);
    });

    it('refuses a delegation to a contract the policy does not list', async () => {
      await expect(sign(0, { operation: 'signAuthorization', address: await token.getAddress(), nonce: 0 })).rejects.toMatchObject({
        name: 'PolicyDeniedError',
        message: expect.stringMatching(/not in signAuthorization.delegates/),
      });
    });

    it('refuses chain id 0 (every chain) unless the policy allows it', async () => {
      await expect(sign(0, { operation: 'signAuthorization', address: await delegate.getAddress(), nonce: 0, chainId: 0 })).rejects.toMatchObject({
        name: 'PolicyDeniedError',
        message: expect.stringMatching(/valid on every chain/),
      });
    });
  });
});
