// End to end for signMessage, signTypedData and signAuthorization: the signer handlers -> the real AWS SDK over
// HTTP -> the local KMS, with the signatures checked by independent software: ethers, Foundry's cast, and
// contracts on anvil (prague) that must accept them (an OpenZeppelin ERC-20 permit, an EIP-7702 delegation,
// a real Safe 1.4.1 2-of-3 multisig from the npm artifacts), and viem and eth-sig-util. Nothing here is mocked.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Contract, ContractFactory, getAddress, getBytes, NonceManager, parseEther, verifyMessage, verifyTypedData, Wallet, ZeroAddress, type InterfaceAbi, type TypedDataField } from 'ethers';
import { recoverTypedSignature, SignTypedDataVersion } from '@metamask/eth-sig-util';
import { hashTypedData, verifyTypedData as viemVerifyTypedData } from 'viem';
import { execTransactionData, packSignatures, SAFE_TX_TYPES, safeTx, safeTxHash, safeTxSignRequest, type OwnerSignature, type SafeTx } from '../../safe/safe-tx';
import { createHandler, type SignerHandler } from '../../lambdas/handler';
import type { MessageSignResponse } from '../../lambdas/operations/message-signing';
import type { MessagesDocument } from '../../lambdas/policy/message-policy';
import { DEV_ACCOUNTS, runCast } from '../../scripts/local-chain';
import { lambdaContext } from '../../scripts/local-stack/lambda-context';
import { createSigningKey, startLocalStack, type LocalStack } from '../../scripts/local-stack/stack';
import { compileSolidity, type CompiledContract } from '../helpers/solidity';
import { startLocalDynamoDb, type LocalDynamoDb } from '../helpers/dynalite';
import { createPolicyState } from '../../lambdas/policy-state/runtime';
import type { PolicyState } from '../../lambdas/policy-state/runtime';
import { runScript } from '../helpers/cli-process';
import { E2E_CONTRACTS } from './contracts.sol';

