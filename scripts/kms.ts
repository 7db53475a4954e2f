// Entry point of `npm run kms`: runs the local KMS until interrupted.
import { userPath } from './import-key/cli-io';
import { startLocalKms } from './local-kms';
import { parseLocalArgs, parsePort, runLocalCommand } from './local-stack/command-line';

const USAGE = `Usage: npm run kms -- [--port PORT] [--data-dir DIR]

Runs the local KMS (an emulator of AWS KMS for development and tests) on 127.0.0.1 until Ctrl-C.

  --port PORT      port to listen on (default 4599; 0 picks a free port)
  --data-dir DIR   keep keys and aliases in DIR/state.json (mode 0600, private keys in the clear);
                   without it, everything is in memory and gone when it stops
  --help           this text
`;

await runLocalCommand(USAGE, async () => {
  const values = parseLocalArgs(process.argv.slice(2), { port: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean' } });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const dataDir = values['data-dir'] === undefined ? undefined : userPath(values['data-dir']);
  const kms = await startLocalKms({ port: parsePort(values.port, '--port') ?? 4599, dataDir });
  console.log(`Local KMS listening on ${kms.url}${dataDir ? ` (state in ${dataDir}/state.json)` : ' (in memory)'}.
It accepts any SigV4 signature: a development tool, not a security boundary. Export:

  export AWS_ENDPOINT_URL_KMS=${kms.url} AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local

then for example: aws kms create-key --key-spec ECC_SECG_P256K1 --key-usage SIGN_VERIFY --endpoint-url ${kms.url}
Faults: curl -X POST ${kms.url}/__faults -d '{"throttle": 3}'   (also internalError, latencyMs, corruptSignature, reset)`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void kms.close().then(() => process.exit(0)));
  }
});
