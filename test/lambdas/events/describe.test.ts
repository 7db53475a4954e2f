import fc from 'fast-check';
import { capText, describeName, describeValue, jsonLongerThan, MAX_DESCRIBED_LENGTH, MAX_NAME_LENGTH } from '../../../lambdas/events/describe';

/** An object whose field reads are counted: how much of an untrusted value a description looks at. */
function countingObject(fields: number): { value: Record<string, unknown>; reads: () => number } {
  let reads = 0;
  const value: Record<string, unknown> = {};
  for (let i = 0; i < fields; i++) {
    Object.defineProperty(value, `field${i}`, { enumerable: true, get: () => (reads++, 'x'.repeat(10)) });
  }
  return { value, reads: () => reads };
}

/** An array whose element reads are counted. */
function countingArray(length: number): { value: unknown[]; reads: () => number } {
  let reads = 0;
  const value = new Proxy(Array.from({ length }, () => 1), {
    get: (target, property, receiver) => {
      if (typeof property === 'string' && /^\d+$/.test(property)) reads++;
      return Reflect.get(target, property, receiver);
    },
  });
  return { value, reads: () => reads };
}

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

describe('describeValue limits and forms', () => {
  it('shows a value of exactly MAX_DESCRIBED_LENGTH characters whole, and cuts one character more', () => {
    const whole = describeValue('a'.repeat(MAX_DESCRIBED_LENGTH - 2));
    expect(whole).toBe(`"${'a'.repeat(MAX_DESCRIBED_LENGTH - 2)}"`);
    expect(whole).toHaveLength(MAX_DESCRIBED_LENGTH);
    expect(describeValue('a'.repeat(MAX_DESCRIBED_LENGTH - 1))).toBe(`"${'a'.repeat(MAX_DESCRIBED_LENGTH - 4)}... (79 characters)`);
  });

  it('says how many items or fields a cut array or object had, in the singular for one', () => {
    expect(describeValue(Array.from({ length: 100 }, (_, i) => i))).toBe(
      '[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28... (an array of 100 items)',
    );
    expect(describeValue(['x'.repeat(100)])).toBe(`["${'x'.repeat(MAX_DESCRIBED_LENGTH - 5)}... (an array of 1 item)`);
    expect(describeValue({ k: 'x'.repeat(100) })).toBe(`{"k":"${'x'.repeat(MAX_DESCRIBED_LENGTH - 9)}... (an object with 1 field)`);
    expect(describeValue(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])))).toBe(
      '{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":... (an object with 50 fields)',
    );
  });

  it('cuts a long number with its length in characters', () => {
    expect(describeValue(10n ** 100n)).toBe(`1${'0'.repeat(MAX_DESCRIBED_LENGTH - 4)}... (101 characters)`);
  });

  it('separates items and fields with commas, and shows empty arrays and objects at any depth', () => {
    expect(describeValue(['a', 'b'])).toBe('["a","b"]');
    expect(describeValue({ a: 1, b: true })).toBe('{"a":1,"b":true}');
    expect(describeValue([])).toBe('[]');
    expect(describeValue({})).toBe('{}');
    expect(describeValue([[[]]])).toBe('[[[]]]');
    expect(describeValue([[{}]])).toBe('[[{}]]');
    expect(describeValue({ a: { b: [] } })).toBe('{"a":{"b":[]}}');
    expect(describeValue({ a: { b: {} } })).toBe('{"a":{"b":{}}}');
    expect(describeValue([[{ c: 1 }]])).toBe('[[{...}]]');
  });

  it('escapes quotes, backslashes, control and non-ASCII characters in values and field names, and keeps printable ASCII', () => {
    expect(describeValue('say "hi" \\ \x7f ~ \x1f \u00e9 \u{1f600}')).toBe('"say \\"hi\\" \\\\ \\u007f ~ \\u001f \\u00e9 \\ud83d\\ude00"');
    expect(describeValue({ 'q"\n': 1 })).toBe('{"q\\"\\u000a":1}');
    expect(describeValue(' !AZaz09~')).toBe('" !AZaz09~"');
  });

  it('reads no more of a large array or object than it shows', () => {
    const object = countingObject(10_000);
    expect(describeValue(object.value)).toMatch(/\.\.\. \(an object with 10000 fields\)$/);
    // Each field is about 20 characters: 5 or 6 of them fill the description.
    expect(object.reads()).toBeLessThanOrEqual(6);
    const array = countingArray(100_000);
    expect(describeValue([array.value])).toBe(`[[${'1,'.repeat(37)}1... (an array of 1 item)`);
    expect(array.reads()).toBeLessThanOrEqual(MAX_DESCRIBED_LENGTH + 1);
  });

  it('reads no more of a large array than the room left after the items before it', () => {
    const array = countingArray(100_000);
    expect(describeValue(['x'.repeat(60), array.value])).toBe(`["${'x'.repeat(60)}",[1,1,1,1,1,1,... (an array of 2 items)`);
    // The first item takes 62 of the description's characters, so at most 20 elements can still be shown.
    expect(array.reads()).toBeLessThanOrEqual(MAX_DESCRIBED_LENGTH - 60);
  });
});

describe('capText', () => {
  it('keeps a text of at most max characters and cuts a longer one to max, ending in ...', () => {
    expect(capText('abcdef', 6)).toBe('abcdef');
    expect(capText('abcdefg', 6)).toBe('abc...');
  });
});

describe('describeName', () => {
  it('keeps a name of exactly MAX_NAME_LENGTH characters and cuts one character more', () => {
    expect(describeName('x'.repeat(MAX_NAME_LENGTH))).toBe('x'.repeat(MAX_NAME_LENGTH));
    expect(describeName('x'.repeat(MAX_NAME_LENGTH + 1))).toBe(`${'x'.repeat(MAX_NAME_LENGTH - 3)}...(65 characters)`);
  });

  it('cuts a short name whose escaped form is longer than MAX_NAME_LENGTH', () => {
    expect(describeName('\n'.repeat(10))).toBe('\\u000a'.repeat(10));
    expect(describeName('\n'.repeat(30))).toBe(`${'\\u000a'.repeat(10)}\\...(30 characters)`);
  });

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
  it('counts every part of the JSON text: quotes, commas, colons, brackets, an empty array or object', () => {
    const value = { ab: ['x', 12, null, true, [], {}] };
    const length = JSON.stringify(value).length;
    expect(jsonLongerThan(value, length)).toBe(false);
    expect(jsonLongerThan(value, length - 1)).toBe(true);
    for (const empty of [[], {}, '']) {
      expect(jsonLongerThan(empty, 2)).toBe(false);
      expect(jsonLongerThan(empty, 1)).toBe(true);
    }
  });

  it('reads no element or field past the limit', () => {
    const array = countingArray(100_000);
    expect(jsonLongerThan(array.value, 100)).toBe(true);
    expect(array.reads()).toBe(0);
    const object = countingObject(20_000);
    expect(jsonLongerThan(object.value, 100)).toBe(true);
    expect(object.reads()).toBeLessThanOrEqual(10);
  });

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
