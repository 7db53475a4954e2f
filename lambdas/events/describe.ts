// Showing untrusted input in error messages and logs, within fixed limits: a 1 MB value, a 4,000-deep array or
// 100,000 field names must give a message of a few hundred bytes, never a RangeError or a 20 MB log line.

/** The longest rendering of one value in an error message, in characters (ASCII only). */
export const MAX_DESCRIBED_LENGTH = 80;
/** The longest rendering of one field name from the input. */
export const MAX_NAME_LENGTH = 64;
// Nesting shown before an array or object is summarised as […] or {…}.
const MAX_SHOWN_DEPTH = 2;

/**
 * Shows an untrusted value in an error message: JSON-like, non-ASCII and control characters escaped, at most
 * MAX_DESCRIBED_LENGTH characters, and when cut, followed by its size. Never recurses deeper than 2 levels.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const full = render(value, 0, MAX_DESCRIBED_LENGTH + 1);
  if (full.length <= MAX_DESCRIBED_LENGTH) return full;
  return `${full.slice(0, MAX_DESCRIBED_LENGTH - 3)}... (${sizeOf(value)})`;
}

/** Shows a field name taken from the input: escaped, and cut to MAX_NAME_LENGTH characters with its length. */
export function describeName(name: string): string {
  // Stryker disable next-line MethodExpression: same text; the cut only spares escaping the rest of a long name, which is cut to MAX_NAME_LENGTH below anyway
  const escaped = escape(name.slice(0, MAX_NAME_LENGTH + 1));
  // Stryker disable next-line ConditionalExpression: a name over MAX_NAME_LENGTH escapes to at least MAX_NAME_LENGTH + 1 characters, so the first test already fails; the second states the intent
  if (escaped.length <= MAX_NAME_LENGTH && name.length <= MAX_NAME_LENGTH) return escaped;
  return `${escaped.slice(0, MAX_NAME_LENGTH - 3)}...(${name.length} characters)`;
}

/** Cuts a text built from several described parts to at most `max` characters. */
export function capText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/**
 * Whether the JSON text of `value` would be longer than `limit` characters, found without recursion (a deeply
 * nested value cannot overflow the stack) and without looking past the limit (cost bounded by the limit).
 */
export function jsonLongerThan(value: unknown, limit: number): boolean {
  let size = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') size += item.length + 2;
    else if (Array.isArray(item)) {
      size += 2 + Math.max(0, item.length - 1);
      if (size > limit) return true;
      for (const element of item) pending.push(element);
    } else if (typeof item === 'object' && item !== null) {
      const keys = Object.keys(item);
      size += 2 + Math.max(0, keys.length - 1);
      for (const key of keys) {
        size += key.length + 3;
        // Stryker disable next-line EqualityOperator: the value after a key adds at least one character, so a size equal to the limit here ends longer than it anyway
        if (size > limit) return true;
        pending.push((item as Record<string, unknown>)[key]);
      }
    } else size += String(item).length;
    if (size > limit) return true;
  }
  return false;
}

function render(value: unknown, depth: number, budget: number): string {
  // Stryker disable next-line MethodExpression: same text; describeValue cuts it to MAX_DESCRIBED_LENGTH anyway, the slice only spares escaping the rest of a long string
  if (typeof value === 'string') return `"${escape(value.slice(0, budget))}"`;
  if (Array.isArray(value)) {
    if (depth >= MAX_SHOWN_DEPTH) return value.length === 0 ? '[]' : '[...]';
    return `[${renderParts(value.slice(0, budget).map((element) => (left: number) => render(element, depth + 1, left)), budget)}]`;
  }
  if (typeof value === 'object' && value !== null) {
    // Stryker disable next-line MethodExpression: same text and no more field reads; renderParts stops at the budget, the slice only spares building closures for fields never shown
    const keys = Object.keys(value).slice(0, budget);
    if (depth >= MAX_SHOWN_DEPTH) return keys.length === 0 ? '{}' : '{...}';
    // Stryker disable next-line MethodExpression: same text; a key longer than what is left is cut by describeValue anyway, the slice only spares escaping the rest of it
    return `{${renderParts(keys.map((key) => (left: number) => `"${escape(key.slice(0, left))}":${render((value as Record<string, unknown>)[key], depth + 1, left)}`), budget)}}`;
  }
  // Stryker disable next-line MethodExpression: same text; describeValue cuts it anyway, the slice only spares escaping the rest of a long number
  return escape(String(value).slice(0, budget)); // numbers, booleans, null (and anything else: bigint)
}

function renderParts(parts: Array<(budget: number) => string>, budget: number): string {
  let text = '';
  for (const part of parts) {
    // Stryker disable next-line EqualityOperator: at exactly the budget the whole description is already longer than MAX_DESCRIBED_LENGTH and will be cut; a further part only adds text past the cut
    if (text.length > budget) break;
    text += (text ? ',' : '') + part(budget - text.length);
  }
  return text;
}

function sizeOf(value: unknown): string {
  // Stryker disable next-line ConditionalExpression,StringLiteral: for a string the last line gives the same text (String(value).length is its length)
  if (typeof value === 'string') return `${value.length} characters`;
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  // Stryker disable next-line ConditionalExpression: null is described as "null", never cut, so sizeOf never sees it
  if (typeof value === 'object' && value !== null) {
    const count = Object.keys(value).length;
    return `an object with ${count} field${count === 1 ? '' : 's'}`;
  }
  return `${String(value).length} characters`;
}

// Quotes, backslashes, control and non-ASCII characters as \u escapes: a message stays printable ASCII,
// so its length in characters is its length in bytes, and no input can forge log structure or direction marks.
function escape(text: string): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, (c) => (c === '"' || c === '\\' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
