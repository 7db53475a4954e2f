import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The path of a Foundry binary (anvil, cast) shipped in its npm platform package
 * (`@foundry-rs/<tool>-<platform>-<arch>`). npm 11 skips the wrapper package's postinstall, but the binary
 * is in the platform package's tarball, so we find it there instead of relying on the wrapper.
 */
export function foundryBinary(tool: 'anvil' | 'cast'): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const platformPackage = `@foundry-rs/${tool}-${process.platform}-${arch}`;
  const require = createRequire(join(process.cwd(), 'package.json'));
  let packageDir: string;
  try {
    packageDir = dirname(require.resolve(`${platformPackage}/package.json`));
  } catch (cause) {
    throw new Error(`${platformPackage} is not installed: run npm install (Foundry ships ${tool} for linux and darwin on x64/arm64).`, { cause });
  }
  const binary = join(packageDir, 'bin', process.platform === 'win32' ? `${tool}.exe` : tool);
  accessSync(binary, constants.X_OK);
  return binary;
}
