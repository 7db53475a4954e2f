import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** The context key under which an EthereumSigner gives its subtree the prefix of its output ids. */
export const OUTPUT_ID_PREFIX_CONTEXT = 'kms-eth-signer:outputIdPrefix';

/**
 * A stack output whose logical id is exactly `id` (no hash suffix, wherever the construct sits), after the
 * enclosing EthereumSigner's prefix (none in the repository's stack), and which is exported as
 * `<stack name>-<that id>`: scripts and other stacks read outputs by these names, so they never change.
 */
export function stableOutput(scope: Construct, id: string, value: string, description?: string): CfnOutput {
  const stack = Stack.of(scope);
  const prefix = scope.node.tryGetContext(OUTPUT_ID_PREFIX_CONTEXT);
  const logicalId = `${typeof prefix === 'string' ? prefix : ''}${id}`;
  const output = new CfnOutput(scope, id, { value, exportName: `${stack.stackName}-${logicalId}`, ...(description !== undefined && { description }) });
  output.overrideLogicalId(logicalId);
  return output;
}

/**
 * The prefix of an EthereumSigner's output ids: none at construct id `Default` (the repository's SignerStack, whose
 * output ids scripts and docs name), otherwise the construct id's letters and digits, so that two signers in one
 * stack export `<stack>-TreasuryKeyArn` and `<stack>-PayoutsKeyArn` instead of colliding on `<stack>-KeyArn`.
 */
export function outputIdPrefix(constructId: string): string {
  return constructId === 'Default' ? '' : constructId.replace(/[^A-Za-z0-9]/g, '');
}
