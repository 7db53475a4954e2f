import { Transaction } from 'ethers';
import { handler } from '../../lambdas/eip1559';
import { KNOWN_KEYS } from '../fixtures/known-keys';
import { mockKms } from '../helpers/kms-mock';

const KEY = KNOWN_KEYS[1];

describe('the EIP-1559 signer Lambda', () => {
  beforeAll(() => Object.assign(process.env, { KMS_KEY_ID: 'alias/eth-signer', ETH_NETWORK: 'holesky', LOG_LEVEL: 'SILENT' }));
  beforeEach(() => mockKms(KEY.privateKey));

  it('signs type 2 transactions, with an access list when given, for its chain', async () => {
    const accessList = [{ address: KNOWN_KEYS[0].address, storageKeys: ['0x' + '00'.repeat(31) + '01'] }];
    const response = await handler({
      operation: 'sign',
      transaction: { to: KNOWN_KEYS[0].address, value: '0x1', nonce: 1, gasLimit: '50000', maxFeePerGas: 10, maxPriorityFeePerGas: 1, accessList },
    });
    if (!('signedTransaction' in response)) throw new Error('expected a sign response');
    const parsed = Transaction.from(response.signedTransaction);
    expect(parsed.type).toBe(2);
    expect(parsed.chainId).toBe(17000n);
    expect(parsed.accessList).toEqual(accessList);
    expect(parsed.from).toBe(KEY.address);
    expect([0, 1]).toContain(response.signature.v);
  });

  it('signs a contract creation', async () => {
    const response = await handler({ operation: 'sign', transaction: { data: '0x600160005260206000f3', nonce: 0, gasLimit: 100000, maxFeePerGas: 10, maxPriorityFeePerGas: 1 } });
    if (!('signedTransaction' in response)) throw new Error('expected a sign response');
    expect(Transaction.from(response.signedTransaction).to).toBeNull();
  });
});
