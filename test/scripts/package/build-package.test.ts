import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withExtensions } from '../../../scripts/package/declarations';
import { exportsMap, manifestFields, PACKAGE_ENTRIES, presentEntries } from '../../../scripts/package/entries';

describe('the package entries', () => {
  it('keeps package.json main, types and exports equal to what the build writes for the entries present (run npm run build:package)', () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as Record<string, unknown>;
    const { main, types, exports } = manifestFields(presentEntries());
    expect({ main: manifest.main, types: manifest.types, exports: manifest.exports }).toEqual({ main, types, exports });
    expect(exports).toEqual(exportsMap(presentEntries()));
  });

  it('always has the ethers and viem entries', () => {
    expect(presentEntries().map((entry) => entry.subpath)).toEqual(expect.arrayContaining(['.', './viem']));
  });

  it('leaves out an entry whose source is not there yet', () => {
    const root = mkdtempSync(join(tmpdir(), 'kms-eth-signer-entries-'));
    mkdirSync(join(root, 'lambdas/signer'), { recursive: true });
    writeFileSync(join(root, 'lambdas/signer/index.ts'), '');
    expect(presentEntries(root)).toEqual([PACKAGE_ENTRIES[0]]);
  });
});

describe('exportsMap', () => {
  it('gives each entry ESM and CommonJS conditions, types first in each, and exports the JSON Schemas as files', () => {
    const map = exportsMap([{ subpath: './viem', name: 'viem', source: 'lambdas/signer/viem-account.ts' }]);
    expect(map).toEqual({
      './viem': {
        import: { types: './dist/package/types/lambdas/signer/viem-account.d.ts', default: './dist/package/viem.js' },
        require: { types: './dist/package/types/lambdas/signer/viem-account.d.cts', default: './dist/package/viem.cjs' },
      },
      './policy.schema.json': './policy.schema.json',
      './events.schema.json': './events.schema.json',
      './package.json': './package.json',
    });
    expect(Object.keys((map['./viem'] as { import: object }).import)[0]).toBe('types');
  });
});

describe('withExtensions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kms-eth-signer-dts-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'der.d.ts'), '');
  writeFileSync(join(dir, 'sub/index.d.ts'), '');
  const file = join(dir, 'entry.d.ts');

  it('names the declaration file of a relative import, for ESM and for CommonJS', () => {
    const text = "import { a } from './der';\nexport * from \"./sub\";\nexport type T = import('./der').X;\n";
    expect(withExtensions(text, file, '.js')).toBe("import { a } from './der.js';\nexport * from \"./sub/index.js\";\nexport type T = import('./der.js').X;\n");
    expect(withExtensions(text, file, '.cjs')).toContain("from './der.cjs'");
  });

  it('leaves package imports alone', () => {
    expect(withExtensions("import type { Address } from 'viem';", file, '.js')).toBe("import type { Address } from 'viem';");
  });

  it('refuses an import it cannot resolve rather than ship a broken declaration', () => {
    expect(() => withExtensions("export * from './missing';", file, '.js')).toThrow(/cannot resolve the declaration import \.\/missing/);
  });
});
