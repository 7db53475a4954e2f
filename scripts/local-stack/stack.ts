import { join } from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { createKmsClient } from '../../lambdas/signer/kms-client';
import { startAnvil, type Anvil } from '../local-chain';
import { startLocalKms, type LocalKms } from '../local-kms';
import { startLocalDynamoDbServer, type LocalDynamoDbServer } from './dynamodb';
import { S3RVER_CREDENTIALS, startLocalS3Server, type LocalS3Server } from './s3';

/** How to start the local stack. Ports default to 0: a free port each run. */
export interface LocalStackOptions {
  /** Keep the local KMS's keys (DIR/state.json) and the local S3's objects (DIR/s3) across restarts. */
  readonly dataDir?: string;
  readonly kmsPort?: number;
  readonly anvilPort?: number;
  /** Extra anvil arguments, such as ['--hardfork', 'prague']. */
  readonly anvilArgs?: readonly string[];
  /** Also start a local S3 (s3rver) with these buckets, for backups. */
  readonly s3?: { readonly port?: number; readonly buckets: readonly string[] };
  /** Also start a local DynamoDB (dynalite) with the policy table, for spending limits and idempotency. */
  readonly dynamodb?: { readonly port?: number };
}

/** The local KMS and anvil (and, when asked, a local S3 and DynamoDB), running together on loopback. */
export interface LocalStack {
  readonly kms: LocalKms;
  readonly anvil: Anvil;
  readonly s3?: LocalS3Server;
  /** dynalite with the policy table (its name is `dynamodb.tableName`, for POLICY_TABLE_NAME). */
  readonly dynamodb?: LocalDynamoDbServer;
  /** An SDK client for the local KMS, configured as the signer Lambdas configure theirs (createKmsClient). */
  readonly kmsClient: KMSClient;
  /**
   * The environment that points the AWS SDK, the AWS CLI and cast at the local KMS (and S3, DynamoDB). Only the
   * service-specific endpoints: AWS_ENDPOINT_URL would send every other AWS service (STS, S3, …) to the KMS.
   */
  readonly awsEnv: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the local KMS and anvil (and S3 with `options.s3`, DynamoDB with `options.dynamodb`) on loopback; `close` stops them all. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const started = await Promise.allSettled([
    startLocalKms({ dataDir: options.dataDir, port: options.kmsPort }),
    startAnvil([...(options.anvilArgs ?? [])], { port: options.anvilPort }),
    options.s3 ? startLocalS3Server({ ...options.s3, ...(options.dataDir ? { directory: join(options.dataDir, 's3') } : {}) }) : Promise.resolve(undefined),
    options.dynamodb ? startLocalDynamoDbServer({ ...(options.dynamodb.port !== undefined && { port: options.dynamodb.port }) }) : Promise.resolve(undefined),
  ] as const);
  const [kmsResult, anvilResult, s3Result, dynamoResult] = started;
  if (kmsResult.status === 'rejected' || anvilResult.status === 'rejected' || s3Result.status === 'rejected' || dynamoResult.status === 'rejected') {
    // Leave nothing running when one part cannot start (a port in use).
    await Promise.all(started.map((result) => (result.status === 'fulfilled' ? result.value?.close() : undefined)));
    throw [kmsResult, anvilResult, s3Result, dynamoResult].find((result): result is PromiseRejectedResult => result.status === 'rejected')?.reason;
  }
  const [kms, anvil, s3, dynamodb] = [kmsResult.value, anvilResult.value, s3Result.value, dynamoResult.value];
  const awsEnv: Record<string, string> = {
    AWS_ENDPOINT_URL_KMS: kms.url, // the AWS SDKs (JavaScript, and Rust in cast --aws), AWS CLI v2
    ...(s3 && { AWS_ENDPOINT_URL_S3: s3.url }),
    ...(dynamodb && { AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint }),
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1', // what AWS CLI v1 reads
    ...S3RVER_CREDENTIALS, // s3rver checks them; the local KMS and dynalite take any
  };
  const kmsClient = createKmsClient({
    endpoint: kms.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, // the local KMS takes any
  });
  return {
    kms,
    anvil,
    ...(s3 && { s3 }),
    ...(dynamodb && { dynamodb }),
    kmsClient,
    awsEnv,
    close: async () => {
      kmsClient.destroy();
      await Promise.all([kms.close(), anvil.close(), s3?.close(), dynamodb?.close()]);
    },
  };
}

/** Creates an ECC_SECG_P256K1 signing key in KMS, with an alias if given; returns its key id and ARN. */
export async function createSigningKey(client: KMSClient, alias?: string): Promise<{ keyId: string; keyArn: string }> {
  const { KeyMetadata } = await client.send(
    new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY', Description: 'kms-eth-signer local demo key' }),
  );
  if (!KeyMetadata?.KeyId || !KeyMetadata.Arn) throw new Error('CreateKey returned no key');
  if (alias) await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyMetadata.KeyId }));
  return { keyId: KeyMetadata.KeyId, keyArn: KeyMetadata.Arn };
}
