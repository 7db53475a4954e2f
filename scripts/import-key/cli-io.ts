import { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';

/** Where a command reads and writes, so that tests can run it in-process. */
export interface CliIo {
  readonly stdin: AsyncIterable<Uint8Array | string>;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Builds the KMS client; defaults to `createKmsClient`. */
  readonly kmsClient?: (options: KmsClientOptions) => KMSClient;
  /** The ARN --create names as the new key's creator (undefined: no key policy); defaults to STS GetCallerIdentity. */
  readonly creatorArn?: (client: KMSClient) => Promise<string | undefined>;
  /** Builds the S3 client for backups; defaults to the SDK's default chain. */
  readonly s3Client?: () => S3Client;
}

/** The AWS CLI-style overrides of the SDK's default configuration chain. */
export interface KmsClientOptions {
  readonly endpoint?: string;
  readonly region?: string;
}

/** The real process's stdin, stdout and stderr. */
export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}

/**
 * A KMS client from the SDK's default chain (credentials, AWS_REGION, AWS_ENDPOINT_URL_KMS /
 * AWS_ENDPOINT_URL), with --endpoint-url and --region taking precedence as in the AWS CLI.
 */
export function createKmsClient({ endpoint, region }: KmsClientOptions): KMSClient {
  return new KMSClient({ ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}) });
}
