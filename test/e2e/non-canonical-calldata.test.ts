// Why non-canonical calldata must fail closed (issue 22, item 1): an OpenZeppelin 5 ERC-20 on anvil executes
// an approve or transfer with trailing bytes that the ABI decoder calls non-canonical, and an ABI-coder-v1
// token executes a dirty address word, while the signer's policy refuses that calldata (KMS is never asked)
// and still signs the canonical call, which anvil mines.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Contract, ContractFactory, getAddress, NonceManager, parseEther, Wallet } from 'ethers';
import { createHandler, type SignerHandler } from '../../lambdas/handler';
import { evaluatePolicy, loadPolicy } from '../../lambdas/policy';
import type { SignResponse } from '../../lambdas/operations/response';
import { DEV_ACCOUNTS } from '../../scripts/local-chain';
import { lambdaContext } from '../../scripts/local-stack/lambda-context';
import { createSigningKey, startLocalStack, type LocalStack } from '../../scripts/local-stack/stack';
import { eip1559Transfer } from '../helpers/policy-requests';
import { rejectionOf } from '../helpers/rejection';
import { compileSolidity } from '../helpers/solidity';
import { E2E_CONTRACTS } from './contracts.sol';

const ATTACKER = getAddress('0xbadbadbadbadbadbadbadbadbadbadbadbadbadb');
// A token compiled with ABI coder v1, which does not check that an address argument's high 12 bytes are zero:
// it masks them, so a dirty recipient word pays the address in its low 20 bytes.
const V1_TOKEN = `
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;
pragma abicoder v1;

contract V1Token {
    mapping(address => uint256) public balanceOf;

    constructor(address holder, uint256 supply) {
        balanceOf[holder] = supply;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
        return true;
    }
}
`;
const UINT256_MAX = 2n ** 256n - 1n;

