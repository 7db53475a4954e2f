import { SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { decodeSignature } from '../signer/der';
import { yieldToNetwork } from '../signer/digest-signing';
import { rehearseCall } from '../signer/kms-client';
import { publicKeyFromSpki } from '../signer/public-key';
import { toEthereumSignature } from '../signer/signature';
import type { PolicyStateConfig } from '../policy-state/config';
import { prepareMetrics } from './metrics';

/**
 * A fixed secp256k1 key (keccak256("kms-eth-signer rehearsal key"), known to everyone, controls nothing) and its
 * high-s DER signature of keccak256("kms-eth-signer rehearsal"): enough to run the first signature's checks once.
 */
export const REHEARSAL_VECTOR = {
  spki: '3056301006072a8648ce3d020106052b8104000a034200040605f662360dd2445addb3e79264a8ccd9980c7785d6a6063c3df4cd9b17f0d576bd58ba7bec2f57f0ce16c979ea22f1c125bf57e4d67d5ce92190a7522dc44c',
  digest: '0x112dbb4dec65b03fd23b73463cbcb2c9c0811cb45c519a332a93fe9a269a3725',
  der: '3045022100b299e66906f091f017c9d53bcc99b0f2933f5f0e73a76b4bdc3c96bda6063ed602207a4116b6fc14d5192631c7c80ae7a29346c85a84fc9592c434f4e0a9e96412b8',
  address: '0xD8DCe42516500116EB077DCb3aa6Fc6e1538bCf5',
} as const;

/** What a cold start rehearses: the KMS client and key id, and the policy table's settings when it has one. */
export interface RehearsalTarget {
  readonly client: KMSClient;
  readonly keyId: string;
  readonly policyState?: PolicyStateConfig | undefined;
  /** When given, the rehearsal stops once this settles (GetPublicKey answered: the real work can then start). */
  readonly until?: Promise<unknown>;
}

/**
 * Runs, while the cold start's GetPublicKey is on the wire, the code the first signature runs after it for the
 * first time on a cold V8: the SPKI and DER decoders and the recovery check on REHEARSAL_VECTOR, the metrics
 * logger, the KMS Sign call and the policy table's calls through their clients up to the HTTP handler, which
 * sends nothing (rehearseCall). Nothing is signed, sent or kept but compiled code and the SDK's resolved
 * configuration. Each step yields to the network first; the rest is skipped once `until` has settled.
 * Never rejects: a rehearsal that fails leaves the first signature as slow as it was.
 */
export async function rehearseFirstSignature({ client, keyId, policyState, until }: RehearsalTarget): Promise<void> {
  let stop = false;
  until?.then(
    () => (stop = true),
    () => (stop = true),
  );
  const steps: (() => unknown)[] = [
    () => publicKeyFromSpki(Buffer.from(REHEARSAL_VECTOR.spki, 'hex')),
    () => {
      const { r, s } = decodeSignature(Buffer.from(REHEARSAL_VECTOR.der, 'hex'));
      return toEthereumSignature(REHEARSAL_VECTOR.digest, r, s, publicKeyFromSpki(Buffer.from(REHEARSAL_VECTOR.spki, 'hex')).publicKey);
    },
    () => rehearseCall(client, new SignCommand({ KeyId: keyId, Message: new Uint8Array(32), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' })),
    prepareMetrics,
    ...(policyState?.tableName === undefined ? [] : [async () => (await import('./rehearse-policy-state')).rehearsePolicyStateCalls(policyState)]),
  ];
  for (const step of steps) {
    await yieldToNetwork();
    if (stop) return;
    try {
      await step();
    } catch {
      // the step's code is compiled all the same, up to where it failed
    }
  }
}
