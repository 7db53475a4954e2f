import { SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import {
  AbstractSigner,
  copyRequest,
  getAddress,
  getBytes,
  hashAuthorization,
  hashMessage,
  isHexString,
  resolveAddress,
  Transaction,
  TypedDataEncoder,
  type Authorization,
  type AuthorizationRequest,
  type Provider,
  type Signature,
  type TransactionLike,
  type TransactionRequest,
  type TypedDataDomain,
  type TypedDataField,
} from 'ethers';
import { decodeSignature } from './der';
import { SignerError } from './errors';
import { untilAborted } from './abort';
import { sharedKmsClient } from './kms-client';
import { fetchKmsKey, type KmsKey } from './kms-key';
import { toKmsError } from './kms-errors';
import { prepareRecoveryTables, recoveryTablesReady, toEthereumSignature } from './signature';
import { AmbiguousMessageError, isAmbiguousMessage } from './personal-message';

/** How to reach the key, and what the signer must refuse. */
export interface KmsSignerOptions {
  /** Key id, key ARN, alias name (alias/NAME) or alias ARN. */
  readonly keyId: string;
  /** Defaults to the process-wide client from the SDK's default configuration chain. */
  readonly client?: KMSClient;
  /** When set, refuse to sign unless the key's address is this one (guards against a retargeted alias). */
  readonly expectedAddress?: string;
  /** When set, the only chain this signer signs transactions for; transactions without one get it. */
  readonly chainId?: bigint;
  /**
   * When set, every KMS call is abandoned when it aborts (with KmsUnavailableError): a Lambda passes the time
   * left for the invocation, so that the caller hears of a hung KMS before Lambda's own timeout.
   */
  readonly signal?: AbortSignal;
}

/** A signed transaction, with what the Lambda reports about it. */
export interface SignedTransaction {
  readonly transaction: Transaction;
  readonly from: string;
  readonly keyArn: string;
  /** Wall-clock time of the KMS Sign call, in milliseconds. */
  readonly kmsLatencyMs: number;
}

// GetPublicKey once per key per process: keyed by client (which fixes region and endpoint), then key id.
// `signal` is the one the lookup runs under: the caller that started it.
interface KeyLookup {
  readonly key: Promise<KmsKey>;
  readonly signal: AbortSignal | undefined;
}
const keyCache = new WeakMap<KMSClient, Map<string, KeyLookup>>();

/**
 * An ethers v6 signer whose private key stays in AWS KMS. Every signature costs one KMS `Sign` call
 * once the public key is cached, and is checked to recover to the key's address before it is returned.
 */
export class KmsSigner extends AbstractSigner {
  readonly keyId: string;
  readonly #options: KmsSignerOptions;
  readonly #client: KMSClient;

  constructor(options: KmsSignerOptions, provider?: Provider | null) {
    super(provider);
    this.#options = { ...options, expectedAddress: options.expectedAddress && getAddress(options.expectedAddress) };
    this.keyId = options.keyId;
    this.#client = options.client ?? sharedKmsClient();
  }

  /** The key's address and ARN, fetched from KMS on first use and cached for the life of the process. */
  async getKey(): Promise<KmsKey> {
    const key = await this.#cachedKey();
    const { expectedAddress } = this.#options;
    if (expectedAddress && key.address !== expectedAddress) {
      throw new AddressMismatchError(this.keyId, key.address, expectedAddress);
    }
    return key;
  }

  override async getAddress(): Promise<string> {
    return (await this.getKey()).address;
  }

  override connect(provider: Provider | null): KmsSigner {
    return new KmsSigner({ ...this.#options, client: this.#client }, provider);
  }

  /** The same signer (same client, same cached key) whose KMS calls are abandoned when `signal` aborts. */
  withSignal(signal: AbortSignal | undefined): KmsSigner {
    // The same signal (a local call without a budget: undefined on both) needs no new signer, and a new one
    // would checksum expectedAddress again on every invocation.
    if (signal === this.#options.signal) return this;
    return new KmsSigner({ ...this.#options, client: this.#client, signal }, this.provider);
  }

  /** Signs a 32-byte digest in KMS and returns the low-s signature that recovers to the key's address. */
  async signDigest(digest: string): Promise<Signature> {
    return (await this.#signDigest(digest)).signature;
  }

  override async signTransaction(tx: TransactionRequest): Promise<string> {
    return (await this.signTransactionWithDetails(tx)).transaction.serialized;
  }

  /**
   * Signs a transaction and returns it with its sender and the KMS latency. A legacy transaction with
   * chain id 0 (pre-EIP-155, replayable on every chain) is signed only with `replayProtection: false`.
   */
  async signTransactionWithDetails(
    request: TransactionRequest,
    { replayProtection = true }: { replayProtection?: boolean } = {},
  ): Promise<SignedTransaction> {
    const key = await this.getKey();
    const transaction = Transaction.from(await this.#resolveRequest(request, key.address));
    this.#checkChainId(transaction, replayProtection);
    const { signature, kmsLatencyMs } = await this.#signDigest(transaction.unsignedHash, key);
    transaction.signature = signature;
    return { transaction, from: key.address, keyArn: key.keyArn, kmsLatencyMs };
  }

  /**
   * Signs an EIP-191 personal message: bytes as given, a string as its UTF-8 text. A string that looks like 0x-hex
   * is refused (AmbiguousMessageError) as the Lambdas refuse it: pass getBytes() or toUtf8Bytes() of it instead.
   */
  override async signMessage(message: string | Uint8Array): Promise<string> {
    if (typeof message === 'string' && isAmbiguousMessage(message)) throw new AmbiguousMessageError(message.length);
    return (await this.signDigest(hashMessage(message))).serialized;
  }

  override async signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string> {
    const populated = await TypedDataEncoder.resolveNames(domain, types, value, (name) => this.#resolveName(name));
    return (await this.signDigest(TypedDataEncoder.hash(populated.domain, types, populated.value))).serialized;
  }

  /** Signs an EIP-7702 authorization (ethers builds the canonical RLP hash). */
  override async authorize(request: AuthorizationRequest): Promise<Authorization> {
    const address = getAddress(await resolveAddress(request.address, this));
    const auth = await this.populateAuthorization({ ...request, address });
    const signature = await this.signDigest(hashAuthorization({ ...auth, address }));
    return {
      address,
      nonce: BigInt(auth.nonce ?? 0),
      chainId: BigInt(auth.chainId ?? 0),
      signature,
    };
  }

  async #cachedKey(): Promise<KmsKey> {
    const { signal } = this.#options;
    let perClient = keyCache.get(this.#client);
    if (!perClient) keyCache.set(this.#client, (perClient = new Map()));
    for (;;) {
      let lookup = perClient.get(this.keyId);
      if (!lookup) {
        const started: KeyLookup = { key: fetchKmsKey(this.#client, this.keyId, signal), signal };
        perClient.set(this.keyId, (lookup = started));
        // A failed or abandoned lookup (throttling, a key not yet enabled, a hung KMS) must not stick for
        // the life of the process: the next call looks the key up again.
        started.key.catch(() => {
          // Stryker disable next-line ConditionalExpression: while `started` is pending, it is the entry
          if (perClient.get(this.keyId) === started) perClient.delete(this.keyId);
        });
      }
      try {
        return await untilAborted(lookup.key, signal);
      } catch (error) {
        // The lookup we joined was abandoned because its caller's time ran out, not ours: look it up again.
        // Stryker disable next-line ConditionalExpression: one signal cannot be aborted and not aborted
        if (lookup.signal !== signal && lookup.signal?.aborted && !signal?.aborted) continue;
        // Our own time ran out while we waited (fetchKmsKey has typed every other KMS failure already).
        throw error instanceof Error && error.name === 'AbortError' ? toKmsError('GetPublicKey', this.keyId, error) : error;
      }
    }
  }

  async #signDigest(digest: string, knownKey?: KmsKey): Promise<{ signature: Signature; kmsLatencyMs: number }> {
    const key = knownKey ?? (await this.getKey());
    const message = getBytes(digest);
    if (message.length !== 32) throw new InvalidDigestError(message.length);
    const started = performance.now();
    let response;
    try {
      // Sign with the ARN that GetPublicKey resolved, so the key that signs is the key whose address we cached.
      const { signal } = this.#options;
      const sending = untilAborted(
        this.#client.send(
          new SignCommand({ KeyId: key.keyArn, Message: message, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }),
          { abortSignal: signal },
        ),
        signal,
      );
      if (!recoveryTablesReady(key.publicKey)) {
        // First signature with this key in this process: build the recovery check's tables while Sign is on the wire.
        sending.catch(() => undefined); // awaited just below
        await yieldToNetwork();
        prepareRecoveryTables(key.publicKey);
      }
      response = await sending;
    } catch (error) {
      throw toKmsError('Sign', this.keyId, error);
    }
    const kmsLatencyMs = performance.now() - started;
    if (!response.Signature) throw toKmsError('Sign', this.keyId, new Error('KMS returned no signature'));
    const { r, s } = decodeSignature(response.Signature);
    return { signature: toEthereumSignature(digest, r, s, key.publicKey), kmsLatencyMs };
  }

  async #resolveRequest(request: TransactionRequest, address: string): Promise<TransactionLike<string>> {
    const tx = copyRequest(request);
    // A hex address needs no resolving: Transaction.from checks its checksum and checksums it, and
    // resolveAddress would compute the same checksum (a keccak hash) a second time.
    // Stryker disable next-line ConditionalExpression,StringLiteral,EqualityOperator: a CPU shortcut
    if (tx.to != null && !(typeof tx.to === 'string' && isHexString(tx.to, 20))) tx.to = await resolveAddress(tx.to, this);
    if (tx.from != null) {
      const from = await resolveAddress(tx.from, this);
      if (from !== address) throw new FromMismatchError(from, address);
      delete tx.from;
    }
    const { chainId } = this.#options;
    if (tx.chainId == null) tx.chainId = chainId; // an undefined chainId is absent to ethers
    return tx as TransactionLike<string>;
  }

  #checkChainId(transaction: Transaction, replayProtection: boolean): void {
    const { chainId } = this.#options;
    if (transaction.chainId === 0n) {
      if (replayProtection || transaction.type !== 0) throw new MissingChainIdError(transaction.type ?? 0);
      return;
    }
    if (chainId !== undefined && transaction.chainId !== chainId) {
      throw new ChainIdMismatchError(transaction.chainId, chainId);
    }
  }

  async #resolveName(name: string): Promise<string> {
    const address = await this.provider?.resolveName(name);
    if (!address) throw new SignerError(`Cannot resolve the ENS name ${name}: connect the signer to a provider.`);
    return address;
  }
}

/**
 * Lets a request just sent reach its socket before CPU work that does not need its answer: the SDK's middleware
 * runs on promise callbacks, all of which run before a macrotask.
 */
export function yieldToNetwork(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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

/** The transaction names a `from` that is not the KMS key's address. */
export class FromMismatchError extends SignerError {
  override readonly name = 'FromMismatchError';
  constructor(readonly from: string, readonly address: string) {
    super(`The transaction's from (${from}) is not this signer's address (${address}); omit from or set it to ${address}.`);
  }
}

/** The transaction is for a chain other than the one the signer is configured for. */
export class ChainIdMismatchError extends SignerError {
  override readonly name = 'ChainIdMismatchError';
  constructor(readonly requested: bigint, readonly configured: bigint) {
    super(`The transaction is for chain ${requested}, but this signer signs only for chain ${configured}; nothing was signed.`);
  }
}

/** A transaction without a chain id would be replayable on every chain. */
export class MissingChainIdError extends SignerError {
  override readonly name = 'MissingChainIdError';
  constructor(type: number) {
    super(
      type === 0
        ? 'The legacy transaction has no chain id, so its signature would be valid on every chain; set chainId, or ask for replayProtection: false explicitly.'
        : `A type ${type} transaction needs a non-zero chain id.`,
    );
  }
}

/** KMS DIGEST signing takes exactly 32 bytes. */
export class InvalidDigestError extends SignerError {
  override readonly name = 'InvalidDigestError';
  constructor(length: number) {
    super(`The digest to sign is ${length} bytes; it must be exactly 32 (a keccak256 hash).`);
  }
}
