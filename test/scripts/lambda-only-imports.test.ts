// The signer bundles leave out SDK code that only runs off Lambda; what replaces it must behave as the SDK
// expects (the credential chain goes on to the next source) and say why the code is missing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { LEFT_OUT_CREDENTIALS_MESSAGE, lambdaOnlyImports, standInFor } from '../../scripts/lambda-only-imports';

/**
 * Bundles `source` (an ES module) with the plugin and the options of scripts/build.ts that matter here (the
 * SDK's ES module builds, whose credential sources are loaded with import()), runs it, and returns its stdout.
 */
async function bundleAndRun(source: string): Promise<{ stdout: string; files: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-only-'));
  const entry = join(process.cwd(), `.lambda-only-entry-${process.pid}.mjs`); // inside the project, to resolve its packages
  writeFileSync(entry, source);
  try {
    await build({ entryPoints: [entry], outdir: dir, bundle: true, splitting: true, format: 'esm', platform: 'node', mainFields: ['module', 'main'], outExtension: { '.js': '.mjs' }, plugins: [lambdaOnlyImports()], logLevel: 'error' });
  } finally {
    (await import('node:fs')).rmSync(entry, { force: true });
  }
  const main = readdirSync(dir).find((file) => file.startsWith('.lambda-only-entry')) ?? '';
  const env = { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const stdout = execFileSync(process.execPath, [join(dir, main)], { encoding: 'utf8', env });
  return { stdout, files: readdirSync(dir).map((file) => readFileSync(join(dir, file), 'utf8')) };
}

describe('lambdaOnlyImports', () => {
  it.each([
    ['@aws-sdk/credential-provider-ini', 'fromIni'],
    ['@aws-sdk/credential-provider-sso', 'fromSSO'],
    ['@aws-sdk/credential-provider-process', 'fromProcess'],
    ['@aws-sdk/credential-provider-web-identity', 'fromTokenFile'],
  ])('replaces %s with a %s that tells the credential chain to try the next source, and says why', async (path, name) => {
    const { stdout } = await bundleAndRun(
      `const { ${name} } = await import('${path}');\n` +
        `try { await ${name}()(); } catch (error) { console.log(JSON.stringify({ name: error.name, tryNextLink: error.tryNextLink, message: error.message })); }\n`,
    );
    expect(JSON.parse(stdout)).toEqual({ name: 'CredentialsProviderError', tryNextLink: true, message: `${path} ${LEFT_OUT_CREDENTIALS_MESSAGE}` });
  });

  it("leaves the SDK's default chain working with credentials from the environment, as on Lambda, and bundles none of the left-out sources", async () => {
    const { stdout, files } = await bundleAndRun(
      "import { defaultProvider } from '@aws-sdk/credential-provider-node';\n" +
        "process.env.AWS_ACCESS_KEY_ID = 'AKIDLAMBDA'; process.env.AWS_SECRET_ACCESS_KEY = 'secret'; process.env.AWS_SESSION_TOKEN = 'token';\n" +
        'const credentials = await defaultProvider()();\n' +
        'console.log(JSON.stringify({ accessKeyId: credentials.accessKeyId, sessionToken: credentials.sessionToken }));\n',
    );
    expect(JSON.parse(stdout)).toEqual({ accessKeyId: 'AKIDLAMBDA', sessionToken: 'token' });
    const bundled = files.join('\n');
    expect(bundled).not.toMatch(/sso_start_url|AWS_WEB_IDENTITY_TOKEN_FILE|AssumeRoleWithWebIdentity/);
    expect(bundled).toContain('AWS_CONTAINER_CREDENTIALS_FULL_URI'); // the remote source Lambda may use stays
  });

  it('replaces browser-only and event-stream code, and nothing else', () => {
    expect(standInFor('bowser')).toBe('export default {};');
    expect(standInFor('@smithy/core/event-streams')).toContain('event streams are not in the signer bundle');
    expect(standInFor('@aws-sdk/credential-provider-env')).toBeUndefined();
    expect(standInFor('@aws-sdk/credential-provider-http')).toBeUndefined();
    expect(standInFor('constructor')).toBeUndefined();
  });
});
