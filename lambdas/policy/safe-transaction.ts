// A Safe owner's signature over a SafeTx authorizes the transaction the Safe will run: the policy reads it as
// that transaction (its to, value and calldata), so that a SafeTx is no way around the transaction rules and
// spending limits. Only what can be read as one plain call is governable; everything else fails closed.
import type { PolicyRequest } from './request';
import { fieldList, structFields, type TypedDataPayload } from './message';

// Safe 1.3.0 and 1.4.1: SAFE_TX_TYPEHASH and DOMAIN_SEPARATOR_TYPEHASH.
const SAFE_TX_FIELDS = 'to:address,value:uint256,data:bytes,operation:uint8,safeTxGas:uint256,baseGas:uint256,gasPrice:uint256,gasToken:address,refundReceiver:address,nonce:uint256';
const SAFE_DOMAIN_FIELDS = 'chainId:uint256,verifyingContract:address';

/** The SafeTx message as parseTypedData normalised it (integers as bigint, addresses EIP-55, bytes lower-case hex). */
interface SafeTxMessage {
  readonly to: string;
  readonly value: bigint;
  readonly data: string;
  readonly operation: bigint;
  readonly gasPrice: bigint;
}

/**
 * The transaction a Safe 1.3.0/1.4.1 SafeTx makes the Safe send, for the transaction rules to decide on; or why it
 * cannot be read as one (then the policy denies it).
 */
export function safeTransactionRequest(data: TypedDataPayload): PolicyRequest | string {
  const fields = structFields(data, 'SafeTx');
  if (data.primaryType !== 'SafeTx' || fields !== SAFE_TX_FIELDS) {
    return 'the typed data is not a Safe 1.3.0/1.4.1 SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,uint256 baseGas,uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)';
  }
  if (fieldList(data.domainFields) !== SAFE_DOMAIN_FIELDS) {
    return 'the domain is not a Safe 1.3.0/1.4.1 domain EIP712Domain(uint256 chainId,address verifyingContract)';
  }
  const message = data.message as unknown as SafeTxMessage;
  if (message.operation !== 0n) return `SafeTx.operation is ${message.operation}: a DELEGATECALL runs other code as the Safe itself, which no transaction rule can govern; only operation 0 (CALL) is allowed`;
  if (message.gasPrice !== 0n) return `SafeTx.gasPrice is ${message.gasPrice}: a gas refund pays the Safe's funds to refundReceiver, which no spending limit counts; only gasPrice 0 is allowed`;
  return {
    chainId: data.domain.chainId as bigint,
    type: 2,
    to: message.to,
    value: message.value,
    data: message.data,
    preEip155: false,
  };
}
