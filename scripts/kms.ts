// Entry point of `npm run kms`: runs the local KMS until interrupted.
import { parseArgs } from 'node:util';
import { startLocalKms } from './local-kms';

const { values } = parseArgs({ options: { port: { type: 'string', default: '4599' }, 'data-dir': { type: 'string' } } });
const kms = await startLocalKms({ port: Number(values.port), dataDir: values['data-dir'] });
console.log(`Local KMS listening on ${kms.url}${values['data-dir'] ? ` (state in ${values['data-dir']}/state.json)` : ' (in memory)'}.
It accepts any SigV4 signature: a development tool, not a security boundary. Export:

  export AWS_ENDPOINT_URL_KMS=${kms.url} AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local

then for example: aws kms create-key --key-spec ECC_SECG_P256K1 --key-usage SIGN_VERIFY --endpoint-url ${kms.url}
Faults: curl -X POST ${kms.url}/__faults -d '{"throttle": 3}'   (also internalError, latencyMs, corruptSignature, reset)`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void kms.close().then(() => process.exit(0)));
}
