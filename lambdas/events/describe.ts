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
  // Stryker disable next-line MethodExpression: same text; the cut spares escaping a long name
  const escaped = escape(name.slice(0, MAX_NAME_LENGTH + 1));
  if (escaped.length <= MAX_NAME_LENGTH) return escaped; // a longer name escapes to more
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
        // Stryker disable next-line EqualityOperator: the value after a key adds a character or more
        if (size > limit) return true;
        pending.push((item as Record<string, unknown>)[key]);
      }
    } else size += String(item).length;
    if (size > limit) return true;
  }
  return false;
}

function render(value: unknown, depth: number, budget: number): string {
  // Stryker disable next-line MethodExpression: same text; the cut spares escaping a long string
  if (typeof value === 'string') return `"${escape(value.slice(0, budget))}"`;
  if (Array.isArray(value)) {
    if (depth >= MAX_SHOWN_DEPTH) return value.length === 0 ? '[]' : '[...]';
    return `[${renderParts(value.slice(0, budget).map((element) => (left: number) => render(element, depth + 1, left)), budget)}]`;
  }
  if (typeof value === 'object' && value !== null) {
    // Stryker disable next-line MethodExpression: same text; spares closures for fields never shown
    const keys = Object.keys(value).slice(0, budget);
    if (depth >= MAX_SHOWN_DEPTH) return keys.length === 0 ? '{}' : '{...}';
    // Stryker disable next-line MethodExpression: same text; the cut spares escaping a long key
    return `{${renderParts(keys.map((key) => (left: number) => `"${escape(key.slice(0, left))}":${render((value as Record<string, unknown>)[key], depth + 1, left)}`), budget)}}`;
  }
  return escape(String(value)); // numbers, booleans, null (and anything else: bigint)
}

function renderParts(parts: Array<(budget: number) => string>, budget: number): string {
  let text = '';
  for (const part of parts) {
    // Stryker disable next-line EqualityOperator: at the budget the text is cut anyway
    if (text.length > budget) break;
    text += (text ? ',' : '') + part(budget - text.length);
  }
  return text;
}

function sizeOf(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value !== 'object') return `${String(value).length} characters`;
  const count = Object.keys(value as object).length; // not null: "null" is never cut
  return `an object with ${count} field${count === 1 ? '' : 's'}`;
}

// Quotes, backslashes, control and non-ASCII characters as \u escapes: a message stays printable ASCII,
// so its length in characters is its length in bytes, and no input can forge log structure or direction marks.
function escape(text: string): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, (c) => (c === '"' || c === '\\' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
