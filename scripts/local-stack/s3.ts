import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { PortInUseError, portIsFree } from '../local-chain';

/** A running local S3 (s3rver) on loopback. */
export interface LocalS3Server {
  /** The endpoint for AWS_ENDPOINT_URL_S3. */
  readonly url: string;
  readonly port: number;
  readonly buckets: readonly string[];
  close(): Promise<void>;
}

/** The credentials s3rver accepts (it checks SigV4 signatures against them); the local KMS accepts any. */
export const S3RVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } as const;

/**
 * Starts s3rver on 127.0.0.1 with the given buckets. Objects live in `directory` (kept) or, without one, in a
 * temporary directory removed by `close`. Port 0 picks a free port.
 */
export async function startLocalS3Server(options: { port?: number; directory?: string; buckets: readonly string[] }): Promise<LocalS3Server> {
  // s3rver reports a taken port as an unhandled 'error' event, not as a rejection: check first.
  if (options.port && !(await portIsFree(options.port))) throw new PortInUseError('the local S3', options.port);
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'local-s3-'));
  if (options.directory) mkdirSync(directory, { recursive: true, mode: 0o700 });
  const server = new S3rver({
    port: options.port ?? 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  let address: AddressInfo;
  try {
    address = (await server.run()) as AddressInfo;
  } catch (error) {
    if (!options.directory) rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    buckets: options.buckets,
    close: async () => {
      await server.close();
      if (!options.directory) rmSync(directory, { recursive: true, force: true });
    },
  };
}
