// Builds the npm package's entries into dist/package/: per entry an ESM bundle (.js), a CommonJS bundle
// (.cjs), and declarations for both (.d.ts and .d.cts); then writes package.json's `exports` for the entries
// whose source exists (scripts/package/entries.ts). Dependencies stay external (the consumer installs them),
// so an entry loads only the packages its own code imports: the ethers entry never loads viem, the viem entry
// never loads ethers. Run by `npm run build:package` and by `npm pack` (prepack).
import { build } from 'esbuild';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { declarations } from './package/declarations';
import { PACKAGE_DIR, presentEntries, writeExports, type PackageEntry } from './package/entries';

async function bundle(entries: readonly PackageEntry[]): Promise<void> {
  for (const format of ['esm', 'cjs'] as const) {
    await build({
      entryPoints: Object.fromEntries(entries.map((entry) => [entry.name, entry.source])),
      outdir: PACKAGE_DIR,
      outExtension: { '.js': format === 'esm' ? '.js' : '.cjs' },
      bundle: true,
      // Every package stays a dependency of the consumer's install; only this repository's code is bundled.
      packages: 'external',
      platform: 'node',
      target: 'node20',
      format,
      legalComments: 'none',
      logLevel: 'warning',
    });
  }
}

const entries = presentEntries();
rmSync(PACKAGE_DIR, { recursive: true, force: true });
mkdirSync(PACKAGE_DIR, { recursive: true });
await bundle(entries);
declarations(entries);
if (writeExports(entries)) console.log('package.json: exports updated for the entries present');
for (const entry of entries) {
  const size = (extension: string) => (statSync(join(PACKAGE_DIR, `${entry.name}${extension}`)).size / 1024).toFixed(1);
  console.log(`${PACKAGE_DIR}/${entry.name}.{js,cjs}: ${size('.js')} / ${size('.cjs')} KiB  (kms-eth-signer${entry.subpath.slice(1)})`);
}
