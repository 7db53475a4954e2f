// An ethers v6 signer whose key is a signer Lambda's: every signature comes from Invoke, is checked here to
// recover to the Lambda's address, and with a provider ethers fills nonce and fees and broadcasts.
import {
  AbstractSigner,
  copyRequest,
  getAddress,
  getBigInt,
  hashAuthorization,
  hashMessage,
  hexlify,
  resolveAddress,
  resolveProperties,
  Signature,
  TypedDataEncoder,
  type Authorization,
  type AuthorizationRequest,
  type Provider,
  type TransactionLike,
  type TransactionRequest,
  type TypedDataDomain,
  type TypedDataField,
} from 'ethers';
import { InvalidRequestError, UnverifiedResponseError } from './errors';
import { LambdaInvoker, type CallOptions, type LambdaInvokerOptions } from './invoker';
import { verifyMessageSignature } from './message';
import { StatusCache, type SignerStatus } from './status';
import { toEventTransaction, verifySignedTransaction } from './transaction';

/** Which signer Lambda: eip1559 signs type 2 transactions, legacy types 0 and 1. */
export type SignerKind = 'eip1559' | 'legacy';

/** How to reach the signer Lambda. */
export interface LambdaSignerOptions extends LambdaInvokerOptions {
  /** The function's kind (default eip1559): with a provider, a legacy signer's transactions get a gasPrice. */
  readonly kind?: SignerKind;
}

/** Per signTransaction call: the idempotency key (default idempotencyKeyFor, else a new UUID per call; kept across its retries), timeout, signal. */
export interface SignTransactionOptions extends CallOptions {
  /** A retry of the same request with the same key gets the first signature back, counted once against the limits. */
  readonly idempotencyKey?: string;
}

/**
 * An ethers AbstractSigner over a kms-eth-signer Lambda: `getAddress` from its status, `signTransaction`,
 * `signMessage`, `signTypedData`, `authorize`; `sendTransaction` with a provider. The Lambda's errors arrive as
 * the classes in ./errors (PolicyDeniedError, SpendingLimitExceededError, …).
 */
export class LambdaSigner extends AbstractSigner {
  readonly functionName: string;
  readonly kind: SignerKind;
  private readonly invoker: LambdaInvoker;
  private readonly statusCache: StatusCache;

  constructor(
    private readonly options: LambdaSignerOptions,
    provider?: Provider | null,
    shared?: { invoker: LambdaInvoker; statusCache: StatusCache },
  ) {
    super(provider);
    this.invoker = shared?.invoker ?? new LambdaInvoker(options);
    this.statusCache = shared?.statusCache ?? new StatusCache(this.invoker);
    this.functionName = this.invoker.functionName;
    this.kind = options.kind ?? 'eip1559';
    if (this.kind !== 'eip1559' && this.kind !== 'legacy') throw new TypeError(`kind must be "eip1559" or "legacy", got ${String(this.kind).slice(0, 40)}`);
  }

  /** The same signer (same Lambda, same cached address) with another provider. */
  override connect(provider: Provider | null): LambdaSigner {
    return new LambdaSigner(this.options, provider, { invoker: this.invoker, statusCache: this.statusCache });
  }

  /** The Lambda's status (KMS key ARN, address, chain id), asked once and cached. */
  status(options?: CallOptions): Promise<SignerStatus> {
    return this.statusCache.get(options);
  }

  /** The KMS key's address, from the Lambda's status operation (cached). */
  override async getAddress(): Promise<string> {
    return (await this.status()).address;
  }

  /** Fills the transaction as ethers does; a legacy signer's transaction without fee fields gets a gasPrice (type 0 or 1). */
  override async populateTransaction(tx: TransactionRequest): Promise<TransactionLike<string>> {
    const legacyFees = this.kind === 'legacy' && tx.type == null && tx.maxFeePerGas == null && tx.maxPriorityFeePerGas == null;
    return super.populateTransaction(legacyFees ? { ...tx, type: tx.accessList ? 1 : 0 } : tx);
  }

