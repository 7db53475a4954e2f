// The construct finds the prebuilt signer bundles beside the file it runs from: in the repository and in the
// installed package alike, whatever directory cdk runs in.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleCandidates, SignerBundleNotFoundError, signerBundleDirectory } from '../../infra/bundle-location';
import { thrownBy } from '../helpers/rejection';

const REPO = resolve(__dirname, '..', '..');
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'bundle-location-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function bundleAt(directory: string): void {
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'index.mjs'), 'export const handler = async () => ({});\n');
}

describe('bundleCandidates', () => {
  it('looks beside the package entry first, then in dist/ beside infra/', () => {
    expect(bundleCandidates('/app/node_modules/kms-eth-signer/dist/package/cdk.cjs', 'eip1559')).toEqual([
      '/app/node_modules/kms-eth-signer/dist/eip1559',
      '/app/node_modules/kms-eth-signer/dist/dist/eip1559',
    ]);
    expect(bundleCandidates('/src/kms-eth-signer/infra/bundle-location.ts', 'legacy')).toEqual(['/src/kms-eth-signer/legacy', '/src/kms-eth-signer/dist/legacy']);
  });
});

describe('signerBundleDirectory', () => {
  it('finds the bundle of the installed package from its CommonJS or ESM entry (dist/package/cdk.*)', () => {
    const pkg = join(root, 'node_modules', 'kms-eth-signer');
    bundleAt(join(pkg, 'dist', 'eip1559'));
    bundleAt(join(pkg, 'dist', 'legacy'));
    for (const entry of ['cdk.cjs', 'cdk.js']) {
      const moduleFile = join(pkg, 'dist', 'package', entry);
      expect(signerBundleDirectory('eip1559', moduleFile)).toBe(join(pkg, 'dist', 'eip1559'));
      expect(signerBundleDirectory('legacy', moduleFile)).toBe(join(pkg, 'dist', 'legacy'));
    }
  });

  it('finds the bundle npm run build wrote in a clone of the repository (dist/ beside infra/)', () => {
    bundleAt(join(root, 'dist', 'legacy'));
    expect(signerBundleDirectory('legacy', join(root, 'infra', 'bundle-location.ts'))).toBe(join(root, 'dist', 'legacy'));
  });

  it('takes a directory only when it holds index.mjs', () => {
    mkdirSync(join(root, 'dist', 'eip1559'), { recursive: true });
    expect(() => signerBundleDirectory('eip1559', join(root, 'infra', 'bundle-location.ts'))).toThrow(SignerBundleNotFoundError);
  });

  it('says where it looked and how to get the bundle when there is none', () => {
    const error = thrownBy(SignerBundleNotFoundError, () => signerBundleDirectory('eip1559', join(root, 'dist', 'package', 'cdk.cjs')));
    expect(error.name).toBe('SignerBundleNotFoundError');
    expect(error.searched).toEqual([join(root, 'dist', 'eip1559'), join(root, 'dist', 'dist', 'eip1559')]);
    expect(error.message).toContain(`is in none of ${join(root, 'dist', 'eip1559')}, ${join(root, 'dist', 'dist', 'eip1559')}`);
    expect(error.message).toContain('run npm run build before cdk synth');
    expect(error.message).toContain('codeDirectories');
  });

  it('finds, from this repository, the bundles npm run build wrote to dist/ (whatever the working directory)', () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      expect(signerBundleDirectory('eip1559')).toBe(join(REPO, 'dist', 'eip1559'));
      expect(signerBundleDirectory('legacy')).toBe(join(REPO, 'dist', 'legacy'));
    } finally {
      process.chdir(cwd);
    }
  });
});
