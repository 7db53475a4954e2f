// Approvals: a transaction or a signature that moves nothing now and lets a spender move tokens later, in
// transactions this signer never sees. The policy counts them against the token's limits and refuses an
// unlimited one unless the allowing rule names the spender (unlimitedApprovalsTo).
import { getAddress } from 'ethers';
import { structFields, type TypedDataPayload } from './message';
import { decodableFunction, type DecodableFunction, type TransactionView } from './request';

/** One approval: who may spend which token, and how much (`unlimited`: everything, for as long as it stands). */
export interface Approval {
  /** Lower-case token address. */
  readonly token: string;
  /** Lower-case spender address. */
  readonly spender: string;
  readonly amount: bigint | 'unlimited';
  /** What granted it, for messages: "approve", "Permit2 PermitSingle", … */
  readonly via: string;
}

/** A call with an approval selector whose calldata does not decode canonically: it cannot be counted, so it is refused. */
export const UNDECODABLE_APPROVAL = Symbol('undecodable approval');

const UINT256_MAX = 2n ** 256n - 1n;
const UINT160_MAX = 2n ** 160n - 1n;

interface ApprovalCall {
  readonly fragment: DecodableFunction;
  readonly read: (args: readonly unknown[], to: string) => Approval;
}

const amountOf = (value: unknown, max: bigint): bigint | 'unlimited' => (value === max ? 'unlimited' : (value as bigint));
const lower = (value: unknown): string => String(value).toLowerCase();

// ERC-20 approve and the allowance increases of OpenZeppelin (increaseAllowance) and of older tokens
// (increaseApproval, ERC-1363 approveAndCall), NFT operators, and the Permit2 contract's own approve.
const APPROVAL_CALLS: readonly ApprovalCall[] = [
  ...['approve(address,uint256)', 'increaseAllowance(address,uint256)', 'increaseApproval(address,uint256)', 'approveAndCall(address,uint256)', 'approveAndCall(address,uint256,bytes)'].map(
    (signature): ApprovalCall => {
      const via = signature.slice(0, signature.indexOf('('));
      return { fragment: decodableFunction(signature), read: (args, to) => ({ token: to, spender: lower(args[0]), amount: amountOf(args[1], UINT256_MAX), via }) };
    },
  ),
  { fragment: decodableFunction('setApprovalForAll(address,bool)'), read: (args, to) => ({ token: to, spender: lower(args[0]), amount: args[1] === true ? 'unlimited' : 0n, via: 'setApprovalForAll' }) },
  {
    fragment: decodableFunction('approve(address,address,uint160,uint48)'),
    read: (args) => ({ token: lower(args[0]), spender: lower(args[1]), amount: amountOf(args[2], UINT160_MAX), via: 'Permit2 approve' }),
  },
];

/** The approval a transaction grants (none for other calls), or UNDECODABLE_APPROVAL when it cannot be read. */
export function transactionApproval(tx: TransactionView): Approval | undefined | typeof UNDECODABLE_APPROVAL {
  if (tx.to === undefined) return undefined; // a contract creation's data is init code, not a call
  for (const call of APPROVAL_CALLS) {
    if (tx.selector !== call.fragment.selector) continue;
    const args = tx.decode(call.fragment);
    return args ? call.read(args, tx.to) : UNDECODABLE_APPROVAL;
  }
  return undefined;
}

// The standard structs, as "name:type,…" (structFields): a look-alike with other fields is not one.
const PERMIT = 'owner:address,spender:address,value:uint256,nonce:uint256,deadline:uint256';
const DAI_PERMIT = 'holder:address,spender:address,nonce:uint256,expiry:uint256,allowed:bool';
const PERMIT_DETAILS = 'token:address,amount:uint160,expiration:uint48,nonce:uint48';
const TOKEN_PERMISSIONS = 'token:address,amount:uint256';

/**
 * The approvals a typed-data signature grants: EIP-2612 and DAI-style Permit (the token is the domain's
 * verifyingContract), Permit2 PermitSingle and PermitBatch (allowances), and Permit2 signature transfers
 * (PermitTransferFrom, PermitBatchTransferFrom and their witness variants: a one-time transfer up to the amount).
 */
export function typedDataApprovals(data: TypedDataPayload): Approval[] {
  const message = data.message as Record<string, unknown>;
  const primary = structFields(data, data.primaryType);
  const token = typeof data.domain.verifyingContract === 'string' ? data.domain.verifyingContract.toLowerCase() : undefined;
  if (primary === PERMIT && token) return [{ token, spender: lower(message.spender), amount: amountOf(message.value, UINT256_MAX), via: 'EIP-2612 Permit' }];
  if (primary === DAI_PERMIT && token) return [{ token, spender: lower(message.spender), amount: message.allowed === true ? 'unlimited' : 0n, via: 'DAI-style Permit' }];
  const spender = lower(message.spender);
  const approvals: Approval[] = [];
  // The parser checked that primaryType is one of the types.
  for (const field of data.types[data.primaryType]!) {
    const value = message[field.name];
    if (field.name === 'details' && structFields(data, 'PermitDetails') === PERMIT_DETAILS && (field.type === 'PermitDetails' || field.type === 'PermitDetails[]')) {
      for (const details of listOf(value)) approvals.push({ token: lower(details.token), spender, amount: amountOf(details.amount, UINT160_MAX), via: `Permit2 ${data.primaryType}` });
    }
    if (field.name === 'permitted' && structFields(data, 'TokenPermissions') === TOKEN_PERMISSIONS && (field.type === 'TokenPermissions' || field.type === 'TokenPermissions[]')) {
      for (const permitted of listOf(value)) approvals.push({ token: lower(permitted.token), spender, amount: amountOf(permitted.amount, UINT256_MAX), via: `Permit2 ${data.primaryType}` });
    }
  }
  return approvals;
}

/** A struct field's value, or each of an array's: the parser checked them against their struct type (objects). */
function listOf(value: unknown): Array<Record<string, unknown>> {
  return (Array.isArray(value) ? value : [value]) as Array<Record<string, unknown>>;
}

/** Lower-case addresses of a policy list, for comparing with Approval.spender. */
export function spenderSet(addresses: readonly string[] | undefined): ReadonlySet<string> {
  return new Set((addresses ?? []).map((address) => getAddress(address).toLowerCase()));
}