describe('non-canonical calldata on anvil (OpenZeppelin 5 ERC-20) and through the signer', () => {
  let stack: LocalStack;
  let holder: NonceManager;
  let token: Contract;
  let tokenAddress: string;
  let handler: SignerHandler;
  let directory: string;
  const signCalls: string[] = [];

  beforeAll(async () => {
    const [started, contracts] = await Promise.all([startLocalStack(), Promise.resolve().then(() => compileSolidity(E2E_CONTRACTS))]);
    stack = started;
    holder = new NonceManager(new Wallet(DEV_ACCOUNTS[0].privateKey, stack.anvil.provider));
    const { abi, bytecode } = contracts.get('PermitToken')!;
    token = (await new ContractFactory(abi, bytecode, holder).deploy(DEV_ACCOUNTS[0].address, parseEther('1000'))) as Contract;
    await token.waitForDeployment();
    tokenAddress = await token.getAddress();

    await createSigningKey(stack.kmsClient, 'alias/non-canonical');
    stack.kmsClient.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'SignCommand') signCalls.push('Sign');
      return next(args);
    }, { step: 'finalizeRequest', name: 'countSignCalls' });
    directory = mkdtempSync(join(tmpdir(), 'e2e-non-canonical-'));
    const policyFile = join(directory, 'policy.json');
    // examples/policies/hot-wallet.json, for this token on anvil's chain.
    writeFileSync(policyFile, JSON.stringify({
      version: 1,
      rules: [
        { id: 'no-unlimited-approve', effect: 'deny', calls: [{ function: 'approve(address spender, uint256 amount)', args: { amount: { min: '1000.000000000000000001 ether' } } }] },
        { id: 'token-calls', effect: 'allow', chainId: Number(stack.anvil.chainId), to: [tokenAddress], selector: ['transfer(address,uint256)', 'approve(address,uint256)'] },
      ],
    }));
    const inner = createHandler('eip1559', { client: stack.kmsClient });
    handler = (event) => {
      Object.assign(process.env, { KMS_KEY_ID: 'alias/non-canonical', ETH_NETWORK: String(stack.anvil.chainId), LOG_LEVEL: 'SILENT', SIGNING_POLICY_FILE: policyFile });
      return inner(event, lambdaContext('eth-signer-eip1559')).finally(() => {
        process.env.SIGNING_POLICY_FILE = 'examples/policies/allow-all.json';
      });
    };
  }, 120_000);
  afterAll(async () => {
    if (directory) rmSync(directory, { recursive: true, force: true });
    await stack?.close();
  });

  const approveMax = () => token.interface.encodeFunctionData('approve', [ATTACKER, UINT256_MAX]);

  it('the token executes an unlimited approve with 32 trailing bytes: the allowance becomes 2^256-1', async () => {
    const receipt = await (await holder.sendTransaction({ to: tokenAddress, data: `${approveMax()}${'00'.repeat(32)}` })).wait();
    expect(receipt?.status).toBe(1);
    expect(await token.getFunction('allowance')(DEV_ACCOUNTS[0].address, ATTACKER)).toBe(UINT256_MAX);
  });

  it('the token executes a transfer with one trailing byte', async () => {
    const data = `${token.interface.encodeFunctionData('transfer', [ATTACKER, 7n])}00`;
    const receipt = await (await holder.sendTransaction({ to: tokenAddress, data })).wait();
    expect(receipt?.status).toBe(1);
    expect(await token.getFunction('balanceOf')(ATTACKER)).toBe(7n);
  });

  it('an ABI-coder-v1 token masks a dirty recipient word and pays the address in it, which a deny rule on that recipient refuses', async () => {
    const { abi, bytecode } = compileSolidity(V1_TOKEN).get('V1Token')!;
    const v1 = (await new ContractFactory(abi, bytecode, holder).deploy(DEV_ACCOUNTS[0].address, 1000n)) as Contract;
    await v1.waitForDeployment();
    const data = `0xa9059cbb${'ff'.repeat(12)}${ATTACKER.slice(2).toLowerCase()}${(3n).toString(16).padStart(64, '0')}`;
    const receipt = await (await holder.sendTransaction({ to: await v1.getAddress(), data })).wait();
    expect(receipt?.status).toBe(1);
    expect(await v1.getFunction('balanceOf')(ATTACKER)).toBe(3n);

    const policy = loadPolicy(JSON.stringify({
      version: 1,
      rules: [
        { id: 'never-pay-attacker', effect: 'deny', calls: [{ function: 'transfer(address to, uint256 amount)', args: { to: { in: [ATTACKER] } } }] },
        { id: 'token-calls', effect: 'allow', to: [await v1.getAddress()], selector: ['0xa9059cbb'] },
      ],
    }));
    const request = { ...eip1559Transfer(await v1.getAddress()), chainId: stack.anvil.chainId, data, gasLimit: 100000n };
    expect(evaluatePolicy(policy, request)).toMatchObject({ allowed: false, ruleId: 'never-pay-attacker' });
  });

  it('the signer refuses the unlimited approve with trailing bytes, by the deny rule, without asking KMS to sign, and signs the canonical one', async () => {
    const address = ((await handler({ operation: 'status' })) as { address: string }).address;
    await (await holder.sendTransaction({ to: address, value: parseEther('1') })).wait();
    const fees = await stack.anvil.provider.getFeeData();
    const transaction = (data: string) => ({
      to: tokenAddress,
      data,
      nonce: 0,
      gasLimit: 100000,
      maxFeePerGas: String((fees.maxFeePerGas ?? 10n ** 9n) * 2n),
      maxPriorityFeePerGas: String(fees.maxPriorityFeePerGas ?? 1n),
    });
    for (const data of [`${approveMax()}${'00'.repeat(32)}`, `${approveMax()}00`]) {
      const error = await rejectionOf(handler({ operation: 'sign', transaction: transaction(data) }));
      expect(error).toMatchObject({ name: 'PolicyDeniedError', message: expect.stringMatching(/denied by rule "no-unlimited-approve"/) });
    }
    expect(signCalls).toEqual([]);

    const signed = (await handler({ operation: 'sign', transaction: transaction(token.interface.encodeFunctionData('approve', [ATTACKER, 5n])) })) as SignResponse;
    const receipt = await (await stack.anvil.provider.broadcastTransaction(signed.signedTransaction)).wait();
    expect(receipt?.status).toBe(1);
    expect(await token.getFunction('allowance')(address, ATTACKER)).toBe(5n);
    expect(signCalls).toEqual(['Sign']);
  });
});
