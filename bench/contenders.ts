// The signers measured side by side, each behind the same call: sign this transaction, return it serialised.
import { KMSSigner } from '@rumblefishdev/eth-signer-kms';
import { JsonRpcProvider } from 'ethers';
import { createHandler } from '../lambdas/handler';
import { KEY_ARN } from '../test/helpers/kms-mock';
import { BENCH_HANDLER_ENV } from './handler-env';
import { createInProcessKms, type InProcessKms } from './in-process-kms';
import type { KmsAnswers } from './precompute';
import { naiveSignTransaction } from './naive-signer';
import { BENCH_CHAIN_ID, type BenchTransaction } from './transactions';

/** One signer under measurement, with its own in-process KMS (so its calls are counted apart). */
export interface Contender {
  readonly name: string;
  readonly kms: InProcessKms;
  /** Signs one transaction and returns the serialised signed transaction. */
  sign(transaction: BenchTransaction): Promise<string>;
}

/** Our EIP-1559 Lambda handler, whole path: event validation, hashing, KMS, DER, low-s, recovery check, response. */
export function oursContender(answers: KmsAnswers): Contender {
  Object.assign(process.env, BENCH_HANDLER_ENV);
  const kms = createInProcessKms(answers.publicKey, answers.signatures);
  const handler = createHandler('eip1559', { client: kms.client });
  return {
    name: 'kms-eth-signer (handler)',
    kms,
    async sign({ event }) {
      const response = await handler(event);
      if (!('signedTransaction' in response)) throw new Error('the handler did not sign');
      return response.signedTransaction;
    },
  };
}

/** @rumblefishdev/eth-signer-kms: GetPublicKey once in `create`, then Sign and trial recovery per signature. */
export function rumblefishContender(answers: KmsAnswers): Contender {
  const kms = createInProcessKms(answers.publicKey, answers.signatures);
  // The peer wants a provider but signs offline when `to` is already an address; this one never connects.
  const provider = new JsonRpcProvider(undefined, Number(BENCH_CHAIN_ID), { staticNetwork: true });
  let signer: Promise<KMSSigner> | undefined;
  return {
    name: '@rumblefishdev/eth-signer-kms',
    kms,
    async sign({ request }) {
      signer ??= KMSSigner.create(provider, KEY_ARN, kms.client);
      return (await signer).signTransaction(request);
    },
  };
}

/** The naive baseline: GetPublicKey on every call and trial recovery with `recoverAddress`. */
export function naiveContender(answers: KmsAnswers): Contender {
  const kms = createInProcessKms(answers.publicKey, answers.signatures);
  return { name: 'naive baseline', kms, sign: ({ request }) => naiveSignTransaction(kms.client, KEY_ARN, request) };
}

/** All three, each on a fresh client so that the first signature of each is a cold one. */
export function createContenders(answers: KmsAnswers): Contender[] {
  return [oursContender(answers), rumblefishContender(answers), naiveContender(answers)];
}
