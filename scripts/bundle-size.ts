import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Total bytes of a Lambda bundle folder's JavaScript (entry and chunks, source maps excluded): what is deployed and may run. */
export function bundleBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.mjs'))
    .reduce((total, file) => total + statSync(join(dir, file)).size, 0);
}
