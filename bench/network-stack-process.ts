// Child process: the network model's far side, apart from the measured process so that none of its CPU is
// counted as the signer's: the local KMS with one key, dynalite with the policy table, and a delaying proxy in
// front of each (the DynamoDB one answers a failed condition with the item, as DynamoDB does). Prints
// {"kms","dynamodb","keyId","tableName"} on stdout; reads {"kmsMs","dynamodbMs"} lines on stdin to change the
// delays (answering "ok"); exits when stdin closes.
import { createInterface } from 'node:readline';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { localKmsClient, startLocalKms } from '../scripts/local-kms';
import { startLocalDynamoDb } from '../test/helpers/dynalite';
import { startDynamoDbFaultProxy } from '../test/helpers/dynamodb-fault-proxy';

async function main(): Promise<void> {
  const kms = await startLocalKms();
  const client = localKmsClient(kms);
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' }));
  client.destroy();
  if (!KeyMetadata?.KeyId) throw new Error('CreateKey returned no key');
  const dynamo = await startLocalDynamoDb();
  const kmsProxy = await startDynamoDbFaultProxy(kms.url);
  const dynamoProxy = await startDynamoDbFaultProxy(dynamo.endpoint, { returnItemOnConditionFailure: true });
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const { kmsMs, dynamodbMs } = JSON.parse(line) as { kmsMs: number; dynamodbMs: number };
    kmsProxy.setDelay(kmsMs);
    dynamoProxy.setDelay(dynamodbMs);
    process.stdout.write('ok\n');
  });
  lines.on('close', () => void Promise.all([kmsProxy.close(), dynamoProxy.close(), kms.close(), dynamo.close()]).then(() => process.exit(0)));
  process.stdout.write(`${JSON.stringify({ kms: kmsProxy.endpoint, dynamodb: dynamoProxy.endpoint, keyId: KeyMetadata.KeyId, tableName: dynamo.tableName })}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
