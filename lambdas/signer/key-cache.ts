import type { KMSClient } from '@aws-sdk/client-kms';
import { untilAborted } from './abort';
import { SignerError } from './errors';
import { fetchKmsKey, type KmsKey } from './kms-key';
import { toKmsError } from './kms-errors';

// GetPublicKey once per key per process: keyed by client (which fixes region and endpoint), then key id.
// `signal` is the one the lookup runs under: the caller that started it.
interface KeyLookup {
  readonly key: Promise<KmsKey>;
  readonly signal: AbortSignal | undefined;
}
const keyCache = new WeakMap<KMSClient, Map<string, KeyLookup>>();

/** Which key to look up, and what it must be. */
export interface KeyLookupOptions {
  readonly client: KMSClient;
  readonly keyId: string;
  /** A checksummed address the key must have (guards against a retargeted alias). */
  readonly expectedAddress?: string | undefined;
  /** Abandons the lookup (with KmsUnavailableError) when it aborts. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The key's address, public key and ARN, fetched with GetPublicKey on first use and cached per client for the
 * life of the process; shared by every signer and account over the same client and key id.
 */
export async function cachedKmsKey({ client, keyId, expectedAddress, signal }: KeyLookupOptions): Promise<KmsKey> {
  const key = await lookUp(client, keyId, signal);
  if (expectedAddress && key.address !== expectedAddress) throw new AddressMismatchError(keyId, key.address, expectedAddress);
  return key;
}

async function lookUp(client: KMSClient, keyId: string, signal: AbortSignal | undefined): Promise<KmsKey> {
  let perClient = keyCache.get(client);
  if (!perClient) keyCache.set(client, (perClient = new Map()));
  for (;;) {
    let lookup = perClient.get(keyId);
    if (!lookup) {
      const started: KeyLookup = { key: fetchKmsKey(client, keyId, signal), signal };
      perClient.set(keyId, (lookup = started));
      // A failed or abandoned lookup (throttling, a key not yet enabled, a hung KMS) must not stick for
      // the life of the process: the next call looks the key up again.
      started.key.catch(() => {
        // Stryker disable next-line ConditionalExpression: equivalent: an entry is set only when none is there and removed only here, so while `started` is pending the entry is `started`
        if (perClient.get(keyId) === started) perClient.delete(keyId);
      });
    }
    try {
      return await untilAborted(lookup.key, signal);
    } catch (error) {
      // The lookup we joined was abandoned because its caller's time ran out, not ours: look it up again.
      // Stryker disable next-line ConditionalExpression: `lookup.signal !== signal` as true is equivalent (the same signal cannot be aborted and not aborted); its other condition mutants, disabled with it, are killed by the tests
      if (lookup.signal !== signal && lookup.signal?.aborted && !signal?.aborted) continue;
      // Our own time ran out while we waited (fetchKmsKey has typed every other KMS failure already).
      throw error instanceof Error && error.name === 'AbortError' ? toKmsError('GetPublicKey', keyId, error) : error;
    }
  }
}

/** The KMS key's address is not the pinned EXPECTED_ADDRESS. */
export class AddressMismatchError extends SignerError {
  override readonly name = 'AddressMismatchError';
  constructor(keyId: string, readonly actual: string, readonly expected: string) {
    super(
      `KMS key ${keyId} has address ${actual}, but the signer is pinned to ${expected}; nothing was signed. ` +
        'Point KMS_KEY_ID at the intended key, or correct EXPECTED_ADDRESS.',
    );
  }
}
