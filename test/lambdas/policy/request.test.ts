import { AbiCoder, id } from 'ethers';
import { decodableFunction, TransactionView, type PolicyRequest } from '../../../lambdas/policy/request';

const B = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const coder = AbiCoder.defaultAbiCoder();
const request = (fields: Partial<PolicyRequest> = {}): PolicyRequest => ({ chainId: 1n, type: 2, to: B, value: 0n, data: '0x', maxFeePerGas: 7n, gasPrice: 5n, preEip155: false, ...fields });
const callData = (signature: string, types: string[], values: unknown[]) => `${id(signature).slice(0, 10)}${coder.encode(types, values).slice(2)}`;
const word = (hex: string) => hex.padStart(64, '0');

describe('decodableFunction', () => {
  it('reads a signature with or without the function keyword and parameter names', () => {
    for (const text of ['transfer(address to, uint256 amount)', 'function transfer(address,uint256)']) {
      const fn = decodableFunction(text);
      expect(fn.selector).toBe('0xa9059cbb');
      expect(fn.signature).toBe('transfer(address,uint256)');
      expect(fn.inputs.map((input) => input.type)).toEqual(['address', 'uint256']);
    }
  });
});

describe('TransactionView', () => {
  it('lower-cases the recipient and the selector, and counts data bytes', () => {
    const view = new TransactionView(request({ data: '0xA9059CBB00' }));
    expect(view.to).toBe(B.toLowerCase());
    expect(view.selector).toBe('0xa9059cbb');
    expect(view.dataBytes).toBe(5);
    expect(view.creation).toBe(false);
  });

  it('has a selector from exactly 4 bytes of data, and none below', () => {
    expect(new TransactionView(request({ data: '0xa9059cbb' })).selector).toBe('0xa9059cbb');
    expect(new TransactionView(request({ data: '0xa9059c' })).selector).toBeUndefined();
    expect(new TransactionView(request({ data: '0x' })).dataBytes).toBe(0);
  });

  it('marks a deployment (no recipient)', () => {
    const view = new TransactionView(request({ to: undefined, data: '0x6000' }));
    expect(view.creation).toBe(true);
    expect(view.to).toBeUndefined();
  });

  it('takes the fee cap from maxFeePerGas for type 2 and from gasPrice otherwise', () => {
    expect(new TransactionView(request({ type: 2 })).feeCap).toBe(7n);
    expect(new TransactionView(request({ type: 1 })).feeCap).toBe(5n);
    expect(new TransactionView(request({ type: 0 })).feeCap).toBe(5n);
  });

  describe('decode', () => {
    const transfer = decodableFunction('transfer(address,uint256)');

    it('decodes a call to the function, and returns null for a call to another one', () => {
      const view = new TransactionView(request({ data: callData('transfer(address,uint256)', ['address', 'uint256'], [B, 42n]) }));
      expect(view.decode(transfer)).toEqual([B.toLowerCase(), 42n]);
      expect(view.decode(decodableFunction('approve(address,uint256)'))).toBeNull();
    });

    it('decodes once per function, and remembers a refusal too', () => {
      const view = new TransactionView(request({ data: callData('transfer(address,uint256)', ['address', 'uint256'], [B, 42n]) }));
      const first = view.decode(transfer);
      expect(view.decode(transfer)).toBe(first);
      const bad = new TransactionView(request({ data: `${callData('transfer(address,uint256)', ['address', 'uint256'], [B, 42n])}00` }));
      expect(bad.decode(transfer)).toBeNull();
      expect(bad.decode(transfer)).toBeNull();
    });

    it('reads one-word types of every size: int/uint without a size is 256 bits, bytes1 to bytes32', () => {
      const fn = decodableFunction('f(uint a, int b, bytes1 c, bytes32 d, uint8 e, int256 f)');
      const values = [2n ** 256n - 1n, -(2n ** 255n), '0xab', `0x${'cd'.repeat(32)}`, 255n, -1n];
      const view = new TransactionView(request({ data: callData('f(uint256,int256,bytes1,bytes32,uint8,int256)', ['uint256', 'int256', 'bytes1', 'bytes32', 'uint8', 'int256'], values) }));
      expect(view.decode(fn)).toEqual(values);
    });

    it('refuses a uint8 above 255 and an int8 that is not sign-extended, both of which ethers would reject too', () => {
      const fn = decodableFunction('f(uint8 a)');
      const selector = id('f(uint8)').slice(0, 10);
      expect(new TransactionView(request({ data: `${selector}${word('100')}` })).decode(fn)).toBeNull();
      expect(new TransactionView(request({ data: `${selector}${word('ff')}` })).decode(fn)).toEqual([255n]);
      const signed = decodableFunction('g(int8 a)');
      const gSelector = id('g(int8)').slice(0, 10);
      expect(new TransactionView(request({ data: `${gSelector}${'f'.repeat(64)}` })).decode(signed)).toEqual([-1n]);
      expect(new TransactionView(request({ data: `${gSelector}${word('7f')}` })).decode(signed)).toEqual([127n]);
      expect(new TransactionView(request({ data: `${gSelector}${word('80')}` })).decode(signed)).toBeNull();
    });

    it('reads upper-case hex calldata as the same words', () => {
      const data = callData('transfer(address,uint256)', ['address', 'uint256'], [B, 2n ** 200n]).toUpperCase().replace(/^0X/, '0x');
      expect(new TransactionView(request({ data })).decode(transfer)).toEqual([B.toLowerCase(), 2n ** 200n]);
    });

    it('decodes dynamic arguments with ethers, canonical encodings only', () => {
      const fn = decodableFunction('h(string s, uint256[] xs)');
      const data = callData('h(string,uint256[])', ['string', 'uint256[]'], ['hi', [1n, 2n]]);
      expect(new TransactionView(request({ data })).decode(fn)).toEqual(['hi', [1n, 2n]]);
      expect(new TransactionView(request({ data: `${data}00` })).decode(fn)).toBeNull();
      expect(new TransactionView(request({ data: data.slice(0, 80) })).decode(fn)).toBeNull();
    });

    it('decodes a function with one-word and dynamic arguments mixed with ethers (checksummed addresses)', () => {
      const fn = decodableFunction('m(address to, string memo)');
      const data = callData('m(address,string)', ['address', 'string'], [B, 'memo']);
      expect(new TransactionView(request({ data })).decode(fn)).toEqual([B, 'memo']);
    });

    it('decodes bytes (dynamic, not one word) with ethers', () => {
      const fn = decodableFunction('k(bytes b)');
      const data = callData('k(bytes)', ['bytes'], ['0x0102']);
      expect(new TransactionView(request({ data })).decode(fn)).toEqual(['0x0102']);
    });
  });
});
