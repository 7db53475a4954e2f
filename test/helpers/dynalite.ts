// A real DynamoDB wire protocol (dynalite, in memory) on a free loopback port, with the policy table created,
// for tests of code that keeps state in DynamoDB through the real AWS SDK.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { type AttributeValue, CreateTableCommand, DynamoDBClient, QueryCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { POLICY_TABLE_KEYS } from '../../lambdas/policy-state/spending-store';

/** A running dynalite with the policy table, and an SDK client pointed at it. */
export interface LocalDynamoDb {
  readonly endpoint: string;
  readonly tableName: string;
  readonly client: DynamoDBClient;
  /** A new client for the same server (e.g. with other timeouts). */
  newClient(config?: ConstructorParameters<typeof DynamoDBClient>[0]): DynamoDBClient;
  /** Stops the server (later calls fail as if DynamoDB were down); idempotent. */
  close(): Promise<void>;
}

const CREDENTIALS = { accessKeyId: 'DYNALITE', secretAccessKey: 'DYNALITE' };

/** Starts dynalite on a free loopback port and creates the policy table (pk/sk strings, as infra/policy-table.ts). */
export async function startLocalDynamoDb({ tableName = 'policy-state' }: { tableName?: string } = {}): Promise<LocalDynamoDb> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: DynamoDBClient[] = [];
  const newClient = (config: ConstructorParameters<typeof DynamoDBClient>[0] = {}) => {
    const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1, ...config });
    clients.push(client);
    return client;
  };
  const client = newClient();
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
  let closed = false;
  return {
    endpoint,
    tableName,
    client,
    newClient,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const c of clients) c.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The idempotency records in a key's partition of the policy table for one scope (sort keys `idempotency#<scope>#…`). */
export async function idempotencyRecords(dynamo: LocalDynamoDb, keyArn: string, scope: string): Promise<Record<string, AttributeValue>[]> {
  const { Items } = await dynamo.client.send(
    new QueryCommand({
      TableName: dynamo.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': { S: keyArn }, ':prefix': { S: `idempotency#${scope}#` } },
    }),
  );
  return Items ?? [];
}
