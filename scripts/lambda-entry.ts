// The signer bundles' entry module: the Lambda's module (lambdas/<name>.ts) and a top-level await of its start at
// init, so that Lambda's INIT phase reads the settings, loads the policy, fetches the public key and rehearses the
// first signature before the first event (lambdas/handler.ts, initialized). The await lives only in the bundle:
// the tests load lambdas/<name>.ts as CommonJS, which has no top-level await.
import { resolve } from 'node:path';
import type { Plugin } from 'esbuild';

const NAMESPACE = 'lambda-entry';

/** The entry point that `lambdaEntry` resolves for the Lambda module lambdas/<name>.ts. */
export function lambdaEntryPoint(name: string): string {
  return `${NAMESPACE}:${name}`;
}

/** The entry module's source for lambdas/<name>.ts. */
export function lambdaEntrySource(name: string): string {
  return [
    `import { handler } from './lambdas/${name}';`,
    "import { initialized } from './lambdas/handler';",
    'await initialized(handler);',
    'export { handler };',
    '',
  ].join('\n');
}

/** Resolves `lambda-entry:<name>` (lambdaEntryPoint) to the entry module of lambdas/<name>.ts. */
export function lambdaEntry(root = process.cwd()): Plugin {
  return {
    name: NAMESPACE,
    setup(build) {
      build.onResolve({ filter: new RegExp(`^${NAMESPACE}:[a-z0-9-]+$`) }, ({ path }) => ({ path: path.slice(NAMESPACE.length + 1), namespace: NAMESPACE }));
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, ({ path }) => ({ contents: lambdaEntrySource(path), loader: 'ts', resolveDir: resolve(root) }));
    },
  };
}
