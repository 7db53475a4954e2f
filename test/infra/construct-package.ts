// The CDK entry laid out as the npm package holds it, for consumer tests: dist/package/cdk.cjs and cdk.js built
// from infra/index.ts with every package external (as the package build does), beside copies of the two
// bundles npm run build wrote (dist/eip1559, dist/legacy). To test the packed package instead, point the
// tests at its installed dist/package/cdk.cjs and cdk.js.
import { cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

export const REPO = resolve(__dirname, '..', '..');

/** The two entries of a package laid out in `root`/kms-eth-signer, whose packages resolve from `root`/node_modules. */
export interface ConstructPackage {
  readonly cjs: string;
  readonly esm: string;
  /** The package's dist/: the bundles are in eip1559/ and legacy/. */
  readonly dist: string;
}

/** Builds the CDK entry into `root`/kms-eth-signer/dist/package and copies the built bundles beside it. */
export async function buildConstructPackage(root: string): Promise<ConstructPackage> {
  const dist = join(root, 'kms-eth-signer', 'dist');
  for (const kind of ['eip1559', 'legacy']) {
    const built = join(REPO, 'dist', kind);
    if (!existsSync(join(built, 'index.mjs'))) throw new Error(`${built}/index.mjs is missing: run npm run build first (npm test does)`);
    cpSync(built, join(dist, kind), { recursive: true });
  }
  for (const format of ['cjs', 'esm'] as const) {
    await build({
      entryPoints: { cdk: join(REPO, 'infra', 'index.ts') },
      outdir: join(dist, 'package'),
      outExtension: { '.js': format === 'cjs' ? '.cjs' : '.js' },
      bundle: true,
      packages: 'external',
      platform: 'node',
      target: 'node20',
      format,
      logLevel: 'error',
    });
  }
  // As in the package's own package.json: its .js files are ES modules.
  writeFileSync(join(root, 'kms-eth-signer', 'package.json'), `${JSON.stringify({ name: 'kms-eth-signer', type: 'module' })}\n`);
  // The consumer's node_modules: the packages this repository installed (none of its sources).
  mkdirSync(root, { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  return { cjs: join(dist, 'package', 'cdk.cjs'), esm: join(dist, 'package', 'cdk.js'), dist };
}
