import { verifyMessage, verifyTypedData, type TypedDataField } from 'ethers';
import type { MessageSignResponse } from '../../lambdas/operations/message-signing';
import type { SignerHandler } from '../../lambdas/handler';
import { lambdaContext } from './lambda-context';

/** A message or typed data the demo had signed, and who the signature recovers to. */
export interface SignedMessage {
  readonly operation: 'signMessage' | 'signTypedData';
  readonly what: string;
  readonly signature: string;
  /** The address ethers recovers from the signature (verifyMessage / verifyTypedData). */
  readonly recovered: string;
}

// The text starts with the prefix examples/policies/local-demo.json allows.
export const DEMO_MESSAGE = 'kms-eth-signer demo: hello from KMS';
const MAIL_TYPES: Record<string, TypedDataField[]> = {
  Person: [{ name: 'name', type: 'string' }, { name: 'wallet', type: 'address' }],
  Mail: [{ name: 'from', type: 'Person' }, { name: 'to', type: 'Person' }, { name: 'contents', type: 'string' }],
};

/**
 * Has the handler sign an EIP-191 message and EIP-712 typed data (EIP-712's Mail example, on the demo chain)
 * and checks with ethers that each signature recovers to the KMS address; throws if one does not.
 */
export async function signDemoMessages(handler: SignerHandler, address: string, chainId: bigint, recipient: string): Promise<SignedMessage[]> {
  const context = lambdaContext('eth-signer-eip1559');
  const message = (await handler({ operation: 'signMessage', message: DEMO_MESSAGE }, context)) as MessageSignResponse;
  const domain = { name: 'Ether Mail', version: '1', chainId: chainId.toString(), verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' };
  const mail = { from: { name: 'KMS', wallet: address }, to: { name: 'Bob', wallet: recipient }, contents: 'Hello, Bob!' };
  // types.EIP712Domain is required (without it MetaMask and ethers/viem would hash different domains).
  const types = { EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' }, { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }], ...MAIL_TYPES };
  const typed = (await handler({ operation: 'signTypedData', domain, types, primaryType: 'Mail', message: mail }, context)) as MessageSignResponse;
  const signed: SignedMessage[] = [
    { operation: 'signMessage', what: JSON.stringify(DEMO_MESSAGE), signature: message.signature, recovered: verifyMessage(DEMO_MESSAGE, message.signature) },
    { operation: 'signTypedData', what: 'EIP-712 Mail', signature: typed.signature, recovered: verifyTypedData(domain, MAIL_TYPES, mail, typed.signature) },
  ];
  for (const { operation, recovered } of signed) {
    if (recovered !== address) throw new Error(`the ${operation} signature recovers to ${recovered}, not the KMS address ${address}`);
  }
  return signed;
}
