// Duplicate keys in a policy's JSON: JSON.parse keeps the last, a reviewer reads the first, so a policy that
// says `"maxValue": "1 ether" … "maxValue": "1000000 ether"` would enforce what nobody approved.
import { toJsonPath } from './schema';

/** An open object or array: the keys met so far (none in an array) and the key or index being read. */
interface Frame {
  readonly array: boolean;
  readonly keys: Set<string>;
  key: string;
  index: number;
}

const MAX_REPORTED = 20;

/**
 * The JSON path of every key that appears twice in one object of `text` (keys compared after unescaping, as
 * JSON.parse compares them), at most 20. `text` must already be valid JSON (JSON.parse accepted it): this
 * scanner only tracks where it is, it does not check the grammar. Iterative, so any nesting depth is fine.
 */
export function findDuplicateKeys(text: string): string[] {
  const stack: Frame[] = [];
  const found: string[] = [];
  // Where the scan stops: a container's start or end, a comma, a string's opening quote.
  const structure = /[{}[\],"]/g;
  // A string is a key when a colon follows it.
  const colon = /\s*:/y;
  for (let match = structure.exec(text); match && found.length < MAX_REPORTED; match = structure.exec(text)) {
    const char = match[0];
    if (char === '{' || char === '[') {
      stack.push({ array: char === '[', keys: new Set(), key: '', index: 0 });
    } else if (char === '}' || char === ']') {
      stack.pop();
    } else if (char === ',') {
      // In valid JSON a comma or a key is always inside a container. An object counts its commas unread.
      stack.at(-1)!.index++;
    } else {
      const end = endOfString(text, match.index);
      if (end === -1) break; // not valid JSON: stop rather than scan it again
      colon.lastIndex = end + 1;
      if (colon.test(text)) {
        const top = stack.at(-1)!;
        top.key = JSON.parse(text.slice(match.index, end + 1)) as string;
        if (top.keys.has(top.key)) found.push(pathOf(stack));
        top.keys.add(top.key);
      }
      structure.lastIndex = end + 1;
    }
  }
  return found;
}

/** The index of the quote that closes the string opened at `start` (the next one no backslash escapes), or -1. */
function endOfString(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  while (isEscaped(text, end)) end = text.indexOf('"', end + 1);
  return end;
}

/** Whether the character at `index` follows an odd run of backslashes. */
function isEscaped(text: string, index: number): boolean {
  let backslashes = 0;
  while (text[index - 1 - backslashes] === '\\') backslashes++;
  return backslashes % 2 === 1;
}

function pathOf(frames: readonly Frame[]): string {
  return toJsonPath(frames.map((frame) => `/${frame.array ? frame.index : escapePointer(frame.key)}`).join(''));
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
