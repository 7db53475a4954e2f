import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { SIGNER_NODE_OPTIONS } from '../lambdas/runtime/config';
import { STAGED_POLICY_SHA256_FILE } from '../lambdas/runtime/policy-file';
import { signerBundleDirectory } from './bundle-location';
import type { S3Location } from './context';
import { join } from 'node:path';

/** One signer Lambda's settings; everything else is a shared default held here. */
export interface SignerFunctionProps {
  /** `eip1559` or `legacy`: the bundle in dist/<name> and the function's name suffix. */
  readonly kind: 'eip1559' | 'legacy';
  readonly keyArn: string;
  readonly ethNetwork: string;
  readonly logLevel: string;
  readonly expectedAddress?: string;
  readonly logRetentionDays: number;
  readonly reservedConcurrency?: number;
  /** The function's name (stable, so callers and policies can name it). */
  readonly functionName: string;
  /** The `service` dimension of the function's metrics (POWERTOOLS_SERVICE_NAME). */
  readonly metricsService: string;
  /** Lets the legacy signer sign pre-EIP-155 transactions (ALLOW_PRE_EIP155). */
  readonly allowPreEip155: boolean;
  /** With a value, the function runs only code signed by one of this config's profiles. */
  readonly codeSigningConfig?: lambda.ICodeSigningConfig;
  /** The bundle as a signed zip in S3 (code signing); replaces codeDirectory. */
  readonly signedCode?: S3Location;
  /** Where the bundle is; default the prebuilt dist/<kind> (written by npm run build, shipped in the package). */
  readonly codeDirectory?: string;
  /** The signing policy (already validated), shipped in the package as policy.json. */
  readonly policyFile: string;
}

/**
 * Beside a bundle built with SIGNING_POLICY_FILE (scripts/build.ts): the SHA-256 of the policy it will accept; and
 * in every deployment package this construct stages: the SHA-256 of policy.json, which the function checks at start.
 */
export const POLICY_SHA256_FILE = STAGED_POLICY_SHA256_FILE;

/** Where the policy sits in the deployment package (SIGNING_POLICY_FILE, relative to LAMBDA_TASK_ROOT). */
export const POLICY_IN_PACKAGE = 'policy.json';

/**
 * A signer Lambda with every shared default in one place: Node.js 22 on ARM64 (cheaper per GB-second than
 * x86 for this CPU-light work), the prebuilt esbuild ESM bundle with source maps, 256 MB (the cost model in
 * docs/performance.md: 11 % dearer per signature than 128 MB, 7 ms faster warm, ~270 ms faster on an
 * instance's first signature, and headroom over the 85 MB peak RSS; 512 MB saves 4 ms for 18 % more), a 10 s
 * timeout (a warm signature is one KMS call of tens of milliseconds; 10 s leaves room for the SDK's
 * retries and fails fast otherwise), and its own log group with a fixed retention.
 */
export class SignerFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SignerFunctionProps) {
    super(scope, id);
    // A signed zip must already hold policy.json: AWS Signer signed the package as a whole.
    const code = props.signedCode
      ? signedCode(this, props.signedCode)
      : bundle(props.codeDirectory ?? signerBundleDirectory(props.kind), props.policyFile);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // Named, so that the guard SCP (another account, another stack) can name it.
      logGroupName: signerLogGroupName(props.functionName),
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN, // the signing record outlives the stack
    });
    this.role = new iam.Role(this, 'Role', {
      // Named like the function, so that the guard SCP can name it; its policy signs only from this function.
      roleName: props.functionName,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `kms-eth-signer ${props.kind} signer: may sign with one KMS key and write its own logs`,
    });
    // Instead of AWSLambdaBasicExecutionRole (logs on every log group): this function's log group only.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
    );
    this.function = new lambda.Function(this, 'Function', {
      functionName: props.functionName,
      description: `Signs ${props.kind === 'eip1559' ? 'EIP-1559 (type 2)' : 'legacy (type 0, EIP-155) and EIP-2930 (type 1)'} Ethereum transactions with a KMS key`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code,
      memorySize: 256,
      timeout: Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      ...(props.reservedConcurrency !== undefined && { reservedConcurrentExecutions: props.reservedConcurrency }),
      ...(props.codeSigningConfig && { codeSigningConfig: props.codeSigningConfig }),
      environment: {
        KMS_KEY_ID: props.keyArn,
        ETH_NETWORK: props.ethNetwork,
        LOG_LEVEL: props.logLevel,
        SIGNING_POLICY_FILE: POLICY_IN_PACKAGE,
        ...(props.expectedAddress && { EXPECTED_ADDRESS: props.expectedAddress }),
        ...(props.kind === 'legacy' && props.allowPreEip155 && { ALLOW_PRE_EIP155: 'true' }),
        POWERTOOLS_SERVICE_NAME: props.metricsService,
        NODE_OPTIONS: SIGNER_NODE_OPTIONS, // the function refuses to start with any other (lambdas/config.ts)
      },
    });
  }
}

/** The log group of a signer function. */
export function signerLogGroupName(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}

/** The ARN of a function in the stack's account and Region, built from its name (no token: role policies can name it). */
export function functionArnOf(scope: Construct, functionName: string): string {
  const stack = Stack.of(scope);
  return `arn:${stack.partition}:lambda:${stack.region}:${stack.account}:function:${functionName}`;
}

/**
 * The deployment package: the prebuilt bundle, the policy as policy.json and its SHA-256 as policy.sha256, which
 * the function compares with policy.json at start (lambdas/runtime/policy-file.ts). The package's prebuilt bundles
 * are built for no policy, so the hash is staged here, at synth, rather than baked in by the build.
 */
function bundle(codeDirectory: string, policyFile: string): lambda.Code {
  if (!existsSync(join(codeDirectory, 'index.mjs'))) {
    throw new Error(`${join(codeDirectory, 'index.mjs')} is missing: run npm run build before cdk synth or deploy (npm run deploy does).`);
  }
  const policySha256 = createHash('sha256').update(readFileSync(policyFile)).digest('hex');
  // A bundle built for a policy (SIGNING_POLICY_FILE=… npm run build) refuses any other at start: catch the mismatch here, at synth.
  const sidecar = join(codeDirectory, POLICY_SHA256_FILE);
  if (existsSync(sidecar)) {
    const built = readFileSync(sidecar, 'utf8').trim();
    if (built !== policySha256) {
      throw new Error(`${codeDirectory} was built for another signing policy (SHA-256 ${built}), not ${policyFile} (${policySha256}): run SIGNING_POLICY_FILE=${policyFile} npm run build, then synth again.`);
    }
  }
  // The policy travels in the package, so changing what the key may sign takes a review and a deploy.
  return lambda.Code.fromAsset(codeDirectory, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('unused-local-bundling-only'),
      local: {
        tryBundle: (outputDir) => {
          cpSync(codeDirectory, outputDir, { recursive: true });
          copyFileSync(policyFile, join(outputDir, POLICY_IN_PACKAGE));
          writeFileSync(join(outputDir, POLICY_SHA256_FILE), `${policySha256}\n`);
          return true;
        },
      },
    },
  });
}

function signedCode(scope: Construct, location: S3Location): lambda.Code {
  return lambda.Code.fromBucket(s3.Bucket.fromBucketName(scope, 'SignedCodeBucket', location.bucket), location.key, location.version);
}
