// Duplicate keys in a policy's JSON: JSON.parse keeps the last, a reviewer reads the first, so a policy that
// says `"maxValue": "1 ether" … "maxValue": "1000000 ether"` would enforce what nobody approved.
import { toJsonPath } from './schema';

type Frame = { readonly kind: 'object'; readonly keys: Set<string>; key?: string } | { readonly kind: 'array'; index: number };

const MAX_REPORTED = 20;

/**
 * The JSON path of every key that appears twice in one object of `text` (keys compared after unescaping, as
 * JSON.parse compares them), at most 20. `text` must already be valid JSON (JSON.parse accepted it): this
 * scanner only tracks where it is, it does not check the grammar. Iterative, so any nesting depth is fine.
 */
export function findDuplicateKeys(text: string): string[] {
  const stack: Frame[] = [];
  const found: string[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length && found.length < MAX_REPORTED; i++) {
    const char = text[i];
    const top = stack[stack.length - 1];
    if (char === '{') {
      stack.push({ kind: 'object', keys: new Set() });
      expectKey = true;
    } else if (char === '[') {
      stack.push({ kind: 'array', index: 0 });
    } else if (char === '}' || char === ']') {
      stack.pop();
    } else if (char === ',') {
      if (top?.kind === 'array') top.index++;
      else expectKey = true;
    } else if (char === '"') {
      const end = endOfString(text, i);
      if (expectKey && top?.kind === 'object') {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) found.push(`${pathOf(stack.slice(0, -1))}${toJsonPath(`/${escapePointer(key)}`).slice(1)}`);
        top.keys.add(key);
        top.key = key;
        expectKey = false;
      }
      i = end;
    }
  }
  return found;
}

/** The index of the quote that closes the string opened at `start`. */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i;
}

function pathOf(frames: readonly Frame[]): string {
  const pointer = frames.map((frame) => `/${frame.kind === 'array' ? frame.index : escapePointer(frame.key ?? '')}`).join('');
  return toJsonPath(pointer);
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