const artifact = (path: string) => createRequire(__filename)(`@safe-global/safe-contracts/build/artifacts/contracts/${path}`) as { abi: InterfaceAbi; bytecode: string };
const PERMIT_TYPES: Record<string, TypedDataField[]> = {
  Permit: [
    { name: 'owner', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'value', type: 'uint256' },
    { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' },
  ],
};
const PERMIT_DOMAIN_TYPE = {
  EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' }, { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }],
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
  let dynamo: LocalDynamoDb;
  let policyState: PolicyState;
  const kmsSignCalls: string[] = [];

  /** A handler for one KMS key, configured from the environment on its first invocation, as on Lambda. */
  function handlerFor(alias: string): SignerHandler {
    // The spending store over the real SDK to dynalite: a SafeTx counts against the key's limits.
    const handler = createHandler('eip1559', { client: stack.kmsClient, policyState });
    return async (event) => {
      Object.assign(process.env, { KMS_KEY_ID: alias, ETH_NETWORK: String(chainId), LOG_LEVEL: 'SILENT', SIGNING_POLICY_FILE: policyFile });
      return handler(event, lambdaContext('eth-signer-eip1559'));
    };
  }
  const sign = async (index: number, event: Record<string, unknown>) => (await owners[index]!.handler(event)) as MessageSignResponse;
  const kms = () => owners[0]!;

  /** A Safe 1.4.1 proxy (singleton + SafeProxyFactory from the npm artifacts) with these owners and threshold. */
  async function deploySafe(ownerAddresses: string[], threshold: number): Promise<Contract> {
    const singletonArtifact = artifact('Safe.sol/Safe.json');
    const factoryArtifact = artifact('proxies/SafeProxyFactory.sol/SafeProxyFactory.json');
    const singleton = await new ContractFactory(singletonArtifact.abi, singletonArtifact.bytecode, deployer).deploy();
    const factory = (await new ContractFactory(factoryArtifact.abi, factoryArtifact.bytecode, deployer).deploy()) as Contract;
    await Promise.all([singleton.waitForDeployment(), factory.waitForDeployment()]);
    const setup = singleton.interface.encodeFunctionData('setup', [ownerAddresses, threshold, ZeroAddress, '0x', ZeroAddress, ZeroAddress, 0, ZeroAddress]);
    const create = factory.getFunction('createProxyWithNonce');
    const proxy = (await create.staticCall(await singleton.getAddress(), setup, 1)) as string;
    await (await create(await singleton.getAddress(), setup, 1)).wait();
    return new Contract(proxy, singletonArtifact.abi, deployer);
  }

  async function deploy(name: string, ...args: unknown[]): Promise<Contract> {
    const { abi, bytecode } = contracts.get(name)!;
    const contract = await new ContractFactory(abi, bytecode, deployer).deploy(...args);
    await contract.waitForDeployment();
    return contract as Contract;
  }

  beforeAll(async () => {
    [stack, contracts, dynamo] = await Promise.all([startLocalStack({ anvilArgs: ['--hardfork', 'prague'] }), Promise.resolve().then(() => compileSolidity(E2E_CONTRACTS)), startLocalDynamoDb()]);
    policyState = createPolicyState({ tableName: dynamo.tableName, idempotency: false, idempotencyWindowSeconds: 3600, callTimeoutMs: 3000 }, dynamo.client);
    stack.kmsClient.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'SignCommand') kmsSignCalls.push(String((args.input as { KeyId?: string }).KeyId));
      return next(args);
    }, { step: 'finalizeRequest', name: 'countKmsSignCalls' });
    chainId = stack.anvil.chainId;
    // One nonce counter for the deployments that follow each other quickly.
    deployer = new NonceManager(new Wallet(DEV_ACCOUNTS[0].privateKey, stack.anvil.provider));
    const keys = await Promise.all([0, 1, 2].map((i) => createSigningKey(stack.kmsClient, `alias/e2e-messages-${i}`)));
    const { KmsSigner } = await import('../../lambdas/signer/kms-signer');
    const addresses = await Promise.all(keys.map(({ keyId }) => new KmsSigner({ keyId, client: stack.kmsClient }).getAddress()));

    token = await deploy('PermitToken', addresses[0], parseEther('1000'));
    delegate = await deploy('Delegate');
    safe = await deploySafe(addresses, 2);
    await (await deployer.sendTransaction({ to: await safe.getAddress(), value: parseEther('5') })).wait();

    // The signing policy the three handlers run with, as a file (SIGNING_POLICY_FILE) as on Lambda.
    const messages: MessagesDocument = {
      signMessage: { allow: true, prefixes: ['kms-eth-signer e2e'] },
      signTypedData: [
        { id: 'mail', primaryType: 'Mail', domain: { name: 'Ether Mail' } },
        { id: 'permit', primaryType: 'Permit', domain: { name: 'Permit Token', version: '1', chainId: Number(chainId), verifyingContract: [await token.getAddress()] }, permit: { maxValue: '100 ether', spenders: [DEV_ACCOUNTS[1].address], maxDeadlineSeconds: 3600 } },
        { id: 'safe', primaryType: 'SafeTx', domain: { chainId: Number(chainId), verifyingContract: [await safe.getAddress()] }, safeTransaction: true },
      ],
      signAuthorization: { delegates: [await delegate.getAddress()] },
    };
    directory = mkdtempSync(join(tmpdir(), 'e2e-messages-'));
    policyFile = join(directory, 'policy.json');
    // The transaction rules govern what a SafeTx makes the Safe send: payments of at most 1 ether.
    // and every key may authorize at most 2.5 ether a day, counted in dynalite.
    writeFileSync(policyFile, JSON.stringify({ version: 1, limits: [{ name: 'daily-value', window: '24h', maxValue: '2.5 ether' }], rules: [{ id: 'payments-up-to-1-ether', effect: 'allow', maxValue: '1 ether', maxDataBytes: 0 }], messages }));
    keys.forEach(({ keyId }, i) => owners.push({ alias: `alias/e2e-messages-${i}`, keyId, address: addresses[i]!, handler: handlerFor(`alias/e2e-messages-${i}`) }));
  }, 60_000);
  afterAll(async () => {
    process.env.SIGNING_POLICY_FILE = 'examples/policies/allow-all.json';
    if (directory) rmSync(directory, { recursive: true, force: true });
    await Promise.all([stack?.close(), dynamo?.close()]);
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

    it('signs 0x-hex as bytes with encoding "hex", as cast does', async () => {
      const response = await sign(0, { operation: 'signMessage', message: '0x6b6d732d6574682d7369676e657220653265', encoding: 'hex' }); // "kms-eth-signer e2e"
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

    it('returns a signature that ethers verifyTypedData, eth-sig-util (V4), viem and cast wallet verify --data accept', async () => {
      const { domain, primaryType, message } = mail();
      const response = await sign(0, { operation: 'signTypedData', domain, types: withDomainType(MAIL_TYPES), primaryType, message });
      expect(verifyTypedData(domain, MAIL_TYPES, message, response.signature)).toBe(kms().address);
      // MetaMask's library (eth_signTypedData_v4) and viem recover the same address from the same JSON.
      const typedData = { domain, types: withDomainType(MAIL_TYPES), primaryType, message } as never;
      expect(getAddress(recoverTypedSignature({ data: typedData, signature: response.signature, version: SignTypedDataVersion.V4 }))).toBe(kms().address);
      await expect(viemVerifyTypedData({ ...(typedData as object), address: kms().address, signature: response.signature } as never)).resolves.toBe(true);
      const json = JSON.stringify({ domain, types: withDomainType(MAIL_TYPES), primaryType, message });
      await expect(runCast(['wallet', 'verify', '--data', '--address', kms().address, json, response.signature])).resolves.toMatch(/Validation succeeded/);
    });

    it('agrees with cast wallet sign --aws --data on the same KMS key', async () => {
      const { domain, primaryType, message } = mail();
      const json = JSON.stringify({ domain, types: withDomainType(MAIL_TYPES), primaryType, message });
      const castSignature = await runCast(['wallet', 'sign', '--aws', '--data', json], { ...stack.awsEnv, AWS_KMS_KEY_ID: kms().keyId });
      expect(verifyTypedData(domain, MAIL_TYPES, message, castSignature)).toBe(kms().address);
      const ours = await sign(0, { operation: 'signTypedData', domain, types: withDomainType(MAIL_TYPES), primaryType, message });
      expect(verifyTypedData(domain, MAIL_TYPES, message, ours.signature)).toBe(kms().address);
    });

    it('signs an EIP-2612 permit that the OpenZeppelin ERC-20 accepts on anvil; the spender then moves the tokens', async () => {
      const spender = new NonceManager(new Wallet(DEV_ACCOUNTS[1].privateKey, stack.anvil.provider));
      const spenderAddress = await spender.getAddress();
      const value = parseEther('25');
      const deadline = BigInt((await stack.anvil.provider.getBlock('latest'))!.timestamp) + 600n;
      const domain = { name: 'Permit Token', version: '1', chainId: chainId.toString(), verifyingContract: await token.getAddress() };
      const message = { owner: kms().address, spender: spenderAddress, value: value.toString(), nonce: (await token.getFunction('nonces')(kms().address)).toString(), deadline: deadline.toString() };
      const response = await sign(0, { operation: 'signTypedData', domain, types: { ...PERMIT_DOMAIN_TYPE, ...PERMIT_TYPES }, primaryType: 'Permit', message });

      const asSpender = token.connect(spender) as Contract;
      await (await asSpender.getFunction('permit')(kms().address, spenderAddress, value, deadline, response.v, response.r, response.s)).wait();
      expect(await token.getFunction('allowance')(kms().address, spenderAddress)).toBe(value);
      await (await asSpender.getFunction('transferFrom')(kms().address, spenderAddress, value)).wait();
      expect(await token.getFunction('balanceOf')(spenderAddress)).toBe(value);
    });

    it('refuses a permit above the policy cap before KMS is asked', async () => {
      const domain = { name: 'Permit Token', version: '1', chainId: chainId.toString(), verifyingContract: await token.getAddress() };
      const message = { owner: kms().address, spender: DEV_ACCOUNTS[1].address, value: parseEther('101').toString(), nonce: 1, deadline: 1 };
      await expect(sign(0, { operation: 'signTypedData', domain, types: { ...PERMIT_DOMAIN_TYPE, ...PERMIT_TYPES }, primaryType: 'Permit', message })).rejects.toMatchObject({
        name: 'PolicyDeniedError',
        message: expect.stringMatching(/Permit.value 101000000000000000000 exceeds the cap 100000000000000000000/),
      });
    });

  });

  describe('Safe 1.4.1 (singleton and proxy factory from the npm artifacts) with three KMS-key owners, threshold 2', () => {
    // Reads at the latest block without ethers' short-lived cache (a repeated identical call may be answered from it).
    const safeNonce = async (blockTag: number | 'latest' = 'latest') => (await safe.getFunction('nonce')({ blockTag })) as bigint;
    const safeAddress = () => safe.getAddress();
    /** Each owner signs the SafeTx through its signer Lambda (signTypedData); checked with viem and eth-sig-util. */
    async function signBy(tx: SafeTx, who: number[]): Promise<OwnerSignature[]> {
      const event = safeTxSignRequest(await safeAddress(), chainId, tx);
      return Promise.all(who.map(async (i) => {
        const response = await sign(i, event);
        const typedData = { domain: event.domain, types: SAFE_TX_TYPES, primaryType: 'SafeTx', message: event.message } as never;
        expect(getAddress(recoverTypedSignature({ data: typedData, signature: response.signature, version: SignTypedDataVersion.V4 }))).toBe(owners[i]!.address);
        await expect(viemVerifyTypedData({ ...(typedData as object), address: owners[i]!.address, signature: response.signature } as never)).resolves.toBe(true);
        return { owner: owners[i]!.address, signature: response.signature };
      }));
    }
    /** execTransaction sent by a relayer (any account); a staticCall first, so that a revert costs no nonce. */
    async function execute(tx: SafeTx, signatures: string) {
      const data = execTransactionData(tx, signatures);
      await stack.anvil.provider.call({ to: await safeAddress(), data, from: DEV_ACCOUNTS[2].address });
      const relayer = new Wallet(DEV_ACCOUNTS[2].privateKey, stack.anvil.provider);
      return (await relayer.sendTransaction({ to: await safeAddress(), data })).wait();
    }
    const revertOf = async (tx: SafeTx, signatures: string) =>
      stack.anvil.provider.call({ to: await safeAddress(), data: execTransactionData(tx, signatures), from: DEV_ACCOUNTS[2].address }).then(() => 'no revert', (error: Error) => error.message);

    it('computes the SafeTx hash exactly as Safe.getTransactionHash, viem, eth-sig-util and the Lambda do', async () => {
      const tx = safeTx({ to: Wallet.createRandom().address, value: parseEther('0.5'), nonce: await safeNonce() });
      const onChain = (await safe.getFunction('getTransactionHash')(tx.to, tx.value, tx.data, tx.operation, tx.safeTxGas, tx.baseGas, tx.gasPrice, tx.gasToken, tx.refundReceiver, tx.nonce)) as string;
      const event = safeTxSignRequest(await safeAddress(), chainId, tx);
      expect(safeTxHash(await safeAddress(), chainId, tx)).toBe(onChain);
      expect(hashTypedData({ domain: event.domain, types: SAFE_TX_TYPES, primaryType: 'SafeTx', message: event.message } as never)).toBe(onChain);
      expect((await sign(0, event)).digest).toBe(onChain);
    });

    it('executes a transfer with two of the three KMS owners signing through the Lambdas, sorted and packed by the helper', async () => {
      const recipient = Wallet.createRandom().address;
      const tx = safeTx({ to: recipient, value: parseEther('1'), nonce: await safeNonce() });
      const receipt = await execute(tx, packSignatures(await signBy(tx, [2, 0])));
      expect(receipt?.status).toBe(1);
      expect(await stack.anvil.provider.getBalance(recipient, receipt!.blockNumber)).toBe(parseEther('1'));
      expect(await safeNonce(receipt!.blockNumber)).toBe(tx.nonce + 1n);
    });

    it("executes with one owner's eth_sign signature of the SafeTx hash (KmsSigner.signMessage of its bytes), packed with v + 4", async () => {
      const recipient = Wallet.createRandom().address;
      const tx = safeTx({ to: recipient, value: parseEther('0.25'), nonce: await safeNonce() });
      const hash = safeTxHash(await safeAddress(), chainId, tx);
      const { KmsSigner } = await import('../../lambdas/signer/kms-signer');
      const ethSign = await new KmsSigner({ keyId: owners[1]!.keyId, client: stack.kmsClient }).signMessage(getBytes(hash));
      expect(verifyMessage(getBytes(hash), ethSign)).toBe(owners[1]!.address);
      const typed = await signBy(tx, [0]);
      const receipt = await execute(tx, packSignatures([...typed, { owner: owners[1]!.address, signature: ethSign, kind: 'ethSign' }]));
      expect(await stack.anvil.provider.getBalance(recipient, receipt!.blockNumber)).toBe(parseEther('0.25'));
    });

    it('executes what npm run safe prints: request -> each owner\'s Lambda -> exec -> sent by a relayer', async () => {
      const recipient = Wallet.createRandom().address;
      const request = await runScript('safe.ts', ['request', '--safe', await safeAddress(), '--chain-id', chainId.toString(), '--to', recipient, '--value', parseEther('0.1').toString(), '--rpc-url', stack.anvil.rpcUrl], { userDir: directory });
      expect(request).toMatchObject({ code: 0, stderr: '' });
      writeFileSync(join(directory, 'safe-request.json'), request.stdout);
      for (const i of [0, 1]) writeFileSync(join(directory, `safe-response-${i}.json`), JSON.stringify(await sign(i, JSON.parse(request.stdout) as Record<string, unknown>)));
      const exec = await runScript('safe.ts', ['exec', 'safe-request.json', 'safe-response-1.json', 'safe-response-0.json'], { userDir: directory });
      expect(exec.code).toBe(0);
      const call = JSON.parse(exec.stdout) as { to: string; data: string };
      const relayer = new Wallet(DEV_ACCOUNTS[2].privateKey, stack.anvil.provider);
      const receipt = await (await relayer.sendTransaction(call)).wait();
      expect(await stack.anvil.provider.getBalance(recipient, receipt!.blockNumber)).toBe(parseEther('0.1'));
    });

    it('is refused by Safe with one signature (GS020), a non-owner (GS026) and a repeated owner (GS026)', async () => {
      const tx = safeTx({ to: Wallet.createRandom().address, value: 1n, nonce: await safeNonce() });
      const [first, second] = await signBy(tx, [0, 1]);
      expect(await revertOf(tx, packSignatures([first!]))).toMatch(/GS020/);
      const stranger = Wallet.createRandom();
      const strangers = await stranger.signTypedData({ chainId, verifyingContract: await safeAddress() }, { SafeTx: [...SAFE_TX_TYPES.SafeTx!] }, { ...tx });
      expect(await revertOf(tx, packSignatures([first!, { owner: stranger.address, signature: strangers }]))).toMatch(/GS026/);
      // The helper refuses a repeated owner; packed by hand, Safe refuses it too.
      expect(() => packSignatures([first!, first!])).toThrow(/signed twice/);
      expect(await revertOf(tx, `${first!.signature}${first!.signature.slice(2)}`)).toMatch(/GS026/);
      expect(await revertOf(tx, packSignatures([first!, second!]))).toBe('no revert');
    });

    it("counts each SafeTx against the signing key's spending limit (dynalite) and refuses, before KMS, the one that would exceed it", async () => {
      // A fourth KMS key: the limit is the key's whoever owns the Safe, and this key has signed nothing yet.
      await createSigningKey(stack.kmsClient, 'alias/e2e-messages-limit');
      const limited = handlerFor('alias/e2e-messages-limit');
      const nonce = await safeNonce();
      const request = (n: bigint) => safeTxSignRequest(safe.target as string, chainId, safeTx({ to: Wallet.createRandom().address, value: parseEther('1'), nonce: nonce + n }));
      await expect(limited(request(0n))).resolves.toMatchObject({ digest: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
      await expect(limited(request(1n))).resolves.toMatchObject({ digest: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
      const signsBefore = kmsSignCalls.length;
      await expect(limited(request(2n))).rejects.toMatchObject({ name: 'SpendingLimitExceededError', message: expect.stringMatching(/daily-value/) });
      expect(kmsSignCalls.length).toBe(signsBefore);
    });

    it('refuses, before KMS, a SafeTx whose transaction the transaction rules do not allow (over 1 ether, DELEGATECALL, a gas refund)', async () => {
      const nonce = await safeNonce();
      const over = safeTx({ to: Wallet.createRandom().address, value: parseEther('2'), nonce });
      await expect(sign(0, safeTxSignRequest(await safeAddress(), chainId, over))).rejects.toMatchObject({
        name: 'PolicyDeniedError',
        message: expect.stringMatching(/safe: the SafeTx's transaction \(to 0x[0-9a-fA-F]{40}, value 2000000000000000000\) is not allowed by the transaction rules: no rule allowed the transaction; closest: rule "payments-up-to-1-ether": maxValue/),
      });
      const delegateCall = safeTx({ to: await delegate.getAddress(), operation: 1, nonce });
      await expect(sign(0, safeTxSignRequest(await safeAddress(), chainId, delegateCall))).rejects.toMatchObject({ message: expect.stringMatching(/DELEGATECALL/) });
      const refund = safeTx({ to: Wallet.createRandom().address, value: 1n, gasPrice: 1n, refundReceiver: DEV_ACCOUNTS[2].address, nonce });
      await expect(sign(0, safeTxSignRequest(await safeAddress(), chainId, refund))).rejects.toMatchObject({ message: expect.stringMatching(/gas refund/) });
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
