// A viem LocalAccount over a kms-eth-signer Lambda (toAccount): signMessage, signTransaction, signTypedData and
// signAuthorization go to the Lambda over Invoke; every signature is checked here to recover to its address.
// viem is loaded only when an account is made: importing kms-eth-signer/client does not need viem.
import { getAddress, hashAuthorization, hexlify, type AccessList } from 'ethers';
import type { Hex, LocalAccount, SerializeTransactionFn, SignableMessage, TransactionSerializable, TypedDataDefinition } from 'viem';
import { InvalidRequestError, UnverifiedResponseError } from './errors';
import { LambdaInvoker, type CallOptions, type LambdaInvokerOptions } from './invoker';
import { verifyMessageSignature } from './message';
import { fetchStatus } from './status';
import { toEventTransaction, verifySignedTransaction } from './transaction';

/** How to reach the signer Lambda; per-call timeouts come from `timeoutMs` (and `signal`) here. */
export type LambdaAccountOptions = LambdaInvokerOptions;

const TYPES: ReadonlyMap<string, number> = new Map([
  ['legacy', 0],
  ['eip2930', 1],
  ['eip1559', 2],
]);

/**
 * Makes a viem LocalAccount whose key is the signer Lambda's: its address comes from the Lambda's status (one
 * Invoke now). Use it with a wallet client: viem fills nonce, fees and gas, the Lambda's policy decides, the
 * account returns what the Lambda signed. Policy denials and other Lambda errors arrive as the classes in ./errors.
 */
export async function lambdaAccount(options: LambdaAccountOptions, callOptions?: CallOptions): Promise<LocalAccount> {
  const [{ toAccount }, { hashMessage, hashTypedData }] = await Promise.all([import('viem/accounts'), import('viem')]);
  const invoker = new LambdaInvoker(options);
  const { address } = await fetchStatus(invoker, callOptions);

  return toAccount({
    address: address as Hex,

    async signMessage({ message }: { message: SignableMessage }): Promise<Hex> {
      const event = typeof message === 'string' ? { operation: 'signMessage', message, encoding: 'utf8' } : { operation: 'signMessage', message: typeof message.raw === 'string' ? message.raw : hexlify(message.raw), encoding: 'hex' };
      const response = await invoker.call(event);
      return verifyMessageSignature(response, hashMessage(message), address).signature as Hex;
    },

    async signTransaction(transaction: TransactionSerializable, signOptions?: { serializer?: SerializeTransactionFn<TransactionSerializable> | undefined }): Promise<Hex> {
      if (signOptions?.serializer) {
        throw new InvalidRequestError("this chain has its own transaction serializer, but the signer Lambda serializes standard Ethereum transactions only; use a chain without custom serializers");
      }
      const sent = toEventTransaction(fromViemTransaction(transaction));
      const idempotencyKey = options.idempotencyKeyFor?.(sent) ?? crypto.randomUUID();
      const response = await invoker.call({ operation: 'sign', transaction: sent, idempotencyKey });
      return verifySignedTransaction(response, sent, address) as Hex;
    },

    async signTypedData(typedData): Promise<Hex> {
      const definition = typedData as TypedDataDefinition;
      const event = {
        operation: 'signTypedData',
        domain: toJson(definition.domain ?? {}),
        types: definition.types,
        primaryType: definition.primaryType,
        message: toJson(definition.message ?? {}),
      };
      const response = await invoker.call(event);
      return verifyMessageSignature(response, hashTypedData(definition), address).signature as Hex;
    },

    async signAuthorization(request) {
      const delegate = getAddress(request.address ?? request.contractAddress ?? '');
      const authorization = { address: delegate, nonce: BigInt(request.nonce), chainId: BigInt(request.chainId) };
      const response = await invoker.call({ operation: 'signAuthorization', address: delegate, nonce: authorization.nonce.toString(), chainId: authorization.chainId.toString() });
      const { parsed, authorization: signed } = verifyMessageSignature(response, hashAuthorization(authorization), address);
      if (!signed || BigInt(signed.nonce) !== authorization.nonce || BigInt(signed.chainId) !== authorization.chainId || getAddress(signed.address) !== delegate) {
        throw new UnverifiedResponseError('the signed authorization in the response is not the one asked for; it was not used');
      }
      return { address: delegate as Hex, chainId: request.chainId, nonce: request.nonce, r: parsed.r as Hex, s: parsed.s as Hex, yParity: parsed.yParity, v: BigInt(parsed.v) };
    },
  });
}

/** viem's transaction fields in the neutral shape of ./transaction (gas is gasLimit, type a number). */
function fromViemTransaction(tx: TransactionSerializable): Parameters<typeof toEventTransaction>[0] {
  const type = tx.type === undefined ? undefined : TYPES.get(tx.type);
  if (tx.type !== undefined && type === undefined) throw new InvalidRequestError(`transaction type ${String(tx.type).slice(0, 20)} is not signed by the signer Lambdas: legacy, eip2930 and eip1559 only`);
  const fields = tx as TransactionSerializable & Partial<Record<'gasPrice' | 'maxFeePerGas' | 'maxPriorityFeePerGas' | 'authorizationList' | 'blobs' | 'blobVersionedHashes' | 'maxFeePerBlobGas', unknown>> & { accessList?: AccessList };
  return {
    ...(type !== undefined && { type }),
    to: tx.to ?? null,
    value: tx.value ?? null,
    data: tx.data ?? null,
    nonce: tx.nonce ?? null,
    gasLimit: tx.gas ?? null,
    chainId: tx.chainId ?? null,
    gasPrice: (fields.gasPrice as bigint | undefined) ?? null,
    maxFeePerGas: (fields.maxFeePerGas as bigint | undefined) ?? null,
    maxPriorityFeePerGas: (fields.maxPriorityFeePerGas as bigint | undefined) ?? null,
    accessList: fields.accessList ?? null,
    authorizationList: fields.authorizationList,
    blobs: fields.blobs,
    blobVersionedHashes: fields.blobVersionedHashes,
    maxFeePerBlobGas: fields.maxFeePerBlobGas,
  };
}

/** Typed data as eth_signTypedData_v4's JSON: bigints as decimal strings, bytes as hex; the rest as it is. */
function toJson(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return hexlify(value);
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, toJson(field)]));
  return value;
}
