import { findDuplicateKeys } from '../../../lambdas/policy/duplicate-keys';

describe('findDuplicateKeys', () => {
  it('finds nothing in JSON without duplicate keys', () => {
    expect(findDuplicateKeys('{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}')).toEqual([]);
  });

  it('names each duplicated key by its JSON path, in document order', () => {
    expect(findDuplicateKeys('{"a":1,"b":[{},{"x":1,"x":2}],"a":3}')).toEqual(['$.b[1].x', '$.a']);
  });

  it('compares keys after unescaping, as JSON.parse does', () => {
    expect(findDuplicateKeys('{"a\\"b":1,"a\\u0022b":2}')).toEqual(['$["a\\"b"]']);
  });

  it('is not misled by braces, brackets, commas, colons and escaped quotes inside strings', () => {
    expect(findDuplicateKeys('{"k":"{\\"k\\":1,[\\"k\\"]:}","j":"\\\\","k2":1}')).toEqual([]);
    expect(findDuplicateKeys('{"k":"\\\\","k":1}')).toEqual(['$.k']);
  });

  it('reads a string as a key only when a colon follows it, across whitespace', () => {
    expect(findDuplicateKeys('{"a":"a","b":["b","b"],"c":{"d":"c"}}')).toEqual([]);
    expect(findDuplicateKeys('{"a" :1,"a"\n\t: 2}')).toEqual(['$.a']);
  });

  it('ends a string at a quote after an odd run of backslashes only', () => {
    expect(findDuplicateKeys(String.raw`{"a\\\"b":1,"a\\\"b":2}`)).toEqual([String.raw`$["a\\\"b"]`]);
    expect(findDuplicateKeys(String.raw`{"a\\":1,"b":{"a\\":2}}`)).toEqual([]);
  });

  it('stops at a string that never ends, with what it found before (it is given JSON.parse-checked text)', () => {
    expect(findDuplicateKeys('{"a":1,"a":2,"b')).toEqual(['$.a']);
  });

  it('writes keys that are not identifiers with brackets, and ~ and / literally', () => {
    expect(findDuplicateKeys('{"args":{"a/b~c":1,"a/b~c":2}}')).toEqual(['$.args["a/b~c"]']);
  });

  it('walks any nesting depth without recursion', () => {
    const depth = 100_000;
    expect(findDuplicateKeys(`${'['.repeat(depth)}{"a":1,"a":2}${']'.repeat(depth)}`)).toHaveLength(1);
  });

  it('reports at most 20 duplicates', () => {
    expect(findDuplicateKeys(`{${Array.from({ length: 50 }, () => '"a":1').join(',')}}`)).toHaveLength(20);
  });
});
