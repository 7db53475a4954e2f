import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The folder list is the architecture: each folder of lambdas/ is one floor, and imports only run down.
const LAMBDAS = resolve(__dirname, '../../lambdas');
const FLOORS: ReadonlyMap<string, number> = new Map([
  ['signer', 0],
  ['policy', 1],
  ['policy-state', 2],
  ['events', 3],
  ['runtime', 3],
  ['operations', 4],
  ['.', 5],
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'types' ? [] : sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

function folderOf(file: string): string {
  const rel = relative(LAMBDAS, file);
  return rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : '.';
}

function localImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s+'(\.{1,2}\/[^']+)'/g)].map((match) => match[1] ?? '');
  return specs.map((spec) => {
    const base = resolve(dirname(file), spec);
    return [`${base}.ts`, join(base, 'index.ts')].find((candidate) => {
      try {
        return statSync(candidate).isFile();
      } catch {
        return false;
      }
    }) ?? `${base}.ts`;
  });
}

const files = sourceFiles(LAMBDAS);
const graph = new Map(files.map((file) => [file, localImports(file)]));

describe('the layout of lambdas/', () => {
  it('has a floor for every folder, so a new folder must say where it sits', () => {
    const folders = new Set(files.map(folderOf));
    expect([...folders].filter((folder) => !FLOORS.has(folder))).toEqual([]);
  });

  it('keeps at most six files at its top level', () => {
    expect(files.filter((file) => folderOf(file) === '.').length).toBeLessThanOrEqual(6);
  });

  it('has no import that runs up a floor or sideways into another folder of the same floor', () => {
    const upward = [...graph].flatMap(([file, imports]) =>
      imports
        .filter((target) => folderOf(target) !== folderOf(file))
        .filter((target) => (FLOORS.get(folderOf(target)) ?? 99) >= (FLOORS.get(folderOf(file)) ?? -1))
        .map((target) => `${relative(LAMBDAS, file)} -> ${relative(LAMBDAS, target)}`),
    );
    expect(upward).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(LAMBDAS, f)).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('opens every folder with a README.md line that says what it is for', () => {
    const folders = ['.', ...new Set(files.map(folderOf))];
    const missing = folders.filter((folder) => {
      try {
        return readFileSync(join(LAMBDAS, folder, 'README.md'), 'utf8').trim().length === 0;
      } catch {
        return true;
      }
    });
    expect(missing).toEqual([]);
  });
});
