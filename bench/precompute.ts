// The KMS answers, made ahead of time with a key that never leaves the benchmark.
import type { GetPublicKeyCommandOutput } from '@aws-sdk/client-kms';
import { derSign, publicKeyResponse } from '../test/helpers/kms-mock';
import type { PrecomputedSignatures } from './in-process-kms';

/** What KMS would answer for one key: its GetPublicKey response and a DER signature per digest. */
export interface KmsAnswers {
  readonly publicKey: GetPublicKeyCommandOutput;
  readonly signatures: PrecomputedSignatures;
}

/**
 * Signs every digest with noble, random nonces and no low-s normalisation: about half the answers are
 * high-s, as real KMS answers are, and every contender gets byte-identical answers.
 */
export function precomputeAnswers(privateKey: string, digests: Iterable<string>): KmsAnswers {
  const signatures = new Map<string, Uint8Array>();
  for (const digest of digests) signatures.set(digest, derSign(Buffer.from(digest.slice(2), 'hex'), privateKey, 'random'));
  return { publicKey: publicKeyResponse(privateKey), signatures };
}

/** KMS answers as JSON, for a child process (hex strings; Uint8Array does not survive JSON). */
export interface SerializedAnswers {
  readonly keyArn: string;
  readonly spki: string;
  readonly signatures: Array<[digest: string, der: string]>;
}

/** Writes answers as JSON-safe hex. */
export function serializeAnswers({ publicKey, signatures }: KmsAnswers): SerializedAnswers {
  return {
    keyArn: publicKey.KeyId ?? '',
    spki: Buffer.from(publicKey.PublicKey ?? new Uint8Array()).toString('hex'),
    signatures: [...signatures].map(([digest, der]) => [digest, Buffer.from(der).toString('hex')]),
  };
}
