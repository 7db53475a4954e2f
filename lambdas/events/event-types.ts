// The events the signer Lambdas take, as JSON: the TypeScript side of events.schema.json (a test checks that
// each type and its schema definition list the same fields and require the same ones). Responses are typed
// where they are built: StatusResponse (handler.ts), SignResponse, CheckResponse and MessageSignResponse.

/** A non-negative integer: a safe JSON number, a decimal string or a 0x-hex string. */
export type IntegerJson = number | string;

/** `{"operation": "status"}` */
export interface StatusRequest {
  operation: 'status';
}

/** Fields both transaction kinds share; null means absent (as in ethers' Transaction#toJSON()). */
interface TransactionJsonBase {
  to?: string | null;
  from?: string | null;
  value?: IntegerJson | null;
  data?: string | null;
  nonce: IntegerJson;
  gasLimit: IntegerJson;
  chainId?: IntegerJson | null;
  accessList?: { address: string; storageKeys?: string[] | null }[] | null;
  sig?: null;
  signature?: null;
}

/** An unsigned type 2 transaction for the EIP-1559 Lambda. */
export interface Eip1559TransactionJson extends TransactionJsonBase {
  type?: 2 | null;
  maxFeePerGas: IntegerJson;
  maxPriorityFeePerGas: IntegerJson;
  gasPrice?: null;
}

/** An unsigned type 0 (or, with an accessList, type 1) transaction for the legacy Lambda. */
export interface LegacyTransactionJson extends TransactionJsonBase {
  type?: 0 | 1 | null;
  gasPrice: IntegerJson;
  maxFeePerGas?: null;
  maxPriorityFeePerGas?: null;
}

/** sign or check a transaction on the EIP-1559 Lambda. */
export interface Eip1559TransactionRequest {
  operation: 'sign' | 'check';
  idempotencyKey?: string;
  transaction: Eip1559TransactionJson;
}

/** sign or check a transaction on the legacy Lambda. */
export interface LegacyTransactionRequest {
  operation: 'sign' | 'check';
  idempotencyKey?: string;
  replayProtection?: boolean | null;
  transaction: LegacyTransactionJson;
}

/** An EIP-191 personal message. */
export interface SignMessageRequest {
  operation: 'signMessage';
  message: string;
  encoding?: 'utf8' | 'hex';
}

/** EIP-712 typed data, as eth_signTypedData_v4 takes it. */
export interface SignTypedDataRequest {
  operation: 'signTypedData';
  domain: { name?: string; version?: string; chainId?: IntegerJson; verifyingContract?: string; salt?: string };
  types: Record<string, { name: string; type: string }[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

/** An EIP-7702 authorization. */
export interface SignAuthorizationRequest {
  operation: 'signAuthorization';
  address: string;
  nonce: IntegerJson;
  chainId?: IntegerJson;
}

/** What the EIP-1559 Lambda takes. */
export type Eip1559Request = StatusRequest | Eip1559TransactionRequest | SignMessageRequest | SignTypedDataRequest | SignAuthorizationRequest;
/** What the legacy Lambda takes. */
export type LegacyRequest = StatusRequest | LegacyTransactionRequest | SignMessageRequest | SignTypedDataRequest | SignAuthorizationRequest;
