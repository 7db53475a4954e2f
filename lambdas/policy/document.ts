// The policy document as JSON holds it, after policy.schema.json has accepted it (see schema-validator.ts).
import type { MessagesDocument } from './message-policy';

/** `false`: the rule does not match such transactions; `true`: it matches them and others; `"only"`: only them. */
export type Applies = boolean | 'only';

/** A spending limit as written in the policy. */
export interface LimitDocument {
  readonly name: string;
  readonly description?: string;
  readonly window: string;
  readonly maxValue?: string;
  readonly maxCount?: number;
  readonly token?: string;
}

/** Conditions on one decoded argument. */
export interface ArgumentDocument {
  readonly in?: readonly string[];
  readonly max?: string;
  readonly min?: string;
}

/** A call to a function given by signature, with conditions on its decoded arguments. */
export interface CallDocument {
  readonly function: string;
  readonly args?: Readonly<Record<string, ArgumentDocument>>;
}

/** One rule: an effect and the conditions (all of them) under which it applies. */
export interface RuleDocument {
  readonly id: string;
  readonly description?: string;
  readonly effect: 'allow' | 'deny';
  readonly chainId?: number | readonly number[];
  readonly to?: readonly string[];
  readonly contractCreation?: Applies;
  readonly preEip155?: Applies;
  readonly type?: number | readonly number[];
  readonly maxValue?: string;
  readonly selector?: readonly string[];
  readonly calls?: readonly CallDocument[];
  readonly maxDataBytes?: number;
  readonly maxGasLimit?: number;
  readonly maxGasPrice?: string;
  readonly maxPriorityFeePerGas?: string;
  readonly maxTotalFee?: string;
  readonly limits?: readonly LimitDocument[];
  /** Spenders this (allow) rule may grant an unlimited approval; without it unlimited approvals are refused. */
  readonly unlimitedApprovalsTo?: readonly string[];
}

/** A signing policy, version 1. */
export interface PolicyDocument {
  readonly $schema?: string;
  readonly version: 1;
  readonly description?: string;
  readonly limits?: readonly LimitDocument[];
  readonly rules: readonly RuleDocument[];
  /** signMessage, signTypedData and signAuthorization: denied unless this section allows them. */
  readonly messages?: MessagesDocument;
}
