// A consumer of the installed package, compiled in a temporary project with strict TypeScript (module
// nodenext) and run under plain node: the viem account sends transactions of types 0, 1, 2 and 4 that anvil
// mines, and its signatures are checked by viem; the ethers signer sends one too. Prints one JSON line.
import { KMSClient } from '@aws-sdk/client-kms';
import { JsonRpcProvider, verifyMessage as ethersVerifyMessage } from 'ethers';
import { KmsSigner, type KmsSignerOptions } from 'kms-eth-signer';
import { kmsAccount, type KmsAccount, type KmsAccountOptions } from 'kms-eth-signer/viem';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  http,
  parseAbi,
  recoverAddress,
  verifyMessage,
  verifyTypedData,
  type Address,
  type Hex,
} from 'viem';

// Probes that the package's declarations resolved: each line is an error only if the types are real.
// @ts-expect-error keyId is required
const missingKey: KmsAccountOptions = { chainId: 1 };
// @ts-expect-error the ethers signer's chainId is a bigint
const wrongChain: KmsSignerOptions = { keyId: 'alias/x', chainId: 'one' };
void missingKey;
void wrongChain;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const rpcUrl = env('RPC_URL');
const keyId = env('KEY_ID');
const delegate = env('DELEGATE') as Address;
const recipient = env('RECIPIENT') as Address;
const chain = defineChain({
  id: Number(env('CHAIN_ID')),
  name: 'anvil',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [rpcUrl] } },
});
const client = new KMSClient({ endpoint: env('KMS_ENDPOINT'), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

const account: KmsAccount = await kmsAccount({ keyId, client, chainId: chain.id });
const wallet = createWalletClient({ account, chain, transport: http() });
const publicClient = createPublicClient({ chain, transport: http() });
const results: Record<string, unknown> = { address: account.address, source: account.source, rawSignWithoutOptIn: typeof account.sign };

for (const type of ['legacy', 'eip2930', 'eip1559'] as const) {
  const hash = await wallet.sendTransaction({ to: recipient, value: 1000n, type });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  const mined = await publicClient.getTransaction({ hash });
  results[type] = { status: receipt.status, type: mined.type, from: mined.from };
}

const message = 'kms-eth-signer consumer test';
results.verifyMessage = await verifyMessage({ address: account.address, message, signature: await account.signMessage({ message }) });

const typedData = {
  domain: { name: 'Ether Mail', version: '1', chainId: chain.id, verifyingContract: recipient },
  types: {
    Person: [{ name: 'name', type: 'string' }, { name: 'wallet', type: 'address' }],
    Mail: [{ name: 'from', type: 'Person' }, { name: 'to', type: 'Person' }, { name: 'contents', type: 'string' }],
  },
  primaryType: 'Mail',
  message: { from: { name: 'Cow', wallet: account.address }, to: { name: 'Bob', wallet: recipient }, contents: 'Hello, Bob!' },
} as const;
results.verifyTypedData = await verifyTypedData({ address: account.address, ...typedData, signature: await account.signTypedData(typedData) });

// EIP-7702: the account delegates to a contract and calls itself through it in the same transaction.
const delegateAbi = parseAbi(['function run(uint256 amount)', 'function counter() view returns (uint256)']);
const authorization = await wallet.signAuthorization({ account, contractAddress: delegate, executor: 'self' });
const hash7702 = await wallet.sendTransaction({
  authorizationList: [authorization],
  to: account.address,
  data: encodeFunctionData({ abi: delegateAbi, functionName: 'run', args: [7n] }),
});
const receipt7702 = await publicClient.waitForTransactionReceipt({ hash: hash7702 });
results.eip7702 = {
  status: receipt7702.status,
  type: (await publicClient.getTransaction({ hash: hash7702 })).type,
  code: await publicClient.getCode({ address: account.address }),
  counter: String(await publicClient.readContract({ address: account.address, abi: delegateAbi, functionName: 'counter' })),
};

// Refusals: a transaction for another chain; a raw-hash signer only when asked for.
try {
  await account.signTransaction({ chainId: chain.id + 1, to: recipient, value: 1n, gas: 21000n, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n, nonce: 0 });
  results.otherChain = 'signed';
} catch (error) {
  results.otherChain = (error as Error).name;
}
const rawSigner = await kmsAccount({ keyId, client, allowRawHashSigning: true });
const digest: Hex = `0x${'ab'.repeat(32)}`;
const rawSignature = await rawSigner.sign?.({ hash: digest });
results.rawSignWithOptIn = rawSignature ? await recoverAddress({ hash: digest, signature: rawSignature }) : 'absent';

// The ethers entry, on the same key.
const provider = new JsonRpcProvider(rpcUrl, Number(chain.id), { staticNetwork: true });
const signer = new KmsSigner({ keyId, client, chainId: BigInt(chain.id) }, provider);
const sent = await signer.sendTransaction({ to: recipient, value: 1000n });
results.ethers = {
  address: await signer.getAddress(),
  status: (await sent.wait())?.status,
  verifyMessage: ethersVerifyMessage(message, await signer.signMessage(message)),
};
provider.destroy();
client.destroy();
console.log(JSON.stringify(results));
