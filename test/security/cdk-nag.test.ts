/**
 * cdk-nag v3 (AwsSolutions pack) on the example app and on a stack with a customer managed key and a
 * bucket known only by name. Every finding must be fixed or acknowledged here, on its own resource,
 * with a reason; any new finding fails these tests.
 */
import { App, CfnElement, Stack, Token } from 'aws-cdk-lib';
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import { ExampleStack } from '../../bin/example-stack';
import { LightsailBucketAccessKey, LightsailBucketAccessKeyProvider } from '../../lib';
import { ENV } from '../lib/stack-fixture';
import {
  Acknowledgement,
  acknowledge,
  actionsOnAcknowledgedWildcards,
  newApp,
  rawFindings,
  removeOutdirs,
  synthWithNag,
} from './nag-harness';

/** The stack id of bin/example-app.ts, so that paths are those `cdk synth` reports. */
const EXAMPLE = 'LightsailBucketAccessKeyExample';
const CMK_STACK = 'CmkAndNamedBucket';
const VPC_STACK = 'ProviderInVpc';

const SECRET_ROTATION_REASON =
  'Secrets Manager cannot rotate a Lightsail bucket access key by itself. The key is rotated by the ' +
  "construct's `serial`: bumping it makes the next deployment create a new key, store it as the secret's " +
  'new AWSCURRENT version, and delete the old key once the deployment has succeeded. Scheduled rotation ' +
  '(the `rotation` prop) is left off in this stack on purpose, to check the serial-only configuration; the ' +
  'example stack uses it and has no SMG4 finding.';

const LIGHTSAIL_READS_REASON =
  'lightsail:GetBuckets, lightsail:GetBucketAccessKeys and lightsail:GetOperation support no resource type (Service Authorization ' +
  "Reference for Amazon Lightsail), so '*' is the only resource they accept. They are used read-only, " +
  'to check that the bucket exists, to count its keys and to follow the operations of a key being made or deleted. ' +
  'No other action of this policy is granted on "*".';

/** The rotation function's role, in a stack where a key rotates: the same read-only wildcard. */
function rotationAcknowledgement(stack: Stack): Acknowledgement {
  return {
    path: `${stack.node.path}/LightsailBucketAccessKeyProvider/RotationRole/DefaultPolicy/Resource`,
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: LIGHTSAIL_READS_REASON,
    wildcardActions: ['lightsail:GetBucketAccessKeys', 'lightsail:GetBuckets', 'lightsail:GetOperation'],
  };
}

const CLEANUP_SECRETS_REASON =
  "The handler may read and write the secrets of this stack only: Resource is every secret of the stack's account and " +
  'region, conditioned on the aws:cloudformation:stack-id tag CloudFormation puts on the secrets it creates, valued ' +
  "with this stack's id. The Delete of a replaced key (cleanup, after the policy was updated to the new template) " +
  'must still reach the old secret, which the new template no longer names (a renamed secret). lib/key-grants.ts has the sources.';

const CLEANUP_BUCKETS_REASON =
  "Deleting keys is granted on the Lightsail buckets of the stack's account and region: the Delete of a moved key, or of a key " +
  "whose bucket was replaced or dropped, runs under the new template's policy, which no longer names that bucket, and " +
  "Lightsail bucket ARNs end in an internal id (not the name) and carry no CloudFormation tags. Deleting issues no credential.";

/** The handler's cleanup statements: the stack's secrets by tag, and deleting keys of any bucket of the account and region. */
function cleanupAcknowledgements(stack: Stack, createsOnAnyBucket = false): Acknowledgement[] {
  const path = `${stack.node.path}/LightsailBucketAccessKeyProvider/HandlerRole/DefaultPolicy/Resource`;
  const here = Token.isUnresolved(stack.region) ? '<AWS::Region>:<AWS::AccountId>' : `${stack.region}:${stack.account}`;
  return [
    {
      path,
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:${here}:secret:*]`,
      reason: CLEANUP_SECRETS_REASON,
      wildcardActions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
    },
    {
      path,
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lightsail:${here}:Bucket/*]`,
      reason: createsOnAnyBucket
        ? `${CLEANUP_BUCKETS_REASON} Creating keys there too is the documented scope of \`bucketName\` (README, IAM): for a ` +
          "bucket made outside this app, creating its keys can be scoped to the buckets of this stack's account and region, no further."
        : CLEANUP_BUCKETS_REASON,
      wildcardActions: createsOnAnyBucket ? ['lightsail:CreateBucketAccessKey', 'lightsail:DeleteBucketAccessKey'] : ['lightsail:DeleteBucketAccessKey'],
    },
  ];
}

