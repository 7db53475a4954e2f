// What the signer bundles leave out: SDK code that is loaded with import() only in situations a Lambda
// function never meets. Each module below is replaced by a small stand-in that behaves as the real module
// does when its source has nothing to offer, so a function that somehow reaches it fails with a clear error
// instead of a missing file.
import type { Plugin } from 'esbuild';

/** Why a credential source is missing from the bundle, as the SDK's credential chain will report it. */
export const LEFT_OUT_CREDENTIALS_MESSAGE =
  'is not in the signer bundle: Lambda provides credentials through environment variables (or a container ' +
  'credentials endpoint), which the bundle keeps; profile files, SSO, credential_process and web-identity ' +
  'token files are left out to keep the cold start small.';

// Credential sources of the SDK's default chain that read files or start logins, never used on Lambda, where
// the environment provider answers first. Their stand-ins throw the SDK's own "try the next source" error, so
// the chain goes on to the remote provider exactly as when the real source finds nothing.
const CREDENTIAL_SOURCES = new Map([
  ['@aws-sdk/credential-provider-sso', 'fromSSO'],
  ['@aws-sdk/credential-provider-ini', 'fromIni'],
  ['@aws-sdk/credential-provider-process', 'fromProcess'],
  ['@aws-sdk/credential-provider-web-identity', 'fromTokenFile'],
]);

// Other code only ever loaded elsewhere: bowser parses a browser's user agent (Node builds its own), and
// event streams serve operations that KMS does not have.
const NEVER_LOADED = new Map([
  // The SDK's browser user-agent provider falls back to an empty parser when the module has none.
  ['bowser', 'export default {};'],
  [
    '@smithy/core/event-streams',
    "const missing = () => { throw new Error('event streams are not in the signer bundle: no KMS operation uses them'); };\n" +
      'export const EventStreamSerde = missing; export const eventStreamSerdeProvider = missing;',
  ],
]);

/** The stand-in module for a left-out import, or undefined for a module the bundle keeps. */
export function standInFor(path: string): string | undefined {
  const provider = CREDENTIAL_SOURCES.get(path);
  if (provider) {
    return (
      "import { CredentialsProviderError } from '@smithy/core/config';\n" +
      `export const ${provider} = () => async () => {\n` +
      `  throw new CredentialsProviderError(${JSON.stringify(`${path} ${LEFT_OUT_CREDENTIALS_MESSAGE}`)}, { tryNextLink: true });\n` +
      '};\n'
    );
  }
  return NEVER_LOADED.get(path);
}

/** An esbuild plugin that gives left-out dynamic imports their stand-ins (static imports are never replaced). */
export function lambdaOnlyImports(): Plugin {
  return {
    name: 'lambda-only-imports',
    setup(build) {
      build.onResolve({ filter: /^(@aws-sdk\/credential-provider-|bowser$|@smithy\/core\/event-streams$)/ }, ({ path, kind }) =>
        kind === 'dynamic-import' && standInFor(path) !== undefined ? { path, namespace: 'lambda-only' } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'lambda-only' }, ({ path }) => ({ contents: standInFor(path) ?? '', loader: 'js', resolveDir: process.cwd() }));
    },
  };
}
