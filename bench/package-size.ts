// `npm run bench:package`: the npm package's tarball size and the install size of each entry, against the
// budgets below (exit code 1 when one is exceeded). Sizes are bytes on disk of what npm would install, measured
// in this repository's node_modules (the versions the lockfile pins), so they change only with the code or
// the dependencies, never with the machine.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PACKAGE_DIR, presentEntries } from '../scripts/package/entries';

const KIB = 1024;
const MIB = 1024 * 1024;

/**
 * The budgets, stated in docs/package.md, set some 20-40% above the sizes measured when they were set. Most of
 * an entry's size is its peer (ethers about 18 MiB with its dependencies, viem about 47 MiB), which the
 * consumer has already; the `install` line is what kms-eth-signer itself adds.
 */
export const BUDGETS = {
  /** The packed tarball (.tgz). */
  tarball: 768 * KIB,
  /** `npm install kms-eth-signer` without its optional peers (ethers, viem): the package and its dependencies. */
  install: 12 * MIB,
  /** Per entry: the packages the entry loads (its imports' closure), with the optional peer it needs. */
  entries: { '.': 32 * MIB, './viem': 64 * MIB, './client': 40 * MIB } as Record<string, number>,
};

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const readManifest = (directory: string) => JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as Manifest;

/** Where Node would find package `name` from `directory`: the nearest node_modules/name up the tree. */
export function packageDirectory(name: string, directory: string): string {
  for (let current = directory; ; current = dirname(current)) {
    const candidate = join(current, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(current) === current) throw new Error(`${name} is not installed (looked up from ${directory})`);
  }
}

/** Bytes of a package's own files: its nested node_modules are packages of their own, counted once each. */
export function directoryBytes(directory: string): number {
  let total = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) total += directoryBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

/**
 * The packages npm installs for `names` (resolved from `from`): each with its dependencies, optional
 * dependencies and required peers, transitively; every installed copy counted once.
 */
export function dependencyClosure(names: readonly string[], from: string): Map<string, number> {
  const sizes = new Map<string, number>();
  const pending = names.map((name) => ({ name, from }));
  for (let next = pending.pop(); next; next = pending.pop()) {
    const directory = packageDirectory(next.name, next.from);
    if (sizes.has(directory)) continue;
    sizes.set(directory, directoryBytes(directory));
    const manifest = readManifest(directory);
    const required = Object.keys(manifest.peerDependencies ?? {}).filter((peer) => !manifest.peerDependenciesMeta?.[peer]?.optional);
    const optional = Object.keys(manifest.optionalDependencies ?? {}).filter((name) => {
      try {
        packageDirectory(name, directory);
        return true;
      } catch {
        return false; // an optional dependency for another platform
      }
    });
    for (const name of new Set([...Object.keys(manifest.dependencies ?? {}), ...required, ...optional])) pending.push({ name, from: directory });
  }
  return sizes;
}

/** The packages a built bundle imports (bare specifiers, by package name; Node built-ins left out). */
export function importedPackages(bundle: string): string[] {
  const specifiers = [...bundle.matchAll(/(?:from\s*|import\(\s*|require\(\s*)["']([^"'.][^"']*)["']/g)].map((match) => match[1]!);
  const names = specifiers.filter((s) => !s.startsWith('node:')).map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
  return [...new Set(names)].sort();
}

const sum = (sizes: Map<string, number>) => [...sizes.values()].reduce((a, b) => a + b, 0);
const mib = (bytes: number) => `${(bytes / MIB).toFixed(2)} MiB`;

function main(): void {
  const root = process.cwd();
  // --ignore-scripts: measure the dist/package that `npm run build:package` made (run it first).
  if (!existsSync(PACKAGE_DIR)) throw new Error(`${PACKAGE_DIR} is missing: run npm run build:package first`);
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [pack] = JSON.parse(output.slice(output.indexOf('['))) as Array<{ size: number; unpackedSize: number; files: unknown[] }>;
  if (!pack) throw new Error('npm pack reported nothing');
  const manifest = readManifest(root);
  const rows: Array<[string, number, number]> = [['tarball (packed)', pack.size, BUDGETS.tarball]];
  rows.push(['npm install kms-eth-signer', pack.unpackedSize + sum(dependencyClosure(Object.keys(manifest.dependencies ?? {}), root)), BUDGETS.install]);
  for (const entry of presentEntries()) {
    const bundle = readFileSync(join(PACKAGE_DIR, `${entry.name}.js`), 'utf8');
    const imports = importedPackages(bundle);
    const bytes = pack.unpackedSize + sum(dependencyClosure(imports, root));
    rows.push([`kms-eth-signer${entry.subpath.slice(1)} (loads ${imports.join(', ')})`, bytes, BUDGETS.entries[entry.subpath] ?? BUDGETS.install]);
  }
  let over = false;
  console.log(`| what | size | budget |\n|---|---:|---:|`);
  for (const [what, bytes, budget] of rows) {
    const size = bytes < MIB ? `${(bytes / KIB).toFixed(1)} KiB` : mib(bytes);
    const limit = budget < MIB ? `${(budget / KIB).toFixed(0)} KiB` : mib(budget);
    if (bytes > budget) over = true;
    console.log(`| ${what} | ${size} | ${limit}${bytes > budget ? ' **over**' : ''} |`);
  }
  console.log(`\n${pack.files.length} files in the tarball; sizes from this repository's node_modules (package-lock.json).`);
  if (over) process.exitCode = 1;
}

if (process.argv[1] && /package-size\.ts$/.test(process.argv[1])) main();
