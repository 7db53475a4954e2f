// The signers' CloudWatch metrics, read as CloudWatch reads them: from the EMF lines the handler writes to stdout.
import { captureOutputPerTest } from '../../helpers/captured-output';
import type * as Kms from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import type * as HandlerModule from '../../../lambdas/handler';
import type * as MetricsModule from '../../../lambdas/runtime/metrics';
import { KNOWN_KEYS } from '../../fixtures/known-keys';
import type * as KmsMock from '../../helpers/kms-mock';

const KEY = KNOWN_KEYS[0];
const TO = KNOWN_KEYS[1].address;
const eip1559 = { to: TO, value: '1', nonce: 0, gasLimit: 21000, maxFeePerGas: '2000000000', maxPriorityFeePerGas: '1000000000' };
const legacy = { to: TO, value: '1', nonce: 0, gasLimit: 21000, gasPrice: '1000000000' };
const context = { functionName: 'eth-signer-eip1559', awsRequestId: 'req-1' } as Context;

/** One CloudWatch Embedded Metric Format record. */
interface EmfRecord {
  _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

/** A metric as CloudWatch extracts it from an EMF record: namespace, name, unit, dimensions and value. */
interface Datum {
  namespace: string;
  name: string;
  unit: string;
  dimensions: Record<string, string>;
  value: unknown;
}

/** Extracts every datum CloudWatch would store from the EMF lines (non-EMF lines are ignored, as CloudWatch does). */
function extract(lines: string[]): Datum[] {
  const data: Datum[] = [];
  for (const line of lines.flatMap((chunk) => chunk.split('\n')).filter(Boolean)) {
    let record: EmfRecord;
    try {
      record = JSON.parse(line) as EmfRecord;
    } catch {
      continue;
    }
    for (const directive of record._aws?.CloudWatchMetrics ?? []) {
      for (const dimensionSet of directive.Dimensions) {
        for (const metric of directive.Metrics) {
          const dimensions = Object.fromEntries(dimensionSet.map((name) => [name, String(record[name])]));
          data.push({ namespace: directive.Namespace, name: metric.Name, unit: metric.Unit, dimensions, value: record[metric.Name] });
        }
      }
    }
  }
  return data;
}

describe('signer metrics (CloudWatch EMF)', () => {
  let handlerModule: typeof HandlerModule;
  let metrics: typeof MetricsModule;
  let kmsSdk: typeof Kms;
  let mockKms: typeof KmsMock.mockKms;
  const stdout = captureOutputPerTest();
  const saved = { ...process.env };

  beforeAll(async () => {
    // Metrics are off in tests (test/setup-env.ts) and read the setting when their module loads: load it afresh.
    Object.assign(process.env, { POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_SERVICE_NAME: 'team-signer', KMS_KEY_ID: 'alias/eth-signer', ETH_NETWORK: 'sepolia', LOG_LEVEL: 'SILENT' });
    jest.resetModules();
    // The SDK and its mock come from the same fresh registry as the handler, so the mock reaches its client.
    kmsSdk = await import('@aws-sdk/client-kms');
    ({ mockKms } = await import('../../helpers/kms-mock'));
    handlerModule = await import('../../../lambdas/handler');
    metrics = await import('../../../lambdas/runtime/metrics');
  });
  afterAll(() => {
    process.env = saved;
  });

  const handler = (kind: 'eip1559' | 'legacy') => handlerModule.createHandler(kind, { client: new kmsSdk.KMSClient({ region: 'us-east-1' }) });

  it('counts an EIP-1559 signature in namespace KmsEthSigner, in total and by transaction type, with its KMS latency in milliseconds', async () => {
    mockKms(KEY.privateKey);
    await handler('eip1559')({ operation: 'sign', transaction: eip1559 }, context);
    const data = extract(stdout.lines);
    const service = { service: 'team-signer' };
    expect(data).toEqual(
      expect.arrayContaining([
        { namespace: 'KmsEthSigner', name: 'Signatures', unit: 'Count', dimensions: service, value: 1 },
        { namespace: 'KmsEthSigner', name: 'Signatures', unit: 'Count', dimensions: { ...service, TransactionType: 'eip1559' }, value: 1 },
        { namespace: 'KmsEthSigner', name: 'KmsSignLatency', unit: 'Milliseconds', dimensions: service, value: expect.any(Number) },
      ]),
    );
    expect(data.filter((d) => d.name === 'Errors')).toEqual([]);
    const latency = data.find((d) => d.name === 'KmsSignLatency')!.value as number;
    expect(latency).toBeGreaterThanOrEqual(0);
    expect(latency).toBeLessThan(10_000);
  });

  it.each([
    ['a legacy (type 0)', legacy, 'legacy'],
    ['an EIP-2930 (type 1)', { ...legacy, accessList: [] }, 'eip2930'],
  ])('names the transaction type of %s signature', async (_label, transaction, type) => {
    mockKms(KEY.privateKey);
    await handler('legacy')({ operation: 'sign', transaction }, context);
    const byType = extract(stdout.lines).filter((d) => d.name === 'Signatures' && 'TransactionType' in d.dimensions);
    expect(byType.map((d) => d.dimensions.TransactionType)).toEqual([type]);
  });

  it('counts a refused request as an error of its type, and no signature', async () => {
    const kms = mockKms(KEY.privateKey);
    await expect(handler('eip1559')({ operation: 'sign', transaction: { ...eip1559, nonce: -1 } }, context)).rejects.toMatchObject({ name: 'InvalidRequestError' });
    const data = extract(stdout.lines);
    expect(data.filter((d) => d.name === 'Errors')).toEqual([
      expect.objectContaining({ dimensions: { service: 'team-signer', ErrorType: 'InvalidRequestError' }, value: 1 }),
      expect.objectContaining({ dimensions: { service: 'team-signer' }, value: 1 }),
    ]);
    expect(data.filter((d) => d.name === 'Signatures')).toEqual([]);
    expect(kms.commandCalls(kmsSdk.SignCommand)).toHaveLength(0); // a cold start may have looked the key up (GetPublicKey first)
  });

  it('counts KMS throttling as KmsThrottledError (what the KMS throttling alarm watches)', async () => {
    const kms = mockKms(KEY.privateKey);
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    kms.on(kmsSdk.SignCommand).rejects(throttled);
    await expect(handler('eip1559')({ operation: 'sign', transaction: eip1559 }, context)).rejects.toMatchObject({ name: 'KmsThrottledError' });
    expect(extract(stdout.lines)).toContainEqual(expect.objectContaining({ name: 'Errors', dimensions: { service: 'team-signer', ErrorType: 'KmsThrottledError' } }));
  });

  it('counts a message-operation signature in total and by operation, with its KMS latency', async () => {
    mockKms(KEY.privateKey);
    process.env.SIGNING_POLICY_FILE = 'examples/policies/local-demo.json'; // allows messages starting "kms-eth-signer demo: "
    try {
      await handler('eip1559')({ operation: 'signMessage', message: 'kms-eth-signer demo: metrics' }, context);
    } finally {
      process.env.SIGNING_POLICY_FILE = saved.SIGNING_POLICY_FILE;
    }
    const data = extract(stdout.lines);
    expect(data).toEqual(
      expect.arrayContaining([
        { namespace: 'KmsEthSigner', name: 'Signatures', unit: 'Count', dimensions: { service: 'team-signer' }, value: 1 },
        { namespace: 'KmsEthSigner', name: 'Signatures', unit: 'Count', dimensions: { service: 'team-signer', TransactionType: 'signMessage' }, value: 1 },
        { namespace: 'KmsEthSigner', name: 'KmsSignLatency', unit: 'Milliseconds', dimensions: { service: 'team-signer' }, value: expect.any(Number) },
      ]),
    );
  });

  it('writes no metric for a status request', async () => {
    mockKms(KEY.privateKey);
    await handler('eip1559')({ operation: 'status' }, context);
    expect(extract(stdout.lines)).toEqual([]);
  });

  describe('recording directly', () => {
    it('keeps the KMS latency to a tenth of a millisecond', () => {
      metrics.recordSignature(2, 12.345);
      metrics.publishMetrics();
      expect(extract(stdout.lines).find((d) => d.name === 'KmsSignLatency')?.value).toBe(12.3);
    });

    it('keeps the KMS latency of a message signature to a tenth of a millisecond', () => {
      metrics.recordMessageSignature('signTypedData', 12.345);
      metrics.publishMetrics();
      expect(extract(stdout.lines).find((d) => d.name === 'KmsSignLatency')?.value).toBe(12.3);
    });

    it('names a transaction type it does not know by its number', () => {
      metrics.recordSignature(7, 1);
      metrics.publishMetrics();
      expect(extract(stdout.lines).find((d) => 'TransactionType' in d.dimensions)?.dimensions.TransactionType).toBe('type-7');
    });

    it("counts an error whose name is empty as 'unknown', and no denial for an error that is not a PolicyDeniedError", () => {
      metrics.recordError(Object.assign(new Error('x'), { name: '' }));
      metrics.recordError(Object.assign(new Error('x'), { name: 'KmsThrottledError', ruleId: 'not-a-denial' }));
      metrics.publishMetrics();
      const data = extract(stdout.lines);
      expect(data).toContainEqual(expect.objectContaining({ name: 'Errors', dimensions: { service: 'team-signer', ErrorType: 'unknown' } }));
      expect(data.filter((d) => d.name === 'PolicyDenials')).toEqual([]);
    });

    it("counts a PolicyDeniedError with an empty rule id as a denial by 'default-deny'", () => {
      metrics.recordError(Object.assign(new Error('denied'), { name: 'PolicyDeniedError', ruleId: '' }));
      metrics.publishMetrics();
      expect(extract(stdout.lines)).toContainEqual(expect.objectContaining({ name: 'PolicyDenials', dimensions: { service: 'team-signer', Rule: 'default-deny' } }));
    });
  });

  describe('policy denials', () => {
    it('counts a denial in total and by the id of the rule that denied it', () => {
      metrics.recordDenial('max-value-per-tx');
      metrics.publishMetrics();
      const denials = extract(stdout.lines).filter((d) => d.name === 'PolicyDenials');
      expect(denials).toEqual([
        expect.objectContaining({ unit: 'Count', dimensions: { service: 'team-signer', Rule: 'max-value-per-tx' }, value: 1 }),
        expect.objectContaining({ unit: 'Count', dimensions: { service: 'team-signer' }, value: 1 }),
      ]);
    });

    it('counts a PolicyDeniedError both as an error and as a denial of its rule', () => {
      const denied = Object.assign(new Error('denied'), { name: 'PolicyDeniedError', ruleId: 'allow-list' });
      metrics.recordError(denied);
      metrics.publishMetrics();
      const data = extract(stdout.lines);
      expect(data).toContainEqual(expect.objectContaining({ name: 'Errors', dimensions: { service: 'team-signer', ErrorType: 'PolicyDeniedError' } }));
      expect(data).toContainEqual(expect.objectContaining({ name: 'PolicyDenials', dimensions: { service: 'team-signer', Rule: 'allow-list' } }));
    });

    it("counts a denial by no rule (no allow rule matched) as the rule 'default-deny'", () => {
      metrics.recordError(Object.assign(new Error('denied'), { name: 'PolicyDeniedError', ruleId: undefined }));
      metrics.publishMetrics();
      expect(extract(stdout.lines)).toContainEqual(expect.objectContaining({ name: 'PolicyDenials', dimensions: { service: 'team-signer', Rule: 'default-deny' } }));
      expect(extract(stdout.lines)).toContainEqual(expect.objectContaining({ name: 'PolicyDenials', dimensions: { service: 'team-signer' }, value: 1 }));
    });

    it('caps a long rule id at 128 characters (CloudWatch takes 1024; a dimension is a name, not a payload)', () => {
      metrics.recordDenial('r'.repeat(5000));
      expect(extract(stdout.lines).find((d) => 'Rule' in d.dimensions)?.dimensions.Rule).toBe('r'.repeat(128));
    });
  });
});

// Module-level settings are read when the module loads, so these load it afresh inside the test.
describe('signer metrics, module loaded afresh without POWERTOOLS_SERVICE_NAME', () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  it("keeps namespace KmsEthSigner, uses the service dimension 'eth-signer', names transaction types 0 to 4, and names a denial by no rule 'default-deny'", async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    delete process.env.POWERTOOLS_SERVICE_NAME;
    jest.resetModules();
    const fresh = await import('../../../lambdas/runtime/metrics');
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      fresh.recordDenial('some-rule');
      fresh.publishMetrics();
      for (const type of [0, 1, 2, 3, 4]) fresh.recordSignature(type, 1);
      fresh.recordError(Object.assign(new Error('denied'), { name: 'PolicyDeniedError' }));
      fresh.publishMetrics();
    } finally {
      spy.mockRestore();
    }
    const data = extract(lines);
    expect(new Set(data.map((d) => d.namespace))).toEqual(new Set(['KmsEthSigner']));
    expect(new Set(data.map((d) => d.dimensions.service))).toEqual(new Set(['eth-signer']));
    expect(data.filter((d) => 'TransactionType' in d.dimensions).map((d) => d.dimensions.TransactionType)).toEqual(['legacy', 'eip2930', 'eip1559', 'eip4844', 'eip7702']);
    expect(data.filter((d) => 'Rule' in d.dimensions).map((d) => d.dimensions.Rule)).toEqual(['some-rule', 'default-deny']);
  });
});
