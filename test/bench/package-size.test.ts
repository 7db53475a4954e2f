import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dependencyClosure, directoryBytes, importedPackages } from '../../bench/package-size';

/** Writes a package into `directory`/node_modules/`name` with `bytes` of code. */
function installed(directory: string, name: string, manifest: Record<string, unknown>, bytes: number): string {
  const path = join(directory, 'node_modules', name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'package.json'), JSON.stringify({ name, ...manifest }));
  writeFileSync(join(path, 'index.js'), 'x'.repeat(bytes));
  return path;
}

describe('importedPackages', () => {
  it('names each package a bundle imports once, scoped ones by scope and name, without Node built-ins or relative files', () => {
    const bundle = 'import { a } from "@aws-sdk/client-kms";\nimport b from "asn1.js";\nimport { c } from "@noble/curves/secp256k1";\nconst d = require("viem/accounts");\nimport "node:fs";\nimport "./local.js";\nimport { e } from "@aws-sdk/client-kms";';
    expect(importedPackages(bundle)).toEqual(['@aws-sdk/client-kms', '@noble/curves', 'asn1.js', 'viem']);
  });
});

describe('dependencyClosure', () => {
  it('counts a package, its dependencies and required peers transitively, each installed copy once, nested copies apart', () => {
    const root = mkdtempSync(join(tmpdir(), 'kms-eth-signer-closure-'));
    installed(root, 'a', { dependencies: { b: '1', c: '1' }, peerDependencies: { p: '1', q: '1' }, peerDependenciesMeta: { q: { optional: true } } }, 100);
    installed(root, 'b', { dependencies: { c: '1' } }, 20);
    installed(root, 'c', {}, 3);
    installed(root, 'p', {}, 1000);
    installed(root, 'q', {}, 50000);
    const nested = installed(join(root, 'node_modules', 'b'), 'c', {}, 7); // b's own copy of c
    const sizes = dependencyClosure(['a'], root);
    expect([...sizes.keys()].map((path) => path.slice(root.length)).sort()).toEqual(['/node_modules/a', '/node_modules/b', '/node_modules/b/node_modules/c', '/node_modules/c', '/node_modules/p']);
    expect(sizes.get(nested)).toBe(directoryBytes(nested));
    expect(directoryBytes(join(root, 'node_modules', 'b'))).toBeLessThan(directoryBytes(nested) + 200); // b without its nested c
  });

  it('says which package is missing', () => {
    expect(() => dependencyClosure(['not-installed-anywhere'], mkdtempSync(join(tmpdir(), 'kms-eth-signer-closure-')))).toThrow(/not-installed-anywhere is not installed/);
  });
});
