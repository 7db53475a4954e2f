import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * A stack output whose logical id is exactly `id` (no hash suffix, wherever the construct sits) and which is
 * exported as `<stack name>-<id>`: scripts and other stacks read outputs by these names, so they never change.
 */
export function stableOutput(scope: Construct, id: string, value: string, description?: string): CfnOutput {
  const stack = Stack.of(scope);
  const output = new CfnOutput(scope, id, { value, exportName: `${stack.stackName}-${id}`, ...(description !== undefined && { description }) });
  output.overrideLogicalId(id);
  return output;
}
