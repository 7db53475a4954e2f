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

/** The JSON Schemas shipped as they are: what callers validate events and policies with. */
export const SCHEMA_FILES = ['policy.schema.json', 'events.schema.json'] as const;

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
  for (const file of SCHEMA_FILES) map[`./${file}`] = `./${file}`;
  map['./package.json'] = './package.json';
  return map;
}

/**
 * The package.json fields that name the built files: `exports`, and `main`/`types` (the root entry as
 * CommonJS) for tools that predate `exports`.
 */
export function manifestFields(entries: readonly PackageEntry[]): { main: string; types: string; exports: Record<string, unknown> } {
  const exports = exportsMap(entries);
  const root = exports['.'] as { require: Conditions } | undefined;
  if (!root) throw new Error(`The package has no root entry (${PACKAGE_ENTRIES[0]?.source} is missing)`);
  return { main: root.require.default, types: root.require.types, exports };
}

/** Writes `main`, `types` and `exports` into package.json (right after `type`) when they differ; true when it did. */
export function writeExports(entries: readonly PackageEntry[], file = 'package.json'): boolean {
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const fields = manifestFields(entries);
  const names = Object.keys(fields) as Array<keyof typeof fields>;
  if (names.every((name) => JSON.stringify(manifest[name]) === JSON.stringify(fields[name]))) return false;
  const ordered: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(manifest)) {
    if ((names as string[]).includes(key)) continue;
    ordered[key] = value;
    if (key === 'type') Object.assign(ordered, fields);
  }
  if (!('exports' in ordered)) Object.assign(ordered, fields);
  writeFileSync(file, `${JSON.stringify(ordered, null, 2)}\n`);
  return true;
}
