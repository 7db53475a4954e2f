// Synthesises the signer stack for tests, with a stand-in bundle so that tests do not need npm run build.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type PolicyValidationPluginReport } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R4Checks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { readSettings } from '../../infra/context';
import { POLICY_SHA256_FILE } from '../../infra/signer-function';
import { SignerStack } from '../../infra/app-stack';

/** The dedicated bootstrap qualifier the test stacks deploy with (docs/deploy.md, Deployment identity). */
export const TEST_QUALIFIER = 'ethsigner';

/** cdk-nag's five packs: AwsSolutions, HIPAA Security, NIST 800-53 rev 4 and rev 5, PCI DSS 3.2.1. */
export const NAG_PACKS = [AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R4Checks, NIST80053R5Checks, PCIDSS321Checks];

/** The findings of cdk-nag's five packs on a construct tree that are not acknowledged, in one report (a walk of the tree: no synthesis). */
export function nagReport(scope: IConstruct): PolicyValidationPluginReport {
  const violations = NAG_PACKS.flatMap((Pack) => new Pack(scope).validateScope(scope).violations);
  return { success: violations.length === 0, violations };
}

/** Every finding of cdk-nag's five packs on a construct tree as if nothing were acknowledged: the rule id and the resource's path. */
export function nagFindingsIgnoringAcknowledgements(scope: IConstruct): Array<{ id: string; path: string }> {
  return NAG_PACKS.flatMap((Pack) => {
    const pack = new Pack(scope);
    Object.defineProperty(pack, 'isAcknowledged', { value: () => false }); // cdk-nag's private check, overridden for this pack only
    return pack.validateScope(scope).violations.flatMap((violation) => violation.violatingResources.map((resource) => ({ id: violation.ruleName, path: resource.constructPath ?? '' })));
  });
}

/**
 * A synthesised stack, its template and the report of cdk-nag's five packs. The stand-in bundle is built for the
 * policy (policy.sha256, as scripts/build.ts writes it) unless `builtForPolicy` is false.
 */
export function synthesize(context: Record<string, unknown> = {}, { builtForPolicy = true, stackName = 'Signer' } = {}) {
  const code = mkdtempSync(join(tmpdir(), 'signer-bundle-'));
  writeFileSync(join(code, 'index.mjs'), 'export const handler = async () => ({});\n');
  const merged: Record<string, unknown> = { policyFile: 'examples/policies/allow-all.json', bootstrapQualifier: TEST_QUALIFIER, ...context };
  if (builtForPolicy) writeFileSync(join(code, POLICY_SHA256_FILE), createHash('sha256').update(readFileSync(String(merged.policyFile))).digest('hex'));
  const app = new App();
  const stack = new SignerStack(app, stackName, {
    settings: readSettings((key) => merged[key]),
    codeDirectories: { eip1559: code, legacy: code },
    env: { account: '111122223333', region: 'eu-west-1' },
  });
  const nag = nagReport(stack);
  return { stack, template: Template.fromStack(stack), nag };
}

/** Every IAM policy statement in the template (identity policies and the signing key's policy). */
export function allStatements(template: Template): Array<Record<string, unknown>> {
  const statements: Array<Record<string, unknown>> = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) statements.push(...policy.Properties.PolicyDocument.Statement);
  for (const key of Object.values(signingKeys(template))) statements.push(...key.Properties.KeyPolicy.Statement);
  return statements;
}

/** The secp256k1 signing key(s) in the template (other KMS keys encrypt the alarm topic and backups). */
export function signingKeys(template: Template) {
  return template.findResources('AWS::KMS::Key', { Properties: { KeySpec: 'ECC_SECG_P256K1' } });
}

/** The signing key's policy statements. */
export function signingKeyPolicy(template: Template): Array<Record<string, any>> {
  const keys = Object.values(signingKeys(template));
  if (keys.length !== 1) throw new Error(`expected one signing key, found ${keys.length}`);
  return keys[0]!.Properties.KeyPolicy.Statement;
}
