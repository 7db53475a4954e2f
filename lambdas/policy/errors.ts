import { SignerError } from '../signer/errors';

/** One thing wrong with a policy document: where (a JSON path such as $.rules[2].to[0]) and what. */
export interface PolicyIssue {
  readonly path: string;
  readonly problem: string;
}

const MAX_LISTED_ISSUES = 20;

/** The policy document is invalid (schema or meaning); `issues` names each problem by its JSON path. */
export class PolicyValidationError extends SignerError {
  override readonly name = 'PolicyValidationError';
  constructor(readonly issues: readonly PolicyIssue[]) {
    const listed = issues.slice(0, MAX_LISTED_ISSUES).map((issue) => `${issue.path} ${issue.problem}`);
    if (issues.length > MAX_LISTED_ISSUES) listed.push(`and ${issues.length - MAX_LISTED_ISSUES} more`);
    super(`Invalid signing policy (${issues.length} problem${issues.length === 1 ? '' : 's'}): ${listed.join('; ')}`);
  }
}

/** The policy denied the transaction; nothing was signed and KMS was not called. */
export class PolicyDeniedError extends SignerError {
  override readonly name = 'PolicyDeniedError';
  constructor(
    /** The deny rule that matched, or undefined when no allow rule matched. */
    readonly ruleId: string | undefined,
    reason: string,
  ) {
    super(`The signing policy refused this transaction and nothing was signed: ${reason.slice(0, 2000)}. Send {"operation":"check","transaction":{…}} to see the decision; to allow it, change the policy (SIGNING_POLICY_FILE) and deploy.`);
  }
}
