// The signing policy engine: pure (no Lambda, KMS or DynamoDB), shared by the handlers, npm run policy and tests.
export { AMOUNT_FORMS, parseAmount } from './amount';
export { compilePolicy, type CompiledPolicy, type CompiledRule, type Condition } from './compile';
export type { Applies, ArgumentDocument, CallDocument, LimitDocument, PolicyDocument, RuleDocument } from './document';
export { PolicyDeniedError, PolicyValidationError, type PolicyIssue } from './errors';
export { evaluatePolicy, type PolicyDecision, type RuleMiss } from './evaluate';
export { evaluateMessageRequest, type MessageSpendDecision } from './evaluate-message';
export { loadPolicy } from './load';
export type { PolicyRequest } from './request';
export { validatePolicyDocument } from './schema';
export type { SpendCharge, SpendingLimit } from './spending';
