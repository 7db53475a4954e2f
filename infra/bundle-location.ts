// Where the two prebuilt signer bundles are, found from the file this code runs from, so one lookup serves the
// repository (infra/bundle-location.ts: the bundles in ../dist/<kind>) and the installed package
// (dist/package/cdk.cjs or cdk.js: the bundles in ../<kind>), whatever directory cdk runs in.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SignerKind } from './signer-props';

/** The file a bundle directory must hold: the Lambda handler's module (index.handler). */
export const BUNDLE_ENTRY = 'index.mjs';

/** The directories that may hold a bundle, in the order they are tried, for code running from `moduleFile`. */
export function bundleCandidates(moduleFile: string, kind: SignerKind): string[] {
  const here = dirname(moduleFile);
  return [join(here, '..', kind), join(here, '..', 'dist', kind)];
}

/** The directory of the prebuilt `kind` bundle; throws SignerBundleNotFoundError naming where it looked. */
export function signerBundleDirectory(kind: SignerKind, moduleFile: string = thisModuleFile()): string {
  const candidates = bundleCandidates(moduleFile, kind);
  const found = candidates.find((directory) => existsSync(join(directory, BUNDLE_ENTRY)));
  if (found === undefined) throw new SignerBundleNotFoundError(kind, candidates);
  return found;
}

/**
 * The file this module was loaded from, as a path. Neither `__filename` (CommonJS only) nor `import.meta.url`
 * (ES modules only, and a syntax error in the CommonJS the tests run) works in all four ways this code runs:
 * tsx and jest from infra/, and the package's ESM and CommonJS bundles. V8's call sites do.
 */
function thisModuleFile(): string {
  const { prepareStackTrace, stackTraceLimit } = Error;
  try {
    Error.stackTraceLimit = 1;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    const callSites = new Error().stack as unknown as NodeJS.CallSite[];
    const file = callSites[0]?.getFileName();
    if (file === undefined || file === null) throw new Error('the call site of the bundle lookup has no file name');
    return file.startsWith('file:') ? fileURLToPath(file) : file;
  } finally {
    Error.prepareStackTrace = prepareStackTrace;
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** A prebuilt signer bundle is missing: the message says where it was looked for and how to get it. */
export class SignerBundleNotFoundError extends Error {
  override readonly name = 'SignerBundleNotFoundError';
  constructor(
    readonly kind: SignerKind,
    readonly searched: readonly string[],
  ) {
    super(
      `The ${kind} signer bundle (${BUNDLE_ENTRY}) is in none of ${searched.join(', ')}. In the kms-eth-signer repository, ` +
        'run npm run build before cdk synth (npm run synth and npm run deploy do); with the installed package, reinstall it ' +
        '(its dist/eip1559 and dist/legacy hold the bundles), or give EthereumSigner the codeDirectories prop.',
    );
  }
}
