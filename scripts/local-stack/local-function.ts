// A built Lambda bundle run as one local function: its own worker process (module state and environment apart
// from every other function), with Lambda's timeout and the error payloads the Node.js runtime sends.
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { RuntimeError, WorkerReply, WorkerRequest } from './lambda-worker-protocol';

/** How to run one function. */
export interface LocalFunctionOptions {
  /** The function name callers invoke, e.g. eth-signer-eip1559. */
  readonly name: string;
  /** The built bundle's entry, e.g. dist/eip1559/index.mjs. */
  readonly bundle: string;
  /** The function's environment variables (nothing else from this process's environment reaches it but PATH). */
  readonly environment: Readonly<Record<string, string>>;
  /** The function's timeout, from the handler's start, as in the Lambda configuration (default 10 s, as infra/signer-function.ts). */
  readonly timeoutMs?: number;
  /** Where the function's own logs go: this process's stdout and stderr, or nowhere. */
  readonly logs?: 'inherit' | 'ignore';
  /** The Node.js binary the function runs on (default: this process's), e.g. the Lambda runtime's major version. */
  readonly nodeBinary?: string;
}

/** What an invocation produced: the payload, or the error Lambda reports with X-Amz-Function-Error. */
export type InvocationResult = { readonly ok: true; readonly payload: string } | { readonly ok: false; readonly error: RuntimeError };

// The limit for the init phase, apart from the function's timeout: Lambda allows 10 s to load the bundle; here
// the worker's own start (node, tsx) counts too, on a machine that may be busy, so 30 s.
const INIT_TIMEOUT_MS = 30_000;

// The worker is TypeScript: run it with tsx's loader, found from the repository root as npm scripts are.
const WORKER = resolve('scripts/local-stack/lambda-worker.ts');

/** One function: a worker process started on the first invocation and restarted after a timeout or a crash. */
export class LocalFunction {
  readonly name: string;
  readonly timeoutMs: number;
  private worker: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { readonly worker: ChildProcess; readonly started: () => void; readonly settle: (result: InvocationResult) => void }>();

  constructor(private readonly options: LocalFunctionOptions) {
    this.name = options.name;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Runs the handler with `event` and a context whose request id is `requestId`; never rejects. */
  invoke(event: unknown, requestId: string): Promise<InvocationResult> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<InvocationResult>((settle) => {
      // Lambda stops a timed-out invocation (or init) by resetting its execution environment: so does this.
      const expire = (what: string, ms: number) => () => {
        this.finish(id, { ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: ${what} timed out after ${(ms / 1000).toFixed(2)} seconds`, trace: [] } });
        this.reset(worker);
      };
      // Until the handler starts, the worker is starting and loading the bundle: the init phase, with its own limit.
      let timer = setTimeout(expire('Init', INIT_TIMEOUT_MS), INIT_TIMEOUT_MS);
      this.pending.set(id, {
        worker,
        started: () => {
          clearTimeout(timer);
          timer = setTimeout(expire('Task', this.timeoutMs), this.timeoutMs);
        },
        settle: (result) => {
          clearTimeout(timer);
          settle(result);
        },
      });
      const request: WorkerRequest = { id, event, requestId, remainingMs: this.timeoutMs };
      worker.send(request);
    });
  }

  /** Stops the worker; invocations still running fail as a crashed function's do. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => (worker.exitCode !== null || worker.signalCode !== null ? resolve() : worker.once('exit', () => resolve())));
    this.reset(worker);
    await exited;
  }

  private ensureWorker(): ChildProcess {
    if (this.worker) return this.worker;
    const { bundle, environment, logs = 'inherit', nodeBinary } = this.options;
    const worker = fork(WORKER, [], {
      ...(nodeBinary !== undefined && { execPath: nodeBinary }),
      execArgv: ['--import', 'tsx'],
      env: {
        ...(process.env.PATH !== undefined && { PATH: process.env.PATH }),
        ...environment,
        AWS_LAMBDA_FUNCTION_NAME: this.name,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_TIMEOUT: String(Math.ceil(this.timeoutMs / 1000)),
        LOCAL_LAMBDA_BUNDLE: resolve(bundle),
      },
      stdio: logs === 'inherit' ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'ignore', 'ignore', 'ipc'],
      serialization: 'json',
    });
    worker.on('message', (reply: WorkerReply) => {
      if ('started' in reply) this.pending.get(reply.id)?.started();
      else this.finish(reply.id, reply.ok ? { ok: true, payload: reply.payload } : { ok: false, error: reply.error });
    });
    // A worker that cannot start (tsx missing) or whose IPC channel closed under a send fails its invocations, not this process.
    worker.on('error', (error) => {
      this.reset(worker);
      this.failPending(worker, `the function's process failed: ${error.message}`);
    });
    worker.once('exit', (code, signal) => {
      if (this.worker === worker) this.worker = undefined;
      this.failPending(worker, `the function's process exited (${signal ?? `code ${code}`}) before answering`);
    });
    this.worker = worker;
    return worker;
  }

  private finish(id: number, result: InvocationResult): void {
    const entry = this.pending.get(id);
    if (!entry) return; // answered already (a late reply after a timeout)
    this.pending.delete(id);
    entry.settle(result);
  }

  private reset(worker: ChildProcess): void {
    if (this.worker === worker) this.worker = undefined;
    worker.kill('SIGKILL');
  }

  private failPending(worker: ChildProcess, reason: string): void {
    for (const [id, entry] of [...this.pending]) {
      if (entry.worker !== worker) continue;
      this.finish(id, { ok: false, error: { errorType: 'Runtime.ExitError', errorMessage: `Error: Runtime exited: ${reason}`, trace: [] } });
    }
  }
}
