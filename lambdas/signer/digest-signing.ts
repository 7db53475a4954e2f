import { SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { untilAborted } from './abort';
import { decodeSignature } from './der';
import { SignerError } from './errors';
import type { KmsKey } from './kms-key';
import { toKmsError } from './kms-errors';
import { prepareRecoveryTables, recoveryTablesReady, toEthereumSignature, type RecoverableSignature } from './signature';

/** What one KMS Sign call needs: the client, the key (as GetPublicKey resolved it), the digest. */
export interface DigestSigningRequest {
  readonly client: KMSClient;
  /** The key id the caller configured, named in errors. */
  readonly keyId: string;
  readonly key: KmsKey;
  /** The 32-byte digest, as 0x-prefixed hex. */
  readonly digest: string;
  /** Abandons the call (with KmsUnavailableError) when it aborts. */
  readonly signal?: AbortSignal | undefined;
}

/** A checked signature, and how long KMS took to make it. */
export interface DigestSignature {
  readonly signature: RecoverableSignature;
  /** Wall-clock time of the KMS Sign call, in milliseconds. */
  readonly kmsLatencyMs: number;
}

/**
 * Signs a 32-byte digest with one KMS Sign call and returns the low-s signature with the parity that recovers
 * to the key: the one signing path of the Lambdas, the ethers signer and the viem account. Throws rather than
 * return a signature that does not recover to the key.
 */
export async function signDigest({ client, keyId, key, digest, signal }: DigestSigningRequest): Promise<DigestSignature> {
  const message = digestBytes(digest);
  const started = performance.now();
  let response;
  try {
    // Sign with the ARN that GetPublicKey resolved, so the key that signs is the key whose address we cached.
    const sending = untilAborted(
      client.send(
        new SignCommand({ KeyId: key.keyArn, Message: message, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }),
        { abortSignal: signal },
      ),
      signal,
    );
    if (!recoveryTablesReady(key.publicKey)) {
      // Not the process's first signature (a cold start, which the tables would slow by more than they save: it
      // checks without them), but the first since: build the recovery check's tables while Sign is on the wire.
      if (signedWithoutTables) {
        sending.catch(() => undefined); // awaited just below
        await yieldToNetwork();
        prepareRecoveryTables(key.publicKey);
      }
      signedWithoutTables = true;
    }
    response = await sending;
  } catch (error) {
    throw toKmsError('Sign', keyId, error);
  }
  const kmsLatencyMs = performance.now() - started;
  if (!response.Signature) throw toKmsError('Sign', keyId, new Error('KMS returned no signature'));
  const { r, s } = decodeSignature(response.Signature);
  return { signature: toEthereumSignature(digest, r, s, key.publicKey), kmsLatencyMs };
}

/**
 * Lets a request just sent reach its socket before CPU work that does not need its answer: the SDK's middleware
 * runs on promise callbacks, all of which run before a macrotask.
 */
export function yieldToNetwork(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The digest's bytes: KMS DIGEST signing takes exactly 32 (with RAW it would hash them again). */
function digestBytes(digest: string): Uint8Array {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(digest)) throw new InvalidDigestError(undefined);
  const bytes = Buffer.from(digest.slice(2), 'hex');
  if (bytes.length !== 32) throw new InvalidDigestError(bytes.length);
  return bytes;
}

// Set once a signature of this process was checked without the window tables (see signDigest).
let signedWithoutTables = false;

/** KMS DIGEST signing takes exactly 32 bytes. */
export class InvalidDigestError extends SignerError {
  override readonly name = 'InvalidDigestError';
  /** `length` is undefined when the digest is not even 0x-prefixed hex. */
  constructor(length: number | undefined) {
    super(
      length === undefined
        ? 'The digest to sign is not 0x-prefixed hex; it must be exactly 32 bytes (a keccak256 hash).'
        : `The digest to sign is ${length} bytes; it must be exactly 32 (a keccak256 hash).`,
    );
  }
}
