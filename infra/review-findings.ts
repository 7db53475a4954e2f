import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The cdk-nag packs the stacks are reviewed with besides AwsSolutions, by the prefix of their rule ids:
 * HIPAA Security, NIST 800-53 rev 4 and rev 5, PCI DSS 3.2.1.
 */
export const COMPLIANCE_PACKS = ['HIPAA.Security', 'NIST.800.53.R4', 'NIST.800.53.R5', 'PCI.DSS.321'] as const;

/** The rule id prefix of one cdk-nag compliance pack. */
export type CompliancePack = (typeof COMPLIANCE_PACKS)[number];

/** The ids of one cdk-nag compliance rule in the packs that have it (all four unless named). */
export function inCompliancePacks(rule: string, packs: readonly CompliancePack[] = COMPLIANCE_PACKS): string[] {
  return packs.map((pack) => `${pack}-${rule}`);
}

/**
 * Acknowledges review findings on a construct and everything under it, with the reason a reviewer reads: cdk-nag
 * rule ids (`AwsSolutions-…`, `HIPAA.Security-…`) and AWS Control Tower proactive controls (`CT.LAMBDA.PR.3`), which
 * test/infra/security-review.test.ts matches with cfn-guard's findings resource by resource.
 */
export function acknowledgeFindings(scope: IConstruct, reason: string, ...ids: string[]): void {
  Validations.of(scope).acknowledge(...ids.map((id) => ({ id, reason })));
}
