// Turns a synthesised template's intrinsic functions into the concrete ARNs and names CloudFormation would
// produce in one account and Region, so that its policies can be evaluated by an IAM engine.
import type { Template } from 'aws-cdk-lib/assertions';

/** Where the stack is deployed. */
export interface Place {
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

/** A resolver of `Ref`, `Fn::GetAtt … Arn`, `Fn::Join` and the pseudo parameters for one template. */
export function templateResolver(template: Template, place: Place) {
  const resources = template.toJSON().Resources as Resources;
  const { account, region, stackName } = place;
  // CloudFormation names what the template does not: <stack>-<logical id>-<suffix>; here without the suffix.
  const nameOf = (id: string): string => {
    const { Type, Properties = {} } = resources[id] ?? { Type: '' };
    const given = Properties.RoleName ?? Properties.FunctionName ?? Properties.TableName ?? Properties.TopicName ?? Properties.BucketName ?? Properties.Name ?? Properties.AlarmName ?? Properties.TrailName ?? Properties.LogGroupName ?? Properties.ManagedPolicyName;
    if (typeof given === 'string') return given;
    return Type === 'AWS::S3::Bucket' ? `${stackName}-${id}`.toLowerCase() : `${stackName}-${id}`;
  };
  const arnOf = (id: string): string => {
    const type = resources[id]?.Type;
    const name = nameOf(id);
    switch (type) {
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${account}:role/${name}`;
      case 'AWS::IAM::ManagedPolicy':
        return `arn:aws:iam::${account}:policy/${name}`;
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${region}:${account}:function:${name}`;
      case 'AWS::KMS::Key':
        return `arn:aws:kms:${region}:${account}:key/${id.toLowerCase()}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${region}:${account}:table/${name}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${region}:${account}:log-group:${name}:*`;
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${region}:${account}:${name}`;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${region}:${account}:${name}`;
      case 'AWS::Events::Rule':
        return `arn:aws:events:${region}:${account}:rule/${name}`;
      case 'AWS::CloudTrail::Trail':
        return `arn:aws:cloudtrail:${region}:${account}:trail/${name}`;
      case 'AWS::CloudWatch::Alarm':
        return `arn:aws:cloudwatch:${region}:${account}:alarm:${name}`;
      default:
        throw new Error(`no ARN rule for ${id} (${type})`);
    }
  };
  const refOf = (id: string): string => {
    switch (id) {
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::Region':
        return region;
      case 'AWS::AccountId':
        return account;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stackName;
    }
    const type = resources[id]?.Type;
    // Ref returns the ARN for these types, the name for the others.
    if (type === 'AWS::SNS::Topic' || type === 'AWS::IAM::ManagedPolicy') return arnOf(id);
    if (type === 'AWS::KMS::Key') return id.toLowerCase();
    return nameOf(id);
  };
  const resolve = (value: unknown): any => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, argument] = entries[0]!;
      if (key === 'Ref') return refOf(argument as string);
      if (key === 'Fn::GetAtt') {
        const [id, attribute] = argument as [string, string];
        if (attribute === 'Arn') return arnOf(id);
        throw new Error(`no rule for Fn::GetAtt ${id}.${attribute}`);
      }
      if (key === 'Fn::Join') {
        const [separator, parts] = argument as [string, unknown[]];
        return parts.map(resolve).join(separator);
      }
    }
    return Object.fromEntries(entries.map(([key, inner]) => [key, resolve(inner)]));
  };
  return { resolve, arnOf, nameOf, resources };
}
