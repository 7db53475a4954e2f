// What the code under test writes (Powertools: INFO lines and EMF metrics to stdout, WARN and ERROR to stderr),
// captured per test.

/** The lines written to `streams` during each test of the current describe block; cleared before each test. */
export function captureOutputPerTest(streams: NodeJS.WriteStream[] = [process.stdout]): { readonly lines: string[] } {
  const captured = { lines: [] as string[] };
  let spies: jest.SpyInstance[] = [];
  beforeEach(() => {
    captured.lines = [];
    spies = streams.map((stream) =>
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        captured.lines.push(String(chunk));
        return true;
      }),
    );
  });
  afterEach(() => spies.forEach((spy) => spy.mockRestore()));
  return captured;
}
