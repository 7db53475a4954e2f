// A real DynamoDB wire protocol (dynalite, in memory) on a free loopback port, with the policy table created,
// for tests of code that keeps state in DynamoDB through the real AWS SDK.
import { type AttributeValue, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DYNALITE_CREDENTIALS, startLocalDynamoDbServer } from '../../scripts/local-stack/dynamodb';

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

/** Starts dynalite on a free loopback port and creates the policy table (pk/sk strings, as infra/policy-table.ts). */
export async function startLocalDynamoDb({ tableName = 'policy-state' }: { tableName?: string } = {}): Promise<LocalDynamoDb> {
  const server = await startLocalDynamoDbServer({ tableName });
  const { endpoint } = server;
  const clients: DynamoDBClient[] = [];
  const newClient = (config: ConstructorParameters<typeof DynamoDBClient>[0] = {}) => {
    const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: DYNALITE_CREDENTIALS, maxAttempts: 1, ...config });
    clients.push(client);
    return client;
  };
  const client = newClient();
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
      await server.close();
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
