import { idempotencyKeyProblem } from '../../../lambdas/policy-state/idempotency-key';

describe('idempotencyKeyProblem', () => {
  it.each([
    ['no key', undefined],
    ['a UUID', '0b5e8f1c-3f2a-4d7e-9c41-2a6b8d0e7f13'],
    ['one character', 'x'],
    ['128 characters', 'k'.repeat(128)],
    ['every printable ASCII character but space', Array.from({ length: 94 }, (_, i) => String.fromCharCode(0x21 + i)).join('')],
  ])('accepts %s', (_label, key) => {
    expect(idempotencyKeyProblem(key)).toBeUndefined();
  });

  it.each([
    ['the empty string', ''],
    ['129 characters', 'k'.repeat(129)],
    ['a space', 'payout 42'],
    ['a tab', 'payout\t42'],
    ['a newline at the end', 'payout-42\n'],
    ['a character after ASCII', 'payout-42é'],
    ['DEL', 'payout\x7f'],
    ['a number', 42],
    ['null', null],
  ])('refuses %s, saying what a key may be', (_label, key) => {
    expect(idempotencyKeyProblem(key)).toBe('must be a string of 1 to 128 printable ASCII characters without spaces (for example a UUID)');
  });
});
