import { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import { resolve } from 'node:path';
import { cliRegion } from './aws-setup';

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
 * A KMS client from the SDK's default chain (credentials, AWS_REGION or AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_KMS /
 * AWS_ENDPOINT_URL), with --endpoint-url and --region taking precedence as in the AWS CLI.
 */
export function createKmsClient({ endpoint, region }: KmsClientOptions): KMSClient {
  const resolved = cliRegion(region);
  return new KMSClient({ ...(endpoint ? { endpoint } : {}), ...(resolved ? { region: resolved } : {}) });
}

/**
 * A file name as the user meant it, made absolute: npm runs scripts in the repository root and records the
 * directory it was started from in INIT_CWD, so relative paths resolve against that directory.
 */
export function userPath(path: string): string {
  return resolve(process.env.INIT_CWD || process.cwd(), path);
}

/** A user-given string capped for an error message (every input is hostile: never echo a megabyte). */
export function capped(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}
