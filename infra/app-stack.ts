import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { SignerSettings } from './context';
import { EthereumSigner } from './ethereum-signer';
import { propsFromSettings } from './signer-props';

/** The stack's settings (checked CDK context), plus where the Lambda bundles are (tests point at a stand-in bundle). */
export interface SignerStackProps extends StackProps {
  readonly settings: SignerSettings;
  readonly codeDirectories?: { eip1559: string; legacy: string };
}

/**
 * The repository's own stack (infra/app.ts): one EthereumSigner, with termination protection on by default.
 * The construct's id is `Default`, which CDK leaves out of logical ids, so every resource and output keeps the
 * logical id it had when its body was this stack's: a deployed stack is updated, never replaced.
 */
export class SignerStack extends Stack {
  readonly signer: EthereumSigner;

  constructor(scope: Construct, id: string, props: SignerStackProps) {
    super(scope, id, { terminationProtection: true, ...props });
    this.signer = new EthereumSigner(this, 'Default', propsFromSettings(props.settings, props.codeDirectories));
  }
}
