import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRecoveryKeyPair } from './recovery-key';
import { fingerprint } from './envelope';
import { userPath } from '../import-key/cli-io';
import { KeyFileInWorkingTreeError, refuseUnignoredKeyFile } from '../import-key/working-tree';
import { parseCommandArgs, type CommandIo } from './command-line';

const USAGE = `Usage: npm run recovery-keypair -- --out-dir DIR [--name NAME] [--der] [--ephemeral]

Generates an RSA-4096 recovery key pair for encrypted backups of imported key material:
  DIR/NAME-private.pem   the recovery PRIVATE key (mode 0600): store it offline, never on a server
  DIR/NAME-private.der   the same key as DER, with --der
  DIR/NAME-public.der    the public key, binary DER (550 bytes)
  DIR/NAME-public.hex    the public key, hex text (1100 characters)
NAME defaults to "recovery". Existing files are never overwritten.
--ephemeral makes the ceremony operator's ONE-TIME key instead (NAME defaults to "operator-one-time"): holders
encrypt their decrypted shares to it (npm run recover -- --decrypt-share --to DIR/NAME-public.der), the operator
combines them (npm run recover -- --combine), then deletes the private key.`;

/** Runs `npm run recovery-keypair`; returns the exit code. */
export async function recoveryKeypairCommand(argv: string[], io: CommandIo): Promise<number> {
  const options = { 'out-dir': { type: 'string' }, name: { type: 'string' }, der: { type: 'boolean', default: false }, ephemeral: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } as const;
  const values = parseCommandArgs(argv, options, USAGE, io);
  if (typeof values === 'number') return values;
  const dir = values['out-dir'] ? userPath(values['out-dir']) : undefined;
  if (!dir) {
    io.stderr(`--out-dir is required.\n\n${USAGE}\n`);
    return 2;
  }
  const name = values.name ?? (values.ephemeral ? 'operator-one-time' : 'recovery');
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    io.stderr('--name may contain only letters, digits, ".", "_" and "-".\n');
    return 2;
  }

  const base = join(dir, name);
  try {
    refuseUnignoredKeyFile(`${base}-private.pem`, '--out-dir', 'a recovery private key');
  } catch (error) {
    if (!(error instanceof KeyFileInWorkingTreeError)) throw error;
    io.stderr(`error: ${error.name}: ${error.message}\n`);
    return 2;
  }
  const { publicKey, privateKey } = await generateRecoveryKeyPair();
  const files: Array<[string, string | Buffer, number]> = [
    [`${base}-private.pem`, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600],
    ...(values.der ? [[`${base}-private.der`, privateKey.export({ type: 'pkcs8', format: 'der' }), 0o600] as [string, Buffer, number]] : []),
    [`${base}-public.der`, publicKey.export({ type: 'spki', format: 'der' }), 0o644],
    [`${base}-public.hex`, publicKey.export({ type: 'spki', format: 'der' }).toString('hex'), 0o644],
  ];
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const [file, content, mode] of files) await writeFile(file, content, { mode, flag: 'wx' });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    io.stderr(e.code === 'EEXIST' ? `${e.path} already exists; choose another --name or --out-dir (keys are never overwritten).\n` : `Cannot write the key files: ${e.message}\n`);
    return 1;
  }
  if (values.ephemeral) {
    io.stdout(
      [
        `One-time ceremony key pair written (fingerprint sha256:${fingerprint(publicKey)}):`,
        ...files.map(([file]) => `  ${file}`),
        '',
        `Give ${base}-public.der (or .hex) and this fingerprint to each holder taking part: they run`,
        `  npm run recover -- --decrypt-share --backup THEIR_SHARD --recovery-private-key THEIR_KEY --to ${base}-public.der --out share-I.json`,
        `Then combine: npm run recover -- --combine --share share-1.json --share … --operator-private-key ${base}-private.pem --out KEY_FILE`,
        `and delete ${base}-private.pem securely: it opens every share file made for this ceremony.`,
        '',
      ].join('\n'),
    );
    return 0;
  }
  io.stdout(
    [
      `Recovery key pair written (fingerprint sha256:${fingerprint(publicKey)}):`,
      ...files.map(([file]) => `  ${file}`),
      '',
      `Store ${base}-private.pem OFFLINE (for example on two encrypted USB drives in separate safes) and delete it`,
      'from this machine. Without it, backups cannot be decrypted; with it, anyone can recover the keys they protect.',
      `Give ${base}-public.der (or .hex) to npm run import-key -- --backup-public-key.`,
      '',
    ].join('\n'),
  );
  return 0;
}
