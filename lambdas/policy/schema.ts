import type { PolicyDocument } from './document';
import { PolicyValidationError, type PolicyIssue } from './errors';
import { validate } from './schema-validator';

/** The shape of one error reported by the ajv validator that npm run build generates from policy.schema.json (with messages). */
interface SchemaError {
  readonly instancePath: string;
  readonly schemaPath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message: string;
}

// What a value must look like, by the schema location whose pattern or type it broke: ajv's own message
// ("must match pattern ^(0|[1-9]…") tells an editor of the policy nothing.
const EXPECTED: ReadonlyArray<readonly [RegExp, string]> = [
  [/\/definitions\/amount\//, 'must be a decimal number of wei (or token base units) such as "1000", or a non-negative number with a unit: "1.5 ether", "30 gwei" (wei, kwei, mwei, gwei, szabo, finney, ether)'],
  [/\/definitions\/address\//, 'must be an address: 0x and 40 hex digits'],
  [/\/definitions\/selector\//, 'must be a function selector (0x and exactly 8 hex digits, 4 bytes) or a function signature such as "transfer(address,uint256)"'],
  [/\/definitions\/name\//, 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit'],
  [/\/definitions\/count\//, 'must be a whole number from 0 to 2^53-1'],
  [/\/properties\/window\//, 'must be a whole number of s, m, h or d such as "24h" or "7d"'],
  [/\/properties\/function\//, 'must be a function signature such as "transfer(address to, uint256 amount)"'],
  [/\/properties\/chainId\//, 'must be a chain id (a whole number from 1 to 2^53-1) or a non-empty list of them'],
  [/\/properties\/type\//, 'must be a transaction type (0, 1 or 2) or a non-empty list of them'],
];

/** Checks a parsed JSON value against policy.schema.json; throws PolicyValidationError naming each bad path. */
export function validatePolicyDocument(value: unknown): PolicyDocument {
  if (validate(value)) return value as PolicyDocument;
  // The generated validator sets errors whenever it returns false.
  const errors = (validate as unknown as { errors: SchemaError[] }).errors.slice(0, 200);
  throw new PolicyValidationError(toIssues(errors, value));
}

function toIssues(errors: readonly SchemaError[], document: unknown): PolicyIssue[] {
  // A oneOf failure also reports each branch's failure at the same path; one message per path is enough.
  const oneOfPaths = new Set(errors.filter((error) => error.keyword === 'oneOf').map((error) => error.instancePath));
  const issues: PolicyIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (oneOfPaths.has(error.instancePath) && error.keyword !== 'oneOf') continue;
    // A branch's error one level below a failed oneOf (a oneOf error's own schemaPath ends in /oneOf, no slash).
    if (oneOfPaths.has(parentPointer(error.instancePath)) && /\/oneOf\//.test(error.schemaPath)) continue;
    const issue = toIssue(error, document);
    const key = `${issue.path} ${issue.problem}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

function toIssue(error: SchemaError, document: unknown): PolicyIssue {
  const path = toJsonPath(error.instancePath);
  const got = `; got ${describe(valueAt(document, error.instancePath))}`;
  switch (error.keyword) {
    case 'required':
      return { path: `${path}.${String(error.params.missingProperty)}`, problem: 'is required' };
    case 'additionalProperties':
      return { path: `${path}.${String(error.params.additionalProperty)}`, problem: 'is not an accepted field (see policy.schema.json)' };
    case 'enum':
      return { path, problem: `must be one of ${JSON.stringify(error.params.allowedValues)}${got}` };
    case 'const':
      return { path, problem: `must be ${JSON.stringify(error.params.allowedValue)}${got}` };
    case 'pattern':
    case 'oneOf':
    case 'type': {
      const expected = EXPECTED.find(([pattern]) => pattern.test(error.schemaPath))?.[1];
      if (expected) return { path, problem: `${expected}${got}` };
      return { path, problem: `${error.message}${got}` };
    }
    default:
      return { path, problem: `${error.message}${error.keyword === 'maxItems' || error.keyword === 'maxLength' ? '' : got}` };
  }
}

/** `/rules/0/to/3` → `$.rules[0].to[3]`. */
export function toJsonPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .reduce((path, token) => {
      const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
      return /^(0|[1-9][0-9]*)$/.test(key) ? `${path}[${key}]` : /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key.slice(0, 40))}]`;
    }, '$');
}

function parentPointer(pointer: string): string {
  return pointer.slice(0, Math.max(0, pointer.lastIndexOf('/')));
}

function valueAt(document: unknown, pointer: string): unknown {
  let value = document;
  for (const token of pointer.split('/').slice(1)) {
    const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
    // Own properties only: an inherited one is not the document's. Object() lets a missing value pass as undefined.
    value = Object.getOwnPropertyDescriptor(Object(value), key)?.value;
  }
  return value;
}

/** A bad value for an error message, cut short so that a huge policy never floods a log. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item)) ?? String(value);
  } catch {
    text = Array.isArray(value) ? 'an array' : typeof value;
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
