import { compilePolicy, type CompiledPolicy } from './compile';
import { PolicyValidationError } from './errors';
import { validatePolicyDocument } from './schema';

/** Parses policy JSON text, checks it against the schema and its meaning, and compiles it; throws PolicyValidationError. */
export function loadPolicy(json: string): CompiledPolicy {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    // Stryker disable next-line MethodExpression: defensive cap; V8's JSON.parse messages are already short (they quote at most 10 characters of the input)
    throw new PolicyValidationError([{ path: '$', problem: `is not valid JSON: ${(error as Error).message.slice(0, 200)}` }]);
  }
  return compilePolicy(validatePolicyDocument(value));
}
