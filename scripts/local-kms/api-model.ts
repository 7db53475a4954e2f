import { KmsError } from './errors';

/** The operations the local KMS implements (the generator reads their input shapes from the KMS API model). */
export const IMPLEMENTED_OPERATIONS = [
  'CreateKey',
  'DescribeKey',
  'ListKeys',
  'CreateAlias',
  'ListAliases',
  'DeleteAlias',
  'GetPublicKey',
  'Sign',
  'Verify',
  'GetParametersForImport',
  'ImportKeyMaterial',
  'DeleteImportedKeyMaterial',
  'EnableKey',
  'DisableKey',
  'ScheduleKeyDeletion',
  'CancelKeyDeletion',
] as const;

/** A shape of the KMS API model, with the constraints KMS enforces on input. */
export interface Shape {
  type: 'string' | 'integer' | 'long' | 'boolean' | 'blob' | 'timestamp' | 'list' | 'structure' | 'map' | 'double' | 'float';
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  member?: Shape;
  members?: Record<string, Shape>;
  required?: string[];
}

const patterns = new Map<string, RegExp>();

/**
 * Checks a request body against the operation's input shape as KMS does: a member of the wrong JSON type is a
 * SerializationException; missing required members, lengths, ranges, patterns and enums are collected into
 * one ValidationException ("N validation errors detected: Value … at 'member' failed to satisfy constraint: …").
 */
export function validateInput(shape: Shape, input: Record<string, unknown>): void {
  const errors: string[] = [];
  checkStructure(shape, input, '', errors);
  if (errors.length > 0) {
    throw new KmsError('ValidationException', `${errors.length} validation error${errors.length === 1 ? '' : 's'} detected: ${errors.join('; ')}`);
  }
}

function checkStructure(shape: Shape, input: Record<string, unknown>, path: string, errors: string[]): void {
  for (const [name, member] of Object.entries(shape.members ?? {})) {
    const at = `${path}${name.charAt(0).toLowerCase()}${name.slice(1)}`;
    const value = Object.hasOwn(input, name) ? input[name] : undefined;
    if (value === undefined || value === null) {
      if (shape.required?.includes(name)) errors.push(`Value null at '${at}' failed to satisfy constraint: Member must not be null`);
      continue;
    }
    checkValue(member, value, at, errors);
  }
}

function checkValue(shape: Shape, value: unknown, at: string, errors: string[]): void {
  const wrongType = () => new KmsError('SerializationException', `Unexpected value type for '${at}': expected ${shape.type}`);
  switch (shape.type) {
    case 'string': {
      if (typeof value !== 'string') throw wrongType();
      const shown = value.length > 100 ? `${value.slice(0, 100)}...` : value;
      checkLength(value.length, shape, `Value '${shown}' at '${at}'`, errors);
      if (shape.enum && !shape.enum.includes(value)) {
        errors.push(`Value '${shown}' at '${at}' failed to satisfy constraint: Member must satisfy enum value set: [${shape.enum.join(', ')}]`);
      }
      if (shape.pattern && !patternOf(shape.pattern).test(value)) {
        errors.push(`Value '${shown}' at '${at}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${shape.pattern}`);
      }
      return;
    }
    case 'blob': {
      if (typeof value !== 'string') throw wrongType();
      const bytes = Buffer.from(value, 'base64');
      if (bytes.toString('base64').replace(/=+$/, '') !== value.replace(/=+$/, '')) throw new KmsError('SerializationException', `'${at}' is not valid base64`);
      checkLength(bytes.length, shape, `Value at '${at}'`, errors);
      return;
    }
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType();
      if (shape.min !== undefined && value < shape.min) errors.push(`Value '${value}' at '${at}' failed to satisfy constraint: Member must have value greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value > shape.max) errors.push(`Value '${value}' at '${at}' failed to satisfy constraint: Member must have value less than or equal to ${shape.max}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw wrongType();
      return;
    case 'timestamp':
      // JSON 1.1 sends epoch seconds (the SDKs send numbers; the CLI may send ISO 8601 strings).
      if (typeof value === 'number' ? !Number.isFinite(value) : typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw wrongType();
      return;
    case 'list':
      if (!Array.isArray(value)) throw wrongType();
      checkLength(value.length, shape, `Value '[${value.length} items]' at '${at}'`, errors);
      value.forEach((item: unknown, index) => {
        if (item === null || item === undefined) errors.push(`Value null at '${at}.${index + 1}.member' failed to satisfy constraint: Member must not be null`);
        else if (shape.member) checkValue(shape.member, item, `${at}.${index + 1}.member`, errors);
      });
      return;
    case 'structure':
      if (typeof value !== 'object' || Array.isArray(value)) throw wrongType();
      checkStructure(shape, value as Record<string, unknown>, `${at}.`, errors);
      return;
    default:
      return;
  }
}

function checkLength(length: number, shape: Shape, what: string, errors: string[]): void {
  if (shape.min !== undefined && length < shape.min) errors.push(`${what} failed to satisfy constraint: Member must have length greater than or equal to ${shape.min}`);
  if (shape.max !== undefined && length > shape.max) errors.push(`${what} failed to satisfy constraint: Member must have length less than or equal to ${shape.max}`);
}

// The model's patterns are Java regular expressions matched against the whole value.
function patternOf(pattern: string): RegExp {
  let regex = patterns.get(pattern);
  if (!regex) patterns.set(pattern, (regex = new RegExp(`^(?:${pattern})$`, 'u')));
  return regex;
}
