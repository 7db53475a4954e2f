import { Wallet } from 'ethers';
describe('toolchain', () => {
  it('loads ethers under jest', () => {
    expect(new Wallet('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80').address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
  });
});
