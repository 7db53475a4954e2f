// Which commands a client sends through the SDK's middleware stack (dynamodb-wire.ts sends a wire client's calls
// after the table's first without it, so a wire client's list shows what went through the SDK).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** The names of the commands `client` sends through its middleware stack from now on, in order: one per send, not per attempt. */
export function recordSdkCommands(client: DynamoDBClient): string[] {
  const commands: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      commands.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'recordSdkCommands' },
  );
  return commands;
}
