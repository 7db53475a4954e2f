import { AbiCoder, type FunctionFragment, type Result } from 'ethers';

/** What the policy sees of a transaction: the validated, unsigned fields (bigints, 0x-hex data). */
export interface PolicyRequest {
  /** The chain the signature is for; undefined for a pre-EIP-155 signature, which is valid on every chain. */
  readonly chainId?: bigint;
  readonly type: number;
  /** The recipient; undefined when the transaction deploys a contract. */
  readonly to?: string;
  readonly value: bigint;
  /** 0x-prefixed hex, even length. */
  readonly data: string;
  readonly gasLimit?: bigint;
  readonly gasPrice?: bigint;
  readonly maxFeePerGas?: bigint;
  readonly maxPriorityFeePerGas?: bigint;
  /** Signed without a chain id (legacy, replayProtection false). */
  readonly preEip155: boolean;
}

const abi = AbiCoder.defaultAbiCoder();

/**
 * A request with the values every rule compares computed once (lower-case recipient, selector, fee cap),
 * and calldata decoded at most once per function however many rules ask for it.
 */
export class TransactionView {
  readonly to: string | undefined;
  readonly selector: string | undefined;
  readonly dataBytes: number;
  readonly feeCap: bigint | undefined;
  readonly creation: boolean;
  private readonly decoded = new Map<string, Result | null>();

  constructor(readonly request: PolicyRequest) {
    this.to = request.to?.toLowerCase();
    this.creation = request.to === undefined;
    this.dataBytes = (request.data.length - 2) / 2;
    this.selector = this.dataBytes >= 4 ? request.data.slice(0, 10).toLowerCase() : undefined;
    this.feeCap = request.type === 2 ? request.maxFeePerGas : request.gasPrice;
  }

  /**
   * The call's arguments decoded for `fragment`, or null if the data is not a call to it: other selector,
   * undecodable, or not the canonical encoding of what it decodes to (what a contract would read must
   * be exactly what the policy checked).
   */
  decode(fragment: FunctionFragment): Result | null {
    const cached = this.decoded.get(fragment.selector);
    if (cached !== undefined || this.decoded.has(fragment.selector)) return cached ?? null;
    let result: Result | null = null;
    if (this.selector === fragment.selector) {
      try {
        const body = `0x${this.request.data.slice(10)}`;
        const args = abi.decode(fragment.inputs, body);
        if (abi.encode(fragment.inputs, args).toLowerCase() === body.toLowerCase()) result = args;
      } catch {
        result = null;
      }
    }
    this.decoded.set(fragment.selector, result);
    return result;
  }
}
