// What the code under test writes to stdout (Powertools' INFO lines and EMF metrics), captured per test.

/** The lines written to stdout during each test of the current describe block; cleared before each test. */
export function captureStdoutPerTest(): { readonly lines: string[] } {
  const captured = { lines: [] as string[] };
  let spy: jest.SpyInstance | undefined;
  beforeEach(() => {
    captured.lines = [];
    spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      captured.lines.push(String(chunk));
      return true;
    });
  });
  afterEach(() => spy?.mockRestore());
  return captured;
}
