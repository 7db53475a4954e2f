import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { encodePem } from './pem';
import { encodeSec1 } from './pkcs8';
import { privateKeyFromScalar, ScalarOutOfRangeError, type PrivateKey } from './private-key';
import { UsageError } from './usage';

/**
 * Generates a fresh secp256k1 key and writes it to a new file (mode 0600, never overwriting) as a SEC1
 * "EC PRIVATE KEY" PEM, the format `openssl ecparam -name secp256k1 -genkey -noout` writes.
 */
export async function generateKeyFile(path: string): Promise<PrivateKey> {
  const key = freshKey();
  const der = encodeSec1(key);
  let file;
  try {
    // A new folder for keys is readable by its owner only; an existing one is left as it is.
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // 'wx' fails if the file exists: never overwrite what may be the only copy of another key.
    file = await open(path, 'wx', 0o600);
  } catch (cause) {
    der.fill(0);
    key.scalar.fill(0);
    const code = (cause as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'EEXIST' ? `--generate ${path}: the file exists; refusing to overwrite it (choose a new file name)` : `--generate ${path}: cannot create the file (${code ?? cause})`,
      cause,
    );
  }
  try {
    await file.chmod(0o600); // in case the umask is unusual
    await file.writeFile(encodePem('EC PRIVATE KEY', der));
    await file.sync();
  } finally {
    der.fill(0);
    await file.close();
  }
  return key;
}

function freshKey(): PrivateKey {
  // Rejection sampling: a random 256-bit number is out of [1, n-1] with probability about 2^-128.
  for (;;) {
    const candidate = randomBytes(32);
    try {
      return privateKeyFromScalar(candidate);
    } catch (error) {
      if (!(error instanceof ScalarOutOfRangeError)) throw error;
    } finally {
      candidate.fill(0);
    }
  }
}