  /**
   * Signs an unsigned transaction in the Lambda (its policy and limits decide) and returns the serialized signed
   * transaction, checked to recover to this signer's address and to be the transaction sent.
   */
  override async signTransaction(request: TransactionRequest, options: SignTransactionOptions = {}): Promise<string> {
    const address = await this.status(options).then((status) => status.address);
    const tx = copyRequest(request);
    const { to, from } = await resolveProperties({
      to: tx.to ? resolveAddress(tx.to, this.provider) : undefined,
      from: tx.from ? resolveAddress(tx.from, this.provider) : undefined,
    });
    if (from != null && getAddress(from) !== address) throw new InvalidRequestError(`transaction.from is ${from}, but this signer's address is ${address}`);
    const transaction = toEventTransaction({ ...tx, to: to ?? null, from: null });
    const idempotencyKey = options.idempotencyKey ?? this.options.idempotencyKeyFor?.(transaction) ?? crypto.randomUUID();
    const response = await this.invoker.call({ operation: 'sign', transaction, idempotencyKey }, options);
    return verifySignedTransaction(response, transaction, address);
  }

  /** Signs an EIP-191 personal message (a string is UTF-8 text, bytes are signed as they are). */
  override async signMessage(message: string | Uint8Array, options?: CallOptions): Promise<string> {
    const address = await this.getAddress();
    const event = typeof message === 'string' ? { operation: 'signMessage', message, encoding: 'utf8' } : { operation: 'signMessage', message: hexlify(message), encoding: 'hex' };
    const response = await this.invoker.call(event, options);
    return verifyMessageSignature(response, hashMessage(message), address).signature;
  }

  /** Signs EIP-712 typed data (ENS names are resolved with the provider first, as ethers' Wallet does). */
  override async signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>, options?: CallOptions): Promise<string> {
    const address = await this.getAddress();
    const provider = this.provider;
    const resolved = await TypedDataEncoder.resolveNames(domain, types, value, async (name: string) => {
      if (!provider) throw new InvalidRequestError(`the typed data names ${name.slice(0, 80)}, an ENS name: connect a provider to resolve it, or use the address`);
      const resolvedAddress = await provider.resolveName(name);
      if (!resolvedAddress) throw new InvalidRequestError(`the ENS name ${name.slice(0, 80)} does not resolve`);
      return resolvedAddress;
    });
    // ethers' payload is eth_signTypedData_v4's JSON: integers as decimal strings, bytes as hex.
    const payload = TypedDataEncoder.getPayload(resolved.domain, types, resolved.value);
    const response = await this.invoker.call({ operation: 'signTypedData', ...payload }, options);
    return verifyMessageSignature(response, TypedDataEncoder.hash(resolved.domain, types, resolved.value), address).signature;
  }

  /** Signs an EIP-7702 authorization; with a provider, a missing nonce and chain id are filled as ethers does. */
  override async authorize(request: AuthorizationRequest, options?: CallOptions): Promise<Authorization> {
    const address = await this.getAddress();
    const populated = this.provider ? await this.populateAuthorization(request) : request;
    if (populated.nonce == null) throw new InvalidRequestError('authorization nonce is required: set it, or connect a provider so that it is filled in');
    const delegate = await resolveAddress(populated.address, this.provider);
    const nonce = getBigInt(populated.nonce, 'nonce');
    const chainId = populated.chainId == null ? BigInt((await this.status(options)).chainId) : getBigInt(populated.chainId, 'chainId');
    const response = await this.invoker.call({ operation: 'signAuthorization', address: delegate, nonce: nonce.toString(), chainId: chainId.toString() }, options);
    const authorization = { address: getAddress(delegate), nonce, chainId };
    const { parsed, authorization: signed } = verifyMessageSignature(response, hashAuthorization(authorization), address);
    if (!signed || BigInt(signed.nonce) !== nonce || BigInt(signed.chainId) !== chainId || getAddress(signed.address) !== authorization.address) {
      throw new UnverifiedResponseError('the signed authorization in the response is not the one asked for; it was not used');
    }
    return { ...authorization, signature: Signature.from({ r: parsed.r, s: parsed.s, yParity: parsed.yParity }) };
  }
}
