import { Transaction } from 'ethers';
import { createHandler } from '../../lambdas/handler';
import { handler } from '../../lambdas/legacy';
import { KNOWN_KEYS } from '../fixtures/known-keys';
import { mockKms } from '../helpers/kms-mock';

const KEY = KNOWN_KEYS[0];
const transfer = { to: KNOWN_KEYS[1].address, value: '1', nonce: 0, gasLimit: 21000, gasPrice: '1000000000' };

const sign = async (event: Record<string, unknown>) => {
  const response = await handler({ operation: 'sign', ...event });
  if (!('signedTransaction' in response)) throw new Error('expected a sign response');
  return { response, parsed: Transaction.from(response.signedTransaction) };
};

/** Signs with a new legacy handler whose deployment allows pre-EIP-155 signatures (settings are read on first use). */
async function signWithPreEip155Allowed(event: Record<string, unknown>) {
  process.env.ALLOW_PRE_EIP155 = 'true';
  try {
    const response = await createHandler('legacy')({ operation: 'sign', ...event });
    if (!('signedTransaction' in response)) throw new Error('expected a sign response');
    return { response, parsed: Transaction.from(response.signedTransaction) };
  } finally {
    delete process.env.ALLOW_PRE_EIP155;
  }
}

describe('the legacy signer Lambda', () => {
  beforeAll(() => Object.assign(process.env, { KMS_KEY_ID: 'alias/eth-signer', ETH_NETWORK: 'mainnet', LOG_LEVEL: 'SILENT' }));
  beforeEach(() => mockKms(KEY.privateKey, 'high-s'));

  it('signs EIP-155 type 0 transactions with v = chainId * 2 + 35 + yParity', async () => {
    const { response, parsed } = await sign({ transaction: transfer });
    expect(parsed.type).toBe(0);
    expect(parsed.chainId).toBe(1n);
    expect(response.signature.v).toBe(37 + response.signature.yParity);
    expect(parsed.signature!.networkV).toBe(BigInt(response.signature.v));
    expect(parsed.from).toBe(KEY.address);
  });

  it('signs a type 1 (EIP-2930) transaction when an access list is given', async () => {
    const { response, parsed } = await sign({ transaction: { ...transfer, accessList: [] } });
    expect(parsed.type).toBe(1);
    expect(response.signature.v).toBe(response.signature.yParity);
    expect(parsed.from).toBe(KEY.address);
  });

  it('refuses a pre-EIP-155 transaction unless the deployment opted in (ALLOW_PRE_EIP155)', async () => {
    const kms = mockKms(KEY.privateKey);
    await expect(sign({ transaction: transfer, replayProtection: false })).rejects.toMatchObject({
      name: 'InvalidRequestError',
      issues: [{ field: 'replayProtection', problem: expect.stringContaining('allowPreEip155=true') }],
    });
    expect(kms.calls()).toHaveLength(0);
  });

  it('signs a pre-EIP-155 transaction (v = 27 + yParity) only on request, when the deployment opted in', async () => {
    const { response, parsed } = await signWithPreEip155Allowed({ transaction: transfer, replayProtection: false });
    expect(parsed.chainId).toBe(0n);
    expect(response.signature.v).toBe(27 + response.signature.yParity);
    expect(parsed.from).toBe(KEY.address);
  });
});
