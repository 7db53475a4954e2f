import { ContextError } from './context';

/** The guard stack's context: where the signer runs, what to attach to, and the ARNs the signer stack output. */
export interface GuardSettings {
  readonly targetIds: string[];
  readonly signer: { readonly account: string; readonly region: string };
  readonly partition: string;
  readonly policyTableArn: string;
  readonly keyArn?: string;
}

const TARGET_ID = /^(\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/;

/**
 * Reads the guard stack's context (only when guardTargetIds is given: otherwise undefined, no guard stack):
 * guardTargetIds, signerAccount, signerRegion, policyTableArn (the PolicyTableArn output) and, for the
 * resource control policy on the key, signingKeyArn (the KeyArn output).
 */
export function readGuardSettings(context: (key: string) => unknown): GuardSettings | undefined {
  const text = (key: string) => {
    const value = context(key);
    return value === undefined || value === null || value === '' ? undefined : String(value).trim();
  };
  const targets = text('guardTargetIds');
  if (targets === undefined) return undefined;
  const problems: string[] = [];
  const targetIds = targets.split(',').map((id) => id.trim()).filter(Boolean);
  for (const id of targetIds) if (!TARGET_ID.test(id)) problems.push(`guardTargetIds: "${id.slice(0, 40)}" is not an account id, an OU id (ou-…) or a root id (r-…)`);
  const account = text('signerAccount');
  if (!account || !/^\d{12}$/.test(account)) problems.push('signerAccount must be the 12-digit account the signer stack runs in');
  const region = text('signerRegion');
  if (!region || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) problems.push('signerRegion must be the Region the signer stack runs in, e.g. eu-west-1');
  const policyTableArn = text('policyTableArn');
  if (!policyTableArn || !/^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[\w.-]{3,255}$/.test(policyTableArn)) problems.push('policyTableArn must be the signer stack\'s PolicyTableArn output');
  const keyArn = text('signingKeyArn');
  if (keyArn && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-zA-Z0-9-]+$/.test(keyArn)) problems.push('signingKeyArn must be the signer stack\'s KeyArn output (a key ARN)');
  if (problems.length > 0) throw new ContextError(problems);
  const partition = policyTableArn!.split(':')[1]!;
  return { targetIds, signer: { account: account!, region: region! }, partition, policyTableArn: policyTableArn!, ...(keyArn && { keyArn }) };
}
