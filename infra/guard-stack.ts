import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as organizations from 'aws-cdk-lib/aws-organizations';
import type { Construct } from 'constructs';
import { guardPolicy, keyGuardPolicy, recordsGuardPolicy, type GuardPolicyInput, type RecordsGuardInput } from './guard-policy';

/** What the guard protects (from the signer stack) and where it is attached. */
export interface GuardStackProps extends StackProps {
  /** The signer stack's guard inputs with concrete ARNs (SignerStack.guard, resolved for the signer account). */
  readonly signers: GuardPolicyInput;
  readonly records: RecordsGuardInput;
  /** With the signing key's ARN (the KeyArn output), a resource control policy on the key is deployed too. */
  readonly key?: { readonly keyArn: string; readonly signerRoleArns: string[]; readonly changerPrincipalArns: string[] };
  /** The accounts or organizational units (ou-…) the policies are attached to: the signer's account or its OU. */
  readonly targetIds: string[];
  /** Names the policies (default kms-eth-signer). */
  readonly namePrefix: string;
}

/**
 * The guard, deployed: a stack for the organization's management account (or a delegated administrator for
 * Organizations policies) with two service control policies (the signers, their roles, their table and the
 * deploy identity; the records and alarms) and, given the key's ARN, a resource control policy on the key,
 * all attached to `targetIds`. SCPs do not bind the management account itself: never run the signer there.
 */
export class GuardStack extends Stack {
  readonly policies: organizations.CfnPolicy[] = [];

  constructor(scope: Construct, id: string, props: GuardStackProps) {
    super(scope, id, { terminationProtection: true, ...props });
    const policy = (policyId: string, type: 'SERVICE_CONTROL_POLICY' | 'RESOURCE_CONTROL_POLICY', description: string, content: Record<string, unknown>) => {
      const created = new organizations.CfnPolicy(this, policyId, { name: `${props.namePrefix}-${policyId}`, type, description, content, targetIds: props.targetIds });
      this.policies.push(created);
      new CfnOutput(this, `${policyId}Id`, { value: created.attrId, exportName: `${this.stackName}-${policyId}Id` }).overrideLogicalId(`${policyId}Id`);
      return created;
    };
    policy('SignerGuard', 'SERVICE_CONTROL_POLICY', 'kms-eth-signer: only invokers invoke the signers; only the deploy role and break-glass change them, their roles, their table and the deploy identity', guardPolicy(props.signers));
    policy('RecordsGuard', 'SERVICE_CONTROL_POLICY', 'kms-eth-signer: only the deploy role and break-glass stop the trail or change the alarms, topic, log groups and alert rules', recordsGuardPolicy(props.records));
    if (props.key) policy('KeyGuard', 'RESOURCE_CONTROL_POLICY', 'kms-eth-signer: only the signer roles sign with the key; only the deploy role and break-glass change who may', keyGuardPolicy(props.key));
  }
}
