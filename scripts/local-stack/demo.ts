import { formatEther, parseEther, Transaction, Wallet } from 'ethers';
import type { SignerHandler } from '../../lambdas/handler';
import type { SignResponse } from '../../lambdas/operations/response';
import { DEV_ACCOUNTS, runCast } from '../local-chain';
import { signDemoMessages, type SignedMessage } from './demo-messages';
import { lambdaContext } from './lambda-context';
import type { LocalStack } from './stack';

/** The two signer handlers, however they were loaded (the built bundles, or the sources in tests). */
export interface SignerHandlers {
  readonly eip1559: SignerHandler;
  readonly legacy: SignerHandler;
}

/** One transaction the demo signed and anvil mined. */
export interface MinedTransfer {
  readonly signer: 'eip1559' | 'legacy';
  readonly transactionHash: string;
  readonly block: number;
  readonly gasUsed: bigint;
  readonly type: number;
}

/** A transaction the signing policy refused (nothing was signed). */
export interface DeniedTransfer {
  readonly signer: 'eip1559' | 'legacy';
  readonly value: bigint;
  readonly error: string;
}

/** What the demo did, for the summary. */
export interface DemoResult {
  readonly address: string;
  readonly castAddress: string;
  readonly recipient: string;
  readonly transfers: MinedTransfer[];
  readonly denied: DeniedTransfer[];
  /** A message and typed data signed by the same Lambda, each verified with ethers. */
  readonly messages: SignedMessage[];
  readonly balances: { readonly before: { kms: bigint; recipient: bigint }; readonly after: { kms: bigint; recipient: bigint } };
}

const FUNDING = parseEther('1');
const TRANSFER = parseEther('0.01');
// Above the 0.05 ETH cap of examples/policies/local-demo.json, the policy npm start runs with.
const DENIED_TRANSFER = parseEther('0.5');

/**
 * The main job on the local stack: asks the EIP-1559 handler for the KMS address, funds it from an anvil dev
 * account, has each handler sign an unsigned transfer (invoked as Lambda would: event and context),
 * broadcasts each signed transaction to anvil and waits for its receipt. The handlers must already be
 * configured (KMS_KEY_ID, ETH_NETWORK) for the stack's KMS key and anvil's chain.
 */
