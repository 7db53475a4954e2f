import type { KMSClient } from '@aws-sdk/client-kms';
import {
  AbstractSigner,
  copyRequest,
  getAddress,
  hashAuthorization,
  hashMessage,
  isHexString,
  resolveAddress,
  Signature,
  Transaction,
  TypedDataEncoder,
  type Authorization,
  type AuthorizationRequest,
  type Provider,
  type TransactionLike,
  type TransactionRequest,
  type TypedDataDomain,
  type TypedDataField,
} from 'ethers';
import { signDigest } from './digest-signing';
import { SignerError } from './errors';
import { sharedKmsClient } from './kms-client';
import { cachedKmsKey } from './key-cache';
import type { KmsKey } from './kms-key';
import { ChainIdMismatchError, FromMismatchError, MissingChainIdError } from './transaction-errors';
import { AmbiguousMessageError, isAmbiguousMessage } from './personal-message';

// Errors moved to the modules the viem account shares; callers keep importing them from here.
export { AddressMismatchError } from './key-cache';
export { InvalidDigestError } from './digest-signing';
export { ChainIdMismatchError, FromMismatchError, MissingChainIdError } from './transaction-errors';

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
  /** The signed transaction (`serialized` is what `eth_sendRawTransaction` takes). */
  readonly transaction: Transaction;
  /** The key's address: the transaction's sender. */
  readonly from: string;
  /** The ARN of the key that signed. */
  readonly keyArn: string;
  /** Wall-clock time of the KMS Sign call, in milliseconds. */
  readonly kmsLatencyMs: number;
}

/**
 * An ethers v6 signer whose private key stays in AWS KMS. Every signature costs one KMS `Sign` call
 * once the public key is cached, and is checked to recover to the key's address before it is returned.
 */
export class KmsSigner extends AbstractSigner {
  /** The key id the signer was created with (a key id, ARN or alias), as given. */
  readonly keyId: string;
  readonly #options: KmsSignerOptions;
  readonly #client: KMSClient;

  /**
   * Creates the signer; no KMS call happens until the first `getAddress` or signature. Pass a provider to use
   * `sendTransaction`, ENS names, or nonce and fee filling (`populateTransaction`).
   */
  constructor(options: KmsSignerOptions, provider?: Provider | null) {
    super(provider);
    this.#options = { ...options, expectedAddress: options.expectedAddress && getAddress(options.expectedAddress) };
    this.keyId = options.keyId;
    this.#client = options.client ?? sharedKmsClient();
  }

  /** The key's address and ARN, fetched from KMS on first use and cached for the life of the process. */
  async getKey(): Promise<KmsKey> {
    const { keyId, expectedAddress, signal } = this.#options;
    return cachedKmsKey({ client: this.#client, keyId, expectedAddress, signal });
  }

  /** The key's checksummed address (one GetPublicKey per key per process, then cached). */
  override async getAddress(): Promise<string> {
    return (await this.getKey()).address;
  }

  /** The same signer (same client, same cached key) on another provider. */
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

  /**
   * Signs a transaction (types 0, 1, 2 and 4) and returns it serialized, ready for `eth_sendRawTransaction`.
   * Refuses a `from` other than the key's address, a chain other than `chainId`, and a chain id of 0.
   * Nonce and fees are not filled here: use `populateTransaction` or `sendTransaction` with a provider.
   */
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
    // Stryker disable next-line ConditionalExpression: String() of bytes is digits and commas, never 0x
    if (typeof message === 'string' && isAmbiguousMessage(message)) throw new AmbiguousMessageError(message.length);
    return (await this.signDigest(hashMessage(message))).serialized;
  }

  /** Signs EIP-712 typed data (ENS names in it are resolved with the provider); returns the 65-byte signature. */
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

  async #signDigest(digest: string, knownKey?: KmsKey): Promise<{ signature: Signature; kmsLatencyMs: number }> {
    const key = knownKey ?? (await this.getKey());
    const { signature, kmsLatencyMs } = await signDigest({ client: this.#client, keyId: this.keyId, key, digest, signal: this.#options.signal });
    return { signature: Signature.from(signature), kmsLatencyMs };
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
