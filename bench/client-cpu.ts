// Client CPU per signature through a KMS on loopback HTTP: what a warm Lambda is billed for besides waiting.
import { KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { KMSSigner } from '@rumblefishdev/eth-signer-kms';
import { getBytes, JsonRpcProvider, Transaction } from 'ethers';
import { createHandler } from '../lambdas/handler';
import { fetchKmsKey } from '../lambdas/signer/kms-key';
import { SECP256K1_HALF_N } from '../lambdas/signer/curve';
import type { KmsEndpoint } from './cold-start';
import { BENCH_HANDLER_ENV } from './handler-env';
import { naiveSignTransaction } from './naive-signer';
import type { OverheadPlan } from './overhead';
import { summarize, spreadPercent, type Summary } from './stats';
import { BENCH_CHAIN_ID, type BenchTransaction } from './transactions';

/** One signer (or the bare SDK call) talking to the local KMS over HTTP. */
interface HttpContender {
  readonly name: string;
  /** Signs one transaction; returns it serialised, or undefined for the bare Sign call, which has none. */
  sign(transaction: BenchTransaction): Promise<string | undefined>;
}

/** One contender's client CPU (user + system of this process) and wall time per signature. */
export interface ClientCpuResult {
  readonly name: string;
  /** CPU milliseconds per signature, one sample per round (a block of `perRound` signatures). */
  readonly cpuMs: Summary;
  readonly roundSpreadPercent: number;
  /** Wall milliseconds per signature, one sample per round: includes the local KMS's time. */
  readonly wallMs: Summary;
}

/** The names of the HTTP contenders, in the order measured and reported. */
export const CLIENT_CPU_CONTENDERS = ['kms-eth-signer (handler)', '@rumblefishdev/eth-signer-kms', 'naive baseline', 'bare SignCommand'] as const;

/**
 * Points the SDK's default configuration chain at the local KMS (endpoint, region and credentials from the
 * environment, as on Lambda) and builds every contender on a client configured that way: ours is the
 * handler with its process-wide client, each peer gets `new KMSClient({})` as its README shows.
 */
async function httpContenders(kms: KmsEndpoint): Promise<{ contenders: HttpContender[]; address: string }> {
  pointSdkAt(kms);
  const { address, keyArn } = await fetchKmsKey(new KMSClient({}), kms.keyId);
  const handler = createHandler('eip1559');
  const provider = new JsonRpcProvider(undefined, Number(BENCH_CHAIN_ID), { staticNetwork: true });
  const rumblefish = KMSSigner.create(provider, kms.keyId, new KMSClient({}));
  const naiveClient = new KMSClient({});
  const bareClient = new KMSClient({});
  const [ours, peer, naive, bare] = CLIENT_CPU_CONTENDERS;
  return {
    address,
    contenders: [
      {
        name: ours,
        async sign({ event }) {
          const response = await handler(event);
          if (!('signedTransaction' in response)) throw new Error('the handler did not sign');
          return response.signedTransaction;
        },
      },
      { name: peer, sign: async ({ request }) => (await rumblefish).signTransaction(request) },
      { name: naive, sign: ({ request }) => naiveSignTransaction(naiveClient, kms.keyId, request) },
      {
        name: bare,
        async sign({ digest }) {
          const { Signature } = await bareClient.send(
            new SignCommand({ KeyId: keyArn, Message: getBytes(digest), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }),
          );
          if (!Signature) throw new Error('Sign returned no signature');
          return undefined;
        },
      },
    ],
  };
}

/**
 * Sets the environment that the handler and the SDK's default chain read, as Lambda would: the key,
 * the network, the KMS endpoint, the region and (dummy) credentials.
 */
export function pointSdkAt(kms: KmsEndpoint): void {
  Object.assign(process.env, BENCH_HANDLER_ENV, {
    KMS_KEY_ID: kms.keyId,
    AWS_ENDPOINT_URL_KMS: kms.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
  });
}

const gc: (() => void) | undefined = typeof globalThis.gc === 'function' ? globalThis.gc : undefined;

/**
 * Measures every contender's CPU per signature with `process.cpuUsage()` around blocks of sequential
 * signatures, the local KMS running in another process so that its work is not counted. Warm-up first
 * (JIT, sockets, caches), then rounds in rotating order as in the in-process overhead measurement.
 * Every returned transaction is checked to come from the key's address with a low s.
 */
export async function measureClientCpu(kms: KmsEndpoint, transactions: readonly BenchTransaction[], plan: OverheadPlan): Promise<ClientCpuResult[]> {
  const { contenders, address } = await httpContenders(kms);
  const pick = (i: number): BenchTransaction => {
    const transaction = transactions[i % transactions.length];
    if (!transaction) throw new Error('no transactions to sign');
    return transaction;
  };
  for (const contender of contenders) {
    for (let i = 0; i <= plan.warmup; i++) check(contender, await contender.sign(pick(i)), address);
  }
  const cpu = new Map<HttpContender, number[]>(contenders.map((c) => [c, []]));
  const wall = new Map<HttpContender, number[]>(contenders.map((c) => [c, []]));
  for (let round = 0; round < plan.rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const contender = contenders[(round + k) % contenders.length];
      if (!contender) continue;
      gc?.();
      const started = performance.now();
      const before = process.cpuUsage();
      for (let i = 0; i < plan.perRound; i++) {
        const signed = await contender.sign(pick(round * plan.perRound + i));
        if (i === 0) check(contender, signed, address);
      }
      const used = process.cpuUsage(before);
      wall.get(contender)?.push((performance.now() - started) / plan.perRound);
      cpu.get(contender)?.push((used.user + used.system) / 1000 / plan.perRound);
    }
  }
  return contenders.map((contender) => {
    const rounds = cpu.get(contender) ?? [];
    return { name: contender.name, cpuMs: summarize(rounds), roundSpreadPercent: spreadPercent(rounds), wallMs: summarize(wall.get(contender) ?? []) };
  });
}

function check(contender: HttpContender, serialized: string | undefined, address: string): void {
  if (serialized === undefined) return;
  const transaction = Transaction.from(serialized);
  const s = transaction.signature ? BigInt(transaction.signature.s) : 0n;
  if (transaction.from !== address || s > SECP256K1_HALF_N) {
    throw new Error(`${contender.name} returned a transaction from ${transaction.from}, not ${address}, or with a high s`);
  }
}
