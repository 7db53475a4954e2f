/** A rolling-window cap declared in the policy (per rule, or for the whole key). */
export interface SpendingLimit {
  readonly id: string;               // stable: "key:<name>" for key-wide limits, "rule:<ruleId>:<name>" for rule limits
  readonly windowSeconds: number;    // rolling window length, e.g. 86400
  readonly maxAmount?: bigint;       // cap on the sum of amounts in the window (wei, or token base units)
  readonly maxCount?: number;        // cap on the number of signatures in the window
  readonly asset: 'native' | string; // 'native' (ETH value) or a lower-case ERC-20 token address (decoded transfer amounts)
}
/** What one transaction adds to one limit. */
export interface SpendCharge { readonly limit: SpendingLimit; readonly amount: bigint }
