import { AmbiguousMessageError, isAmbiguousMessage } from '../../../lambdas/signer/personal-message';

describe('isAmbiguousMessage', () => {
  it.each(['0x', '0xabc', '0XdeadBEEF', `0x${'00'.repeat(32)}`])('is true for %s, which tools read as text or as bytes', (message) => {
    expect(isAmbiguousMessage(message)).toBe(true);
  });

  it.each([
    ['text before the 0x', 'hello 0xabc'],
    ['text after the hex digits', '0xabc hello'],
    ['a non-hex digit', '0xabg'],
    ['no 0x prefix', 'abc'],
    ['an empty message', ''],
  ])('is false for a message with %s, which every tool reads as text', (_case, message) => {
    expect(isAmbiguousMessage(message)).toBe(false);
  });
});

describe('AmbiguousMessageError', () => {
  it('names the message by its length only and says how to state its meaning', () => {
    const error = new AmbiguousMessageError(6);
    expect(error.name).toBe('AmbiguousMessageError');
    expect(error.message).toMatch(/^The message \(6 characters\) looks like 0x-hex/);
    expect(error.message).toContain('getBytes(message)');
    expect(error.message).toContain('toUtf8Bytes(message)');
  });
});
