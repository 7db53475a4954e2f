import { createKmsClient, processIo, type CliIo } from './cli-io';
import { reportError } from './cli';
import { EXIT, exitCodeFor } from './exit-codes';
import { addressLabel, KEY_FORMAT_DESCRIPTIONS, METAMASK_FIRST_ACCOUNT_PATH } from './key-input';
import { KeyAddressMismatchError, kmsKeyAddress } from './kms-import';
import { destroyPrivateKey } from './private-key';
import { hasKeySource, readKeySource } from './key-source';
import { parseCommandLine, UsageError } from './usage';

/** The --help text of npm run address. */
export const ADDRESS_USAGE = `Usage: npm run address -- KEY [--kms-key-id ID] [options]

Prints the address MetaMask shows for a private key, and with --kms-key-id checks that a KMS key has
the same address (exit 9 if not). Keys are never read from the command line (with - at a terminal, the
key is prompted for and read without echo); relative paths are relative to the directory you ran npm in.

KEY (one of; optional with --kms-key-id, which then prints the KMS key's address):
  --key-file FILE|-       PEM (SEC1 or PKCS#8), DER, or 64 hex digits as MetaMask exports them; - reads stdin
  --mnemonic-file FILE    BIP-39 mnemonic in a file
  --mnemonic -            BIP-39 mnemonic from stdin
  --path PATH             derivation path for a mnemonic (default ${METAMASK_FIRST_ACCOUNT_PATH}, MetaMask's first account)

Options:
  --kms-key-id ID         key id, key ARN, alias/NAME or alias ARN to compare with (needs kms:GetPublicKey)
  --endpoint-url URL      KMS endpoint (default: AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL, or AWS)
  --region REGION         AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the AWS config)
  --help                  this text
`;

const OPTIONS = {
  'key-file': { type: 'string' },
  'mnemonic-file': { type: 'string' },
  mnemonic: { type: 'string' },
  path: { type: 'string' },
  'kms-key-id': { type: 'string' },
  'endpoint-url': { type: 'string' },
  region: { type: 'string' },
  help: { type: 'boolean' },
} as const;

/** Runs `npm run address` with the given arguments; resolves to the process exit code, never throws. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  try {
    await printAddress(argv, io);
    return EXIT.ok;
  } catch (error) {
    reportError(error, io);
    return exitCodeFor(error);
  }
}

async function printAddress(argv: string[], io: CliIo): Promise<void> {
  const options = parseCommandLine(argv, OPTIONS);
  if (options.help) {
    io.stdout.write(ADDRESS_USAGE);
    return;
  }
  const keyId = options['kms-key-id'];
  if (!hasKeySource(options) && keyId === undefined) {
    throw new UsageError('Give a key (--key-file FILE|-, --mnemonic-file FILE or --mnemonic -), a --kms-key-id ID, or both');
  }
  let fileAddress: string | undefined;
  if (hasKeySource(options)) {
    const { key, format, path } = await readKeySource(options, io);
    destroyPrivateKey(key); // only the address is needed
    fileAddress = key.address;
    io.stdout.write(`Key: ${KEY_FORMAT_DESCRIPTIONS[format]}${path ? ` at ${path}` : ''}\n`);
    io.stdout.write(`${addressLabel({ format, path })}: ${fileAddress}\n`);
  }
  if (keyId === undefined) return;
  const client = (io.kmsClient ?? createKmsClient)({ endpoint: options['endpoint-url'], region: options.region });
  const kms = await kmsKeyAddress(client, keyId, '--kms-key-id');
  io.stdout.write(`KMS key ${kms.keyArn}: ${kms.address}\n`);
  if (fileAddress === undefined) return;
  if (fileAddress !== kms.address) throw new KeyAddressMismatchError(kms.keyArn, fileAddress, kms.address, '--kms-key-id');
  io.stdout.write(`addresses match: key file ${fileAddress} = KMS key ${kms.address} (${kms.keyArn})\n`);
}
