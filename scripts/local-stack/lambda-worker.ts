// One local Lambda function's execution environment, as a child process of the local Invoke endpoint: loads the
// built bundle once (its module state, warm caches and environment live here, apart from the other function)
// and runs the invocations the parent sends over IPC with a Lambda-like context.
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context';
import type { RuntimeError, WorkerReply, WorkerRequest } from './lambda-worker-protocol';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const bundle = process.env.LOCAL_LAMBDA_BUNDLE;
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local-function';
// Loaded on the first invocation, as Lambda initialises on the first request; a failed load is reported each time.
let loading: Promise<Handler> | undefined;

function loadHandler(): Promise<Handler> {
  loading ??= (async () => {
    if (!bundle) throw Object.assign(new Error('LOCAL_LAMBDA_BUNDLE is not set'), { name: 'Runtime.ImportModuleError' });
    const module = (await import(pathToFileURL(bundle).href)) as { handler?: unknown };
    if (typeof module.handler !== 'function') throw Object.assign(new Error(`${bundle} exports no handler function`), { name: 'Runtime.HandlerNotFound' });
    return module.handler as Handler;
  })();
  return loading;
}

process.on('message', (message: WorkerRequest) => {
  void invoke(message).then((reply) => process.send?.(reply));
});
// The endpoint is gone (stopped, or crashed): an execution environment without its service leaves nothing behind.
process.on('disconnect', () => process.exit(0));

async function invoke({ id, event, requestId, remainingMs }: WorkerRequest): Promise<WorkerReply> {
  try {
    const handler = await loadHandler();
    // As on Lambda, the invocation's timeout runs from here: loading the bundle is the init phase.
    process.send?.({ id, started: true } satisfies WorkerReply);
    const result = await handler(event, lambdaContext(functionName, remainingMs, requestId));
    // The Node.js runtime answers JSON.stringify of the result; undefined becomes null.
    return { id, ok: true, payload: JSON.stringify(result ?? null) };
  } catch (error) {
    return { id, ok: false, error: runtimeError(error) };
  }
}

/** The error object the Node.js runtime returns for an exception: errorType (its name), errorMessage and trace (its stack lines). */
function runtimeError(error: unknown): RuntimeError {
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n').filter((line) => line !== '') };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}
