import { PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { rehearseCall } from '../signer/kms-client';
import { sharedPolicyStateClient, type PolicyStateConfig } from '../policy-state/config';

/**
 * Rehearses the policy table's calls of a signature (the reservation, the idempotency record) through the process-wide
 * DynamoDB client up to its HTTP handler, which sends nothing (rehearseCall); in a chunk of its own beside the
 * DynamoDB code, loaded only when a table is configured.
 */
export async function rehearsePolicyStateCalls(config: PolicyStateConfig): Promise<void> {
  const { tableName } = config;
  if (tableName === undefined) return;
  const client = sharedPolicyStateClient(config);
  const Key = { pk: { S: 'rehearsal' }, sk: { S: 'rehearsal' } };
  const names = { '#v': 'v' };
  await rehearseCall(client, new UpdateItemCommand({ TableName: tableName, Key, UpdateExpression: 'SET #v = :v', ConditionExpression: 'attribute_not_exists(#v)', ExpressionAttributeNames: names, ExpressionAttributeValues: { ':v': { N: '1' } }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
  await rehearseCall(client, new PutItemCommand({ TableName: tableName, Item: Key, ConditionExpression: 'attribute_not_exists(#v)', ExpressionAttributeNames: names }));
}
