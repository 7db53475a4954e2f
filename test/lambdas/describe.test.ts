import fc from 'fast-check';
import { describeName, describeValue, jsonLongerThan, MAX_DESCRIBED_LENGTH, MAX_NAME_LENGTH } from '../../lambdas/describe';

describe('describeValue', () => {
  it('shows short values as JSON', () => {
    expect(describeValue('0x12')).toBe('"0x12"');
    expect(describeValue(42)).toBe('42');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(undefined)).toBe('nothing');
    expect(describeValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
  });

  it('cuts a long string and says how long it was', () => {
    expect(describeValue('9'.repeat(1_000_000))).toBe(`"${'9'.repeat(MAX_DESCRIBED_LENGTH - 4)}... (1000000 characters)`);
  });

  it('summarises nesting beyond two levels', () => {
    expect(describeValue([[[[1]]]])).toBe('[[[...]]]');
    expect(describeValue({ a: { b: { c: 1 } } })).toBe('{"a":{"b":{...}}}');
  });

  it('describes any JSON value, however large or deep, in a bounded printable-ASCII text', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), fc.nat(3000), (value, depth) => {
        let nested: unknown = value;
        for (let i = 0; i < depth; i++) nested = [nested];
        const text = describeValue(nested);
        expect(text.length).toBeLessThanOrEqual(MAX_DESCRIBED_LENGTH + 40);
        expect(text).toMatch(/^[\x20-\x7e]*$/);
      }),
      { numRuns: 200 },
    );
  });
});

describe('describeName', () => {
  it('keeps a short name and cuts a long one, with its length', () => {
    expect(describeName('gas')).toBe('gas');
    const cut = describeName('n'.repeat(100_000));
    expect(cut).toMatch(/^n+\.\.\.\(100000 characters\)$/);
    expect(cut.length).toBeLessThanOrEqual(MAX_NAME_LENGTH + 20);
  });

  it('escapes control and non-ASCII characters', () => {
    expect(describeName('a\nb\u202e')).toBe('a\\u000ab\\u202e');
  });
});

describe('jsonLongerThan', () => {
  it('agrees with JSON.stringify on values without escapes', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }).filter((v) => !/[\\"\u0000-\u001f\u007f-\uffff]/.test(JSON.stringify(v))), fc.nat(400), (value, limit) => {
        expect(jsonLongerThan(value, limit)).toBe(JSON.stringify(value).length > limit);
      }),
      { numRuns: 300 },
    );
  });

  it('measures a value nested 1,000,000 deep without overflowing the stack', () => {
    let nested: unknown = [];
    for (let i = 0; i < 1_000_000; i++) nested = [nested];
    expect(jsonLongerThan(nested, 512 * 1024)).toBe(true);
    expect(jsonLongerThan(nested, 3_000_000)).toBe(false);
  });
});