/** Acknowledgements every stack with a key needs: the shared provider's two roles. */
function providerAcknowledgements(stack: Stack, createsOnAnyBucket = false): Acknowledgement[] {
  const at = `${stack.node.path}/LightsailBucketAccessKeyProvider`;
  const handlerFunction = stack.node.findChild('LightsailBucketAccessKeyProvider').node.findChild('OnEventHandler').node.defaultChild as CfnElement;
  return [
    {
      path: `${at}/HandlerRole/DefaultPolicy/Resource`,
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: LIGHTSAIL_READS_REASON,
      wildcardActions: ['lightsail:GetBucketAccessKeys', 'lightsail:GetBuckets', 'lightsail:GetOperation'],
    },
    {
      path: `${at}/FrameworkRole/DefaultPolicy/Resource`,
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(handlerFunction)}.Arn>:*]`,
      reason:
        "aws-cdk-lib's custom_resources.Provider grants its framework function lambda:InvokeFunction on the onEvent " +
        "handler and on that one function's qualified ARNs (`<handler ARN>:*`: its versions and aliases). The " +
        'wildcard reaches no other function.',
      wildcardActions: ['lambda:InvokeFunction'],
    },
    ...cleanupAcknowledgements(stack, createsOnAnyBucket),
  ];
}

interface NagCase {
  readonly app: App;
  readonly stack: Stack;
  readonly acknowledgements: Acknowledgement[];
}

/** The example app as bin/example-app.ts builds it without context (environment-agnostic, no serial). */
function exampleCase(): NagCase {
  const app = newApp();
  const stack = new ExampleStack(app, EXAMPLE, { bucketName: 'cdk-lightsail-access-key-example' });
  return {
    app,
    stack,
    acknowledgements: [
      ...providerAcknowledgements(stack),
      rotationAcknowledgement(stack),
    ],
  };
}

/** A key of an app bucket encrypted with a customer managed key, and a key of a bucket known by name. */
function cmkCase(): NagCase {
  const app = newApp();
  const stack = new Stack(app, CMK_STACK, { env: ENV });
  const bucket = new lightsail.CfnBucket(stack, 'Bucket', { bucketName: 'cdk-nag-app-bucket', bundleId: 'small_1_0' });
  new LightsailBucketAccessKey(stack, 'CmkKey', {
    bucket,
    encryptionKey: new kms.Key(stack, 'K', { enableKeyRotation: true }),
  });
  new LightsailBucketAccessKey(stack, 'NamedKey', { bucketName: 'bucket-made-by-hand' });
  return {
    app,
    stack,
    acknowledgements: [
      { path: `${CMK_STACK}/CmkKey/Secret/Resource`, id: 'AwsSolutions-SMG4', reason: SECRET_ROTATION_REASON },
      { path: `${CMK_STACK}/NamedKey/Secret/Resource`, id: 'AwsSolutions-SMG4', reason: SECRET_ROTATION_REASON },
      ...providerAcknowledgements(stack, true),
    ],
  };
}

const NETWORK_INTERFACE_ACTIONS = [
  'ec2:AssignPrivateIpAddresses',
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:UnassignPrivateIpAddresses',
];

const NETWORK_INTERFACES_REASON =
  'A Lambda function in a VPC needs its role to create, describe and delete its own network interfaces (the EC2 ' +
  'actions of the AWS managed policy AWSLambdaVPCAccessExecutionRole, granted inline without its logs:* on "*"). ' +
  'The interfaces do not exist at synth time and ec2:DescribeNetworkInterfaces supports only "*".';

/** The stack's default provider configured with a VPC, and a rotating key: all three functions in the VPC. */
function vpcCase(): NagCase {
  const app = newApp();
  const stack = new Stack(app, VPC_STACK, { env: ENV });
  // An existing VPC: its own findings (flow logs) are not this library's.
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-12345678',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-11111111', 'subnet-22222222'],
  });
  new LightsailBucketAccessKeyProvider(stack, LightsailBucketAccessKeyProvider.DEFAULT_ID, { vpc });
  const bucket = new lightsail.CfnBucket(stack, 'Bucket', { bucketName: 'cdk-nag-vpc-bucket', bundleId: 'small_1_0' });
  new LightsailBucketAccessKey(stack, 'Key', { bucket, rotation: { automaticallyAfter: Duration.days(30) } });
  const [handlerPolicyAck, frameworkAck, ...cleanupAcks] = providerAcknowledgements(stack);
  const rotationAck = rotationAcknowledgement(stack);
  const withNetworkInterfaces = (ack: Acknowledgement): Acknowledgement => ({
    ...ack,
    reason: `${ack.reason} ${NETWORK_INTERFACES_REASON}`,
    wildcardActions: [...ack.wildcardActions!, ...NETWORK_INTERFACE_ACTIONS],
  });
  return {
    app,
    stack,
    acknowledgements: [
      withNetworkInterfaces(handlerPolicyAck),
      withNetworkInterfaces(rotationAck),
      frameworkAck,
      {
        path: frameworkAck.path,
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: NETWORK_INTERFACES_REASON,
        wildcardActions: NETWORK_INTERFACE_ACTIONS,
      },
      ...cleanupAcks,
    ],
  };
}

const CASES: Array<[string, () => NagCase]> = [
  ['the example stack (bin/example-stack.ts)', exampleCase],
  ['a stack with a customer managed key and a bucketName-only key', cmkCase],
  ['a stack whose provider runs in a VPC', vpcCase],
];

afterAll(removeOutdirs);

describe.each(CASES)('cdk-nag AwsSolutions on %s', (_name, build) => {
  test('leaves no unacknowledged finding, and synthesis succeeds', () => {
    const { app, acknowledgements } = build();
    acknowledge(app, acknowledgements);
    const run = synthWithNag(app);
    expect(run.packRuns).toBe(1);
    expect(run.findings).toEqual([]);
    expect(run.synthError).toBeUndefined();
  });

  test('each acknowledgement matches a finding raised on exactly that resource (none is stale), with a specific reason', () => {
    const { app, acknowledgements } = build();
    const raw = rawFindings(app);
    for (const { path, id, reason } of acknowledgements) {
      expect(raw).toContainEqual({ rule: id, path });
      expect(reason.length).toBeGreaterThan(100);
    }
    // Each acknowledgement names one finding: none is listed twice.
    expect(new Set(acknowledgements.map((a) => `${a.path} ${a.id}`)).size).toBe(acknowledgements.length);
  });

  test('each acknowledged IAM5 wildcard resource carries only the actions its reason names', () => {
    const { app, acknowledgements } = build();
    expect(actionsOnAcknowledgedWildcards(app, acknowledgements)).toEqual(
      acknowledgements
        .filter((a) => a.wildcardActions)
        .map((a) => ({ id: a.id, actions: [...a.wildcardActions!].sort() })),
    );
  });
});

describe('cdk-nag AwsSolutions catches what was not acknowledged', () => {
  test('a new finding fails synthesis: s3:* on "*" in the example app role', () => {
    const { app, stack, acknowledgements } = exampleCase();
    acknowledge(app, acknowledgements);
    (stack.node.findChild('AppRole') as iam.Role).addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    const run = synthWithNag(app);
    // The handler policy's Resource::* acknowledgement does not reach the app role's policy.
    expect(run.findings).toEqual([
      { rule: 'AwsSolutions-IAM5[Action::s3:*]', path: `${EXAMPLE}/AppRole/DefaultPolicy/Resource` },
      { rule: 'AwsSolutions-IAM5[Resource::*]', path: `${EXAMPLE}/AppRole/DefaultPolicy/Resource` },
    ]);
    expect(run.synthError?.message).toMatch(/AwsSolutions-IAM5\[Action::s3:\*\]/);
  });

  test('s3:* on "*" in the handler role fails synthesis although Resource::* is acknowledged there', () => {
    const { app, stack, acknowledgements } = exampleCase();
    acknowledge(app, acknowledgements);
    LightsailBucketAccessKeyProvider.of(stack).onEventFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    const run = synthWithNag(app);
    expect(run.findings).toEqual([
      { rule: 'AwsSolutions-IAM5[Action::s3:*]', path: `${EXAMPLE}/LightsailBucketAccessKeyProvider/HandlerRole/DefaultPolicy/Resource` },
    ]);
    expect(run.synthError?.message).toMatch(/AwsSolutions-IAM5\[Action::s3:\*\]/);
  });

  test('secretsmanager:GetSecretValue on "*" in the handler role passes cdk-nag under the Resource::* acknowledgement, but the wildcard check catches it', () => {
    const { app, stack, acknowledgements } = exampleCase();
    acknowledge(app, acknowledgements);
    LightsailBucketAccessKeyProvider.of(stack).onEventFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: ['*'] }),
    );
    expect(synthWithNag(app).findings).toEqual([]);
    expect(actionsOnAcknowledgedWildcards(app, acknowledgements)[0]).toEqual({
      id: 'AwsSolutions-IAM5[Resource::*]',
      actions: ['lightsail:GetBucketAccessKeys', 'lightsail:GetBuckets', 'lightsail:GetOperation', 'secretsmanager:GetSecretValue'],
    });
  });
});
