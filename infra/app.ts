// The CDK app: `npx cdk synth` / `npm run deploy`. Settings come from CDK context (docs/deploy.md).
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R4Checks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { ContextError, readSettings } from './context';
import { readGuardSettings } from './guard-context';
import { guardInputs } from './guard-inputs';
import { GuardStack } from './guard-stack';
import { SignerStack } from './app-stack';
import { bootstrapExecRoleName } from './signing-key';

const app = new App();
const context = (key: string) => app.node.tryGetContext(key);
let settings;
let guard;
try {
  settings = readSettings(context);
  guard = readGuardSettings(context);
} catch (error) {
  // A bad context value is the user's to fix: say which, without a stack trace.
  console.error(error instanceof ContextError ? error.message : error);
  process.exit(1);
}
const stackName = (context('stackName') as string | undefined) ?? 'KmsEthSigner';
new SignerStack(app, stackName, {
  settings,
  description: 'kms-eth-signer: Ethereum transaction signing Lambdas with a secp256k1 key in AWS KMS',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
if (guard) {
  // The guard goes to the organization's management account: cdk deploy KmsEthSignerGuard -c guardTargetIds=… (docs/deploy.md).
  const { account, region } = guard.signer;
  const deployRoleArn = settings.deployRoleArn ?? `arn:${guard.partition}:iam::${account}:role/${bootstrapExecRoleName(settings.bootstrapQualifier!, account, region)}`;
  const inputs = guardInputs(settings, { partition: guard.partition, account, region, policyTableArn: guard.policyTableArn, deployRoleArn });
  new GuardStack(app, `${stackName}Guard`, {
    signers: inputs.signers,
    records: inputs.records,
    ...(guard.keyArn && { key: { keyArn: guard.keyArn, signerRoleArns: inputs.signerRoleArns, changerPrincipalArns: inputs.changerPrincipalArns } }),
    targetIds: guard.targetIds,
    namePrefix: settings.functionNamePrefix,
    description: 'kms-eth-signer guard: SCPs and an RCP for the signer account, from the organization management account',
    env: { region: 'us-east-1' }, // Organizations is global; its CloudFormation resources are in us-east-1
  });
}
// cdk-nag's five packs; every finding we accept is acknowledged with its reason where the resource is made (infra/review-findings.ts).
Validations.of(app).addPlugins(...[AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R4Checks, NIST80053R5Checks, PCIDSS321Checks].map((Pack) => new Pack(app, { verbose: true })));
app.synth();