export async function runDemo(stack: LocalStack, handlers: SignerHandlers, kmsKeyId: string, log: (line: string) => void = () => undefined): Promise<DemoResult> {
  const { provider } = stack.anvil;
  const status = await handlers.eip1559({ operation: 'status' }, lambdaContext('eth-signer-eip1559'));
  if (!('keyId' in status)) throw new Error('the status operation returned no key');
  const { address } = status;
  log(`KMS key ${status.keyId} has address ${address} (chain ${status.chainId})`);

  const castAddress = await runCast(['wallet', 'address', '--aws'], { ...stack.awsEnv, AWS_KMS_KEY_ID: kmsKeyId });
  if (castAddress !== address) throw new Error(`cast --aws sees ${castAddress} for the same key, but the signer reports ${address}`);

  const recipient = DEV_ACCOUNTS[1].address;
  const funder = new Wallet(DEV_ACCOUNTS[0].privateKey, provider);
  await (await funder.sendTransaction({ to: address, value: FUNDING })).wait();
  log(`funded ${address} with ${formatEther(FUNDING)} ETH from anvil dev account ${funder.address}`);

  // Read at a given block: ethers may answer a repeated identical getBalance from its short-lived cache.
  const balances = async (blockTag: number | 'latest' = 'latest') => ({ kms: await provider.getBalance(address, blockTag), recipient: await provider.getBalance(recipient, blockTag) });
  const before = await balances();
  const fees = await provider.getFeeData();
  const transfers: MinedTransfer[] = [];
  const common = { to: recipient, value: TRANSFER.toString(), gasLimit: 21000 };
  const requests = [
    { signer: 'eip1559' as const, transaction: { ...common, maxFeePerGas: String(fees.maxFeePerGas), maxPriorityFeePerGas: String(fees.maxPriorityFeePerGas) } },
    { signer: 'legacy' as const, transaction: { ...common, gasPrice: String(fees.gasPrice) } },
  ];
  let nonce = await provider.getTransactionCount(address);
  for (const { signer, transaction } of requests) {
    const response = (await handlers[signer]({ operation: 'sign', transaction: { ...transaction, nonce } }, lambdaContext(`eth-signer-${signer}`))) as SignResponse;
    const receipt = await (await provider.broadcastTransaction(response.signedTransaction)).wait();
    if (!receipt || receipt.status !== 1) throw new Error(`anvil did not mine ${response.transactionHash} successfully`);
    if (receipt.from !== address) throw new Error(`anvil mined ${response.transactionHash} from ${receipt.from}, not the KMS address ${address}`);
    const type = Transaction.from(response.signedTransaction).type ?? 0;
    transfers.push({ signer, transactionHash: response.transactionHash, block: receipt.blockNumber, gasUsed: receipt.gasUsed, type });
    nonce += 1;
    log(`${signer} signer: type ${type} transaction ${response.transactionHash} mined in block ${receipt.blockNumber}`);
  }
  const denied: DeniedTransfer[] = [];
  const over = { ...requests[0]!.transaction, value: DENIED_TRANSFER.toString(), nonce };
  try {
    await handlers.eip1559({ operation: 'sign', transaction: over }, lambdaContext('eth-signer-eip1559'));
    throw new Error(`the signer signed a ${formatEther(DENIED_TRANSFER)} ETH transfer that its signing policy should refuse`);
  } catch (error) {
    if (!(error instanceof Error) || error.name !== 'PolicyDeniedError') throw error;
    // The message's why, without its advice on how to change the policy.
    const why = error.message.replace(/^.*?nothing was signed: /, '').replace(/\. Send \{"operation":"check".*$/s, '');
    denied.push({ signer: 'eip1559', value: DENIED_TRANSFER, error: `${error.name}: ${why}` });
    log(`eip1559 signer: ${formatEther(DENIED_TRANSFER)} ETH transfer refused by the signing policy (no KMS call)`);
  }
  const messages = await signDemoMessages(handlers.eip1559, address, stack.anvil.chainId, recipient);
  for (const m of messages) log(`eip1559 signer: ${m.operation} ${m.what} signed; ethers recovers ${m.recovered}`);
  return { address, castAddress, recipient, transfers, denied, messages, balances: { before, after: await balances(transfers.at(-1)?.block ?? 'latest') } };
}

/** A short, readable summary of a demo run. */
export function formatSummary(result: DemoResult): string {
  const eth = (wei: bigint) => `${formatEther(wei)} ETH`;
  return [
    '',
    'kms-eth-signer on the local stack: every transaction below was signed in (local) KMS and mined by anvil',
    '',
    `  KMS address          ${result.address}`,
    `  cast --aws address   ${result.castAddress} (Foundry's own KMS signer agrees)`,
    '',
    '  signer    type  transaction hash                                                    block  gas used',
    ...result.transfers.map((t) => `  ${t.signer.padEnd(8)}  ${String(t.type).padEnd(4)}  ${t.transactionHash}  ${String(t.block).padStart(5)}  ${t.gasUsed}`),
    '',
    ...result.denied.map((d) => `  denied    ${formatEther(d.value)} ETH by the ${d.signer} signer: ${d.error.length > 240 ? `${d.error.slice(0, 237)}...` : d.error}`),
    '',
    ...result.messages.map((m) => `  ${m.operation.padEnd(13)}  ${m.what.padEnd(38)}  verified: recovers to ${m.recovered}`),
    '',
    `  balance of the KMS address  ${eth(result.balances.before.kms)} -> ${eth(result.balances.after.kms)}`,
    `  balance of ${result.recipient}  ${eth(result.balances.before.recipient)} -> ${eth(result.balances.after.recipient)}`,
    '',
  ].join('\n');
}
