// A local DynamoDB (dynalite, in memory) on loopback with the policy table created, so a signing policy with
// spending limits (and idempotency) runs locally as it does in AWS.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { POLICY_TABLE_KEYS } from '../../lambdas/policy-state/spending-store';
import { PortInUseError, portIsFree } from '../local-chain';

/** The table name `npm run local` creates and prints as POLICY_TABLE_NAME. */
export const LOCAL_POLICY_TABLE = 'kms-eth-signer-policy-state';

/** The credentials the local SDK clients use; dynalite checks none. */
export const DYNALITE_CREDENTIALS = { accessKeyId: 'DYNALITE', secretAccessKey: 'DYNALITE' } as const;

/** A running dynalite with the policy table. */
export interface LocalDynamoDbServer {
  /** The endpoint for AWS_ENDPOINT_URL_DYNAMODB. */
  readonly endpoint: string;
  readonly port: number;
  readonly tableName: string;
  /** Stops the server (later calls fail as if DynamoDB were down); idempotent. */
  close(): Promise<void>;
}

/**
 * Starts dynalite on 127.0.0.1 (port 0: a free one) and creates the policy table with the key schema of
 * infra/policy-table.ts (pk and sk, strings; on demand). dynalite keeps no TTL: idempotency records stay until
 * the server stops, which a local run never notices.
 */
export async function startLocalDynamoDbServer({ port = 0, tableName = LOCAL_POLICY_TABLE }: { port?: number; tableName?: string } = {}): Promise<LocalDynamoDbServer> {
  if (port && !(await portIsFree(port))) throw new PortInUseError('the local DynamoDB', port);
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${actualPort}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: DYNALITE_CREDENTIALS, maxAttempts: 1 });
  try {
    await createPolicyTable(client, tableName);
  } catch (error) {
    await close();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, port: actualPort, tableName, close };
}

/** Creates the policy table (pk/sk strings, as infra/policy-table.ts) and waits until it is active. */
export async function createPolicyTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: POLICY_TABLE_KEYS.partitionKey, AttributeType: 'S' },
        { AttributeName: POLICY_TABLE_KEYS.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: POLICY_TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: POLICY_TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 0.05 as number }, { TableName: tableName });
}
