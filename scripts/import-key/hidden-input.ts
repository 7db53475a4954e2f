import { SignerError } from '../../lambdas/signer/errors';

/** A terminal stdin: what `process.stdin` is when a person types into it. */
export interface TerminalInput {
  readonly isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

/** True if the input is a terminal we can switch to raw mode (no echo). */
export function isTerminal(input: unknown): input is TerminalInput & { setRawMode(mode: boolean): unknown } {
  const candidate = input as Partial<TerminalInput> | undefined;
  return candidate?.isTTY === true && typeof candidate.setRawMode === 'function';
}

const CTRL_C = 0x03;
const CTRL_D = 0x04;
const BACKSPACE = [0x08, 0x7f];
const BEGIN = Buffer.from('-----BEGIN');
const END = Buffer.from('-----END ');

/**
 * Prompts on `prompt` and reads one secret from a terminal with echo off (raw mode): a line, or a whole
 * PEM block when the input starts with "-----BEGIN". Enter ends a line, Ctrl-D ends the input, Ctrl-C
 * cancels. The caller zeroes the returned buffer.
 */
export function readHiddenInput(input: TerminalInput & { setRawMode(mode: boolean): unknown }, prompt: { write(text: string): unknown }, message: string, maxBytes: number): Promise<Buffer> {
  const buffer = Buffer.alloc(maxBytes);
  let length = 0;
  // Echo off before the prompt appears: a paste that follows the prompt at once must not reach the screen.
  input.setRawMode(true);
  input.resume();
  prompt.write(message);
  return new Promise<Buffer>((resolve, reject) => {
    const done = (error?: Error) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      prompt.write('\n');
      if (error) {
        buffer.fill(0);
        reject(error);
        return;
      }
      const result = Buffer.from(buffer.subarray(0, length));
      buffer.fill(0);
      resolve(result);
    };
    const pemComplete = () => {
      const text = buffer.subarray(0, length);
      const end = text.indexOf(END);
      return end >= 0 && text.subarray(end + END.length).includes(Buffer.from('-----'));
    };
    const onData = (chunk: Buffer) => {
      try {
        for (const byte of chunk) {
          if (byte === CTRL_C) return done(new InputCancelledError());
          if (byte === CTRL_D) return done();
          if (BACKSPACE.includes(byte)) {
            if (length > 0) buffer[--length] = 0;
            continue;
          }
          if (byte === 0x0d || byte === 0x0a) {
            const isPem = length >= BEGIN.length && buffer.subarray(0, BEGIN.length).equals(BEGIN);
            if (!isPem || pemComplete()) return done();
            if (length < maxBytes) buffer[length++] = 0x0a;
            continue;
          }
          if (length >= maxBytes) return done(new InputCancelledError(`more than ${maxBytes} bytes were typed; a key is at most a few hundred`));
          buffer[length++] = byte;
        }
      } finally {
        chunk.fill(0);
      }
    };
    input.on('data', onData);
  });
}

/** The person cancelled the hidden input (Ctrl-C), or typed far more than a key. */
export class InputCancelledError extends SignerError {
  override readonly name = 'InputCancelledError';
  constructor(problem = 'input cancelled (Ctrl-C)') {
    super(`Nothing was read: ${problem}. Nothing was sent anywhere.`);
  }
}
