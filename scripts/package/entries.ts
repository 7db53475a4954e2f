// The package's entry points and the `exports` map they give package.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One `exports` subpath: the source it is built from. Adding an entry is one line here. */
export interface PackageEntry {
  /** The subpath under the package name: '.' for `kms-eth-signer`, './viem' for `kms-eth-signer/viem`. */
  readonly subpath: string;
  /** The file name of its bundles in dist/package/ (without extension). */
  readonly name: string;
  /** The TypeScript source, relative to the repository. */
  readonly source: string;
}

export const PACKAGE_ENTRIES: readonly PackageEntry[] = [
  { subpath: '.', name: 'index', source: 'lambdas/signer/index.ts' },
  { subpath: './viem', name: 'viem', source: 'lambdas/signer/viem-account.ts' },
  { subpath: './client', name: 'client', source: 'client/index.ts' },
  { subpath: './cdk', name: 'cdk', source: 'infra/index.ts' },
];

export const PACKAGE_DIR = 'dist/package';
export const TYPES_DIR = `${PACKAGE_DIR}/types`;

/** The entries whose source file exists in `root` (the client and CDK entries arrive in later changes). */
export function presentEntries(root = '.'): PackageEntry[] {
  return PACKAGE_ENTRIES.filter((entry) => existsSync(join(root, entry.source)));
}

type Conditions = { types: string; default: string };
/** package.json `exports` for these entries: types first in each condition, as TypeScript requires. */
export function exportsMap(entries: readonly PackageEntry[]): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  for (const { subpath, name, source } of entries) {
    const types = `./${TYPES_DIR}/${source.replace(/\.ts$/, '')}`;
    const esm: Conditions = { types: `${types}.d.ts`, default: `./${PACKAGE_DIR}/${name}.js` };
    const cjs: Conditions = { types: `${types}.d.cts`, default: `./${PACKAGE_DIR}/${name}.cjs` };
    map[subpath] = { import: esm, require: cjs };
  }
  map['./package.json'] = './package.json';
  return map;
}

/** Writes `exports` into package.json when it differs (true when it did). */
export function writeExports(entries: readonly PackageEntry[], file = 'package.json'): boolean {
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const exports = exportsMap(entries);
  if (JSON.stringify(manifest.exports) === JSON.stringify(exports)) return false;
  const ordered: Record<string, unknown> = {};
  // `exports` goes after `main`-like fields (here: right after `type`), wherever it was before.
  for (const [key, value] of Object.entries(manifest)) {
    if (key === 'exports') continue;
    ordered[key] = value;
    if (key === 'type') ordered.exports = exports;
  }
  if (!('exports' in ordered)) ordered.exports = exports;
  writeFileSync(file, `${JSON.stringify(ordered, null, 2)}\n`);
  return true;
}
