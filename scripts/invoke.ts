// Entry point of `npm run invoke`: sends one event file to a signer Lambda through the Lambda Invoke API (the
// local one that `npm run local` prints as AWS_ENDPOINT_URL_LAMBDA, or AWS) and prints its answer.
import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { capped, userPath } from './import-key/cli-io';
import { refuseSecretArguments } from './import-key/secret-arguments';
import { LocalUsageError, runLocalCommand } from './local-stack/command-line';
import { signerFunctionName, SIGNER_KINDS, type SignerKindName } from './local-stack/signer-functions';

const USAGE = `Usage: npm run invoke -- EVENT.json [--function eip1559|legacy|NAME] [--endpoint-url URL] [--timeout-ms MS]

Invokes a signer Lambda with the JSON event in EVENT.json (- reads standard input) and prints its response.
A function error prints its type and message on standard error (exit 1).

  --function F       eip1559 (default) or legacy: the functions ${SIGNER_KINDS.map(signerFunctionName).join(' and ')};
                     any other value is used as the function name or ARN
  --endpoint-url URL the Lambda endpoint (default AWS_ENDPOINT_URL_LAMBDA, which npm run local prints; without
                     either, AWS itself, with your AWS configuration)
  --timeout-ms MS    give up after MS milliseconds (default 30000)
  --help             this text

Example events are in examples/events/.
`;

// Lambda's limit for a synchronous invocation's payload.
const MAX_EVENT_BYTES = 6 * 1024 * 1024;

await runLocalCommand(USAGE, async () => {
  const { values, positionals } = parse(process.argv.slice(2));
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (positionals.length !== 1) throw new LocalUsageError(`give exactly one event file (or - for standard input), got ${positionals.length}`);
  const payload = readEvent(positionals[0] as string);
  const functionName = (SIGNER_KINDS as readonly string[]).includes(values.function ?? 'eip1559') ? signerFunctionName((values.function ?? 'eip1559') as SignerKindName) : (values.function as string);
  const timeoutMs = values['timeout-ms'] === undefined ? 30_000 : Number(values['timeout-ms']);
  if (!/^\d{1,7}$/.test(values['timeout-ms'] ?? '0') || timeoutMs < 1) throw new LocalUsageError(`--timeout-ms must be a whole number of milliseconds from 1 to 9999999, not "${capped(values['timeout-ms'] ?? '', 40)}"`);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // One attempt: a retried sign without an idempotencyKey would be a second signature.
  const client = new LambdaClient({ ...(values['endpoint-url'] !== undefined && { endpoint: values['endpoint-url'] }), maxAttempts: 1 });
  try {
    const response = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: payload }), { abortSignal: AbortSignal.timeout(timeoutMs) });
    const text = new TextDecoder().decode(response.Payload ?? new Uint8Array());
    if (response.FunctionError) {
      const { errorType, errorMessage } = parseJson(text) as { errorType?: unknown; errorMessage?: unknown };
      process.stderr.write(`${String(errorType ?? response.FunctionError)}: ${String(errorMessage ?? capped(text))}\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`${JSON.stringify(parseJson(text), null, 2)}\n`);
  } finally {
    client.destroy();
  }
});

function parse(argv: string[]) {
  try {
    refuseSecretArguments(argv);
    return parseArgs({
      args: argv,
      options: { function: { type: 'string' }, 'endpoint-url': { type: 'string' }, 'timeout-ms': { type: 'string' }, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (cause) {
    throw new LocalUsageError((cause as Error).message);
  }
}

/** The event's bytes, checked to be one JSON value no larger than Lambda accepts. */
function readEvent(path: string): Uint8Array {
  let bytes: Buffer;
  try {
    if (path !== '-' && statSync(userPath(path)).size > MAX_EVENT_BYTES) throw new LocalUsageError(`${capped(path, 200)} is larger than ${MAX_EVENT_BYTES} bytes, Lambda's limit for an event`);
    bytes = readFileSync(path === '-' ? 0 : userPath(path));
  } catch (error) {
    if (error instanceof LocalUsageError) throw error;
    throw new LocalUsageError(`cannot read the event file ${capped(path, 200)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new LocalUsageError(`${capped(path, 200)} is not JSON: ${(error as Error).message.slice(0, 200)}`);
  }
  return bytes;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
