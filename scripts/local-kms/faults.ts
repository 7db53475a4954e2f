/** Faults to inject into the next calls, for tests of how clients cope. All off by default. */
export interface FaultSettings {
  /** Answer the next N calls with ThrottlingException (HTTP 400), as KMS does past its request quota. */
  throttle?: number;
  /** Answer the next N calls with HTTP 500 (KMSInternalException). */
  internalError?: number;
  /** Delay every answer by this many milliseconds. */
  latencyMs?: number;
  /** Return a well-formed signature over the wrong digest from the next N Sign calls. */
  corruptSignature?: number;
  /** Accept the next N calls and never answer them (until the client gives up or the server closes). */
  hang?: number;
}

const KINDS = ['throttle', 'internalError', 'latencyMs', 'corruptSignature', 'hang'] as const;
const NONE: Required<FaultSettings> = { throttle: 0, internalError: 0, latencyMs: 0, corruptSignature: 0, hang: 0 };

/** The fault counters; each injected fault uses up one. */
export class Faults {
  private settings: Required<FaultSettings> = { ...NONE };

  /** Adds to (or sets) the fault settings; `reset` clears them first. */
  set(settings: FaultSettings & { reset?: boolean }): void {
    // Check every value before changing anything, so that a bad request leaves the settings as they were.
    for (const key of KINDS) {
      const value: unknown = settings[key];
      if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0)) throw new InvalidFaultSettingError(`${key} must be a non-negative integer, got ${JSON.stringify(value)}`);
    }
    if (settings.reset) this.reset();
    for (const key of KINDS) {
      const value = settings[key];
      if (value !== undefined) this.settings[key] = value;
    }
  }

  /** Turns every fault off. */
  reset(): void {
    this.settings = { ...NONE };
  }

  /** The current settings. */
  current(): Required<FaultSettings> {
    return { ...this.settings };
  }

  /** Uses up one fault of the kind if any is left. */
  take(kind: 'throttle' | 'internalError' | 'corruptSignature' | 'hang'): boolean {
    if (this.settings[kind] === 0) return false;
    this.settings[kind] -= 1;
    return true;
  }
}

/** A fault setting that is not a non-negative integer. */
export class InvalidFaultSettingError extends RangeError {
  override readonly name = 'InvalidFaultSettingError';
}
