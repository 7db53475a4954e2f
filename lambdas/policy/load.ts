import { compilePolicy, type CompiledPolicy } from './compile';
import { findDuplicateKeys } from './duplicate-keys';
import { PolicyValidationError } from './errors';
import { validatePolicyDocument } from './schema';

/**
 * Parses policy JSON text, checks it against the schema and its meaning, and compiles it; throws
 * PolicyValidationError. Every reader of a policy (the functions, npm run policy, the build, cdk synth) comes here.
 */
export function loadPolicy(json: string): CompiledPolicy {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    // V8 quotes at most 10 characters of the input; the cap holds whatever the engine quotes.
    throw new PolicyValidationError([{ path: '$', problem: `is not valid JSON: ${(error as Error).message.slice(0, 200)}` }]);
  }
  const duplicates = findDuplicateKeys(json);
  if (duplicates.length > 0) {
    throw new PolicyValidationError(duplicates.map((path) => ({
      path,
      problem: 'appears twice in the same object: JSON.parse would keep the last value while a reader sees the first, so duplicate keys are refused; keep one',
    })));
  }
  return compilePolicy(validatePolicyDocument(value));
}
