import { PolicyDeniedError, PolicyValidationError, type PolicyIssue } from '../../../lambdas/policy';
import { SignerError } from '../../../lambdas/signer/errors';

const issue = (index: number): PolicyIssue => ({ path: `$.rules[${index}].to`, problem: 'must be a list' });

describe('PolicyValidationError', () => {
  it('is a SignerError with a stable name that keeps the issues for tools', () => {
    const issues = [issue(0)];
    const error = new PolicyValidationError(issues);
    expect(error).toBeInstanceOf(SignerError);
    expect(error.name).toBe('PolicyValidationError');
    expect(error.issues).toBe(issues);
  });

  it('counts one problem in the singular and lists it as "path problem"', () => {
    expect(new PolicyValidationError([issue(0)]).message).toBe('Invalid signing policy (1 problem): $.rules[0].to must be a list');
  });

  it('counts several problems in the plural, separated by semicolons', () => {
    expect(new PolicyValidationError([issue(0), issue(1)]).message).toBe('Invalid signing policy (2 problems): $.rules[0].to must be a list; $.rules[1].to must be a list');
  });

  it('lists exactly 20 problems, and says how many more there are beyond them', () => {
    const twenty = Array.from({ length: 20 }, (_, index) => issue(index));
    expect(new PolicyValidationError(twenty).message).not.toMatch(/more/);
    expect(new PolicyValidationError(twenty).message.split('; ')).toHaveLength(20);
    const message = new PolicyValidationError([...twenty, issue(20), issue(21)]).message;
    expect(message).toMatch(/^Invalid signing policy \(22 problems\): /);
    expect(message).toMatch(/\$\.rules\[19\]\.to must be a list; and 2 more$/);
    expect(message).not.toMatch(/rules\[20\]/);
  });
});

describe('PolicyDeniedError', () => {
  it('names the deny rule, says nothing was signed, and tells how to see the decision and change it', () => {
    const error = new PolicyDeniedError('no-mixers', 'denied by rule "no-mixers"');
    expect(error).toBeInstanceOf(SignerError);
    expect(error.name).toBe('PolicyDeniedError');
    expect(error.ruleId).toBe('no-mixers');
    expect(error.message).toBe(
      'The signing policy refused this transaction and nothing was signed: denied by rule "no-mixers". Send {"operation":"check","transaction":{…}} to see the decision; ' +
        'to allow it, change the policy (SIGNING_POLICY_FILE) and deploy.',
    );
  });

  it('has no rule id for an implicit deny, and caps the reason at 2000 characters', () => {
    const error = new PolicyDeniedError(undefined, `no rule allowed the transaction; ${'x'.repeat(5000)}`);
    expect(error.ruleId).toBeUndefined();
    const reason = /nothing was signed: (.*)\. Send /.exec(error.message)![1]!;
    expect(reason).toHaveLength(2000);
    expect(reason.startsWith('no rule allowed the transaction; xxx')).toBe(true);
  });
});
