import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DIMENSION, METRIC, METRICS_NAMESPACE } from './metric-names';

// Every metric is published twice: without an extra dimension (what alarms watch: the total) and with one
// (what the dashboard breaks down). EMF lines go to stdout, so CloudWatch extracts them with no API call.
// The service dimension is the function name prefix (POWERTOOLS_SERVICE_NAME), so stacks do not mix.
// Made on first use, so that the environment (POWERTOOLS_METRICS_DISABLED too) is read as the handler reads
// its settings: on the first invocation, not when the module loads.
let instance: Metrics | undefined;
const metrics = (): Metrics =>
  (instance ??= new Metrics({ namespace: METRICS_NAMESPACE, serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'eth-signer' }));
// One single-metric instance for every dimensioned metric: Powertools' singleMetric() builds a whole Metrics
// (environment reads, a new Console) on each call, a measurable part of a warm signature's CPU. Reusing one
// emits the same line: a single-metric instance publishes on addMetric and then clears its metrics and the
// dimension added for it, keeping the default (service) dimension, which never changes after creation.
let single: Metrics | undefined;
const singleMetric = (): Metrics => (single ??= metrics().singleMetric());

// CloudWatch accepts dimension values up to 1024 characters; ours are names, so cap them far below that.
const MAX_DIMENSION_LENGTH = 128;
const TRANSACTION_TYPES = new Map([[0, 'legacy'], [1, 'eip2930'], [2, 'eip1559'], [3, 'eip4844'], [4, 'eip7702']]);

/** Makes the metrics loggers now (reading their settings), so that the first signature does not. */
export function prepareMetrics(): void {
  singleMetric();
}

/** Counts one signature by transaction type, with the latency of its KMS Sign call. */
export function recordSignature(transactionType: number | null, kmsLatencyMs: number): void {
  metrics().addMetric(METRIC.signatures, MetricUnit.Count, 1);
  metrics().addMetric(METRIC.kmsLatency, MetricUnit.Milliseconds, Math.round(kmsLatencyMs * 10) / 10);
  const type = TRANSACTION_TYPES.get(transactionType ?? 0) ?? `type-${transactionType}`;
  emitWithDimension(METRIC.signatures, DIMENSION.transactionType, type);
}

/** Counts one signMessage, signTypedData or signAuthorization signature, by operation, with its KMS latency. */
export function recordMessageSignature(operation: string, kmsLatencyMs: number): void {
  metrics().addMetric(METRIC.signatures, MetricUnit.Count, 1);
  metrics().addMetric(METRIC.kmsLatency, MetricUnit.Milliseconds, Math.round(kmsLatencyMs * 10) / 10);
  // The dashboard's breakdown of signatures is by TransactionType; a message operation is its own kind there.
  emitWithDimension(METRIC.signatures, DIMENSION.transactionType, operation);
}

/** Counts one request the signing policy refused, by the id of the rule that refused it. */
export function recordDenial(ruleId: string): void {
  metrics().addMetric(METRIC.policyDenials, MetricUnit.Count, 1);
  emitWithDimension(METRIC.policyDenials, DIMENSION.rule, ruleId);
}

/** The Rule dimension of a denial no deny rule matched (no allow rule did either). */
export const DEFAULT_DENY_RULE = 'default-deny';

/**
 * Counts one failed request by error type; a PolicyDeniedError (lambdas/policy) also counts as a denial of
 * its rule (`ruleId`, undefined when no allow rule matched). Matched by name so metrics need not load the policy.
 */
export function recordError(error: Error): void {
  metrics().addMetric(METRIC.errors, MetricUnit.Count, 1);
  emitWithDimension(METRIC.errors, DIMENSION.errorType, error.name);
  if (error.name === 'PolicyDeniedError') {
    const ruleId = (error as { ruleId?: unknown }).ruleId;
    recordDenial(typeof ruleId === 'string' && ruleId !== '' ? ruleId : DEFAULT_DENY_RULE);
  }
}

/** Writes the metrics of this invocation (one EMF line); a no-op when there are none. */
export function publishMetrics(): void {
  if (metrics().hasStoredMetrics()) metrics().publishStoredMetrics();
}

function emitWithDimension(metric: string, dimension: string, value: string): void {
  const single = singleMetric();
  single.addDimension(dimension, value.slice(0, MAX_DIMENSION_LENGTH) || 'unknown');
  single.addMetric(metric, MetricUnit.Count, 1);
}
