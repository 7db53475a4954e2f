// The CloudWatch metrics the signers publish (lambdas/runtime/metrics.ts) and the stack alarms on (infra/monitoring.ts):
// one definition, so a renamed metric cannot silently leave an alarm watching nothing.

/** The CloudWatch namespace of every signer metric. */
export const METRICS_NAMESPACE = 'KmsEthSigner';

/** Metric names, and the dimension each one is also published with. */
export const METRIC = {
  /** Count of signatures; also by TransactionType (legacy, eip2930, eip1559, …). */
  signatures: 'Signatures',
  /** Count of requests the signing policy refused; also by Rule. */
  policyDenials: 'PolicyDenials',
  /** Count of failed requests; also by ErrorType (the error's name). */
  errors: 'Errors',
  /** Milliseconds of the KMS Sign call behind each signature. */
  kmsLatency: 'KmsSignLatency',
} as const;

/** Dimension names beside the default `service` dimension (the function name prefix). */
export const DIMENSION = { transactionType: 'TransactionType', rule: 'Rule', errorType: 'ErrorType' } as const;
