/**
 * The environment our handler reads on its first invocation; SILENT and no metrics (EMF lines on stdout)
 * because the peers neither log nor publish metrics; the policy allows anything (bench/policy.ts measures
 * evaluation).
 */
export const BENCH_HANDLER_ENV = {
  KMS_KEY_ID: 'alias/eth-signer',
  ETH_NETWORK: 'sepolia',
  LOG_LEVEL: 'SILENT',
  SIGNING_POLICY_FILE: 'examples/policies/allow-all.json',
  POWERTOOLS_METRICS_DISABLED: 'true',
} as const;
