// The CDK app: `npx cdk synth` / `npm run deploy`. Settings come from CDK context (docs/deploy.md).
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ContextError, readSettings } from './context';
import { SignerStack } from './app-stack';

const app = new App();
let settings;
try {
  settings = readSettings((key) => app.node.tryGetContext(key));
} catch (error) {
  // A bad context value is the user's to fix: say which, without a stack trace.
  console.error(error instanceof ContextError ? error.message : error);
  process.exit(1);
}
new SignerStack(app, (app.node.tryGetContext('stackName') as string | undefined) ?? 'KmsEthSigner', {
  settings,
  description: 'kms-eth-signer: Ethereum transaction signing Lambdas with a secp256k1 key in AWS KMS',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
