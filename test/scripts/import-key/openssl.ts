// Runs /usr/bin/openssl with stdin and stdout as pipes: test keys never touch the disk.
import { execFileSync } from 'node:child_process';

/** Runs openssl with the given arguments and input; returns its stdout. */
export function openssl(args: string[], input?: Uint8Array | string): Buffer {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** A fresh secp256k1 key as `openssl ecparam -name secp256k1 -genkey` writes it (EC PARAMETERS + EC PRIVATE KEY). */
export function opensslSecp256k1Pem(): Buffer {
  return openssl(['ecparam', '-name', 'secp256k1', '-genkey']);
}
