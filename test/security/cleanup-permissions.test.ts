/**
 * The handler role's policy of the NEW template, judged by an IAM policy simulator on the calls the
 * cleanup Delete of the OLD key makes (its old bucket, its old secret): CloudFormation updates the
 * policy in place before the custom resource and sends that Delete after every update. And least
 * privilege still holds: this stack's secrets only (CloudFormation's stack-id tag), key creation on
 * the buckets the template names only.
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import { LightsailBucketAccessKey, LightsailBucketAccessKeyProps } from '../../lib';
import { ENV, handlerRoleId, secretId } from '../lib/stack-fixture';
import { ACCOUNT, CfnTemplate, ConcreteTemplate, Decision, PolicyDocument, REGION, cloudFormationTags, simulate, uuidFor } from './iam-harness';

const STACK = 'Cleanup';

interface KeyOptions {
  readonly bucket?: 'First' | 'Second';
  readonly bucketName?: string;
  readonly secretName?: string;
  readonly encryptionKey?: 'Before' | 'After';
  readonly serial?: number;
}

interface Deployed {
  readonly concrete: ConcreteTemplate;
  readonly stack: Stack;
  readonly key?: LightsailBucketAccessKey;
}

/** A stack with two CfnBuckets and two KMS keys, and (unless `undefined`) one access key. */
function deploy(options: KeyOptions | undefined, bucketNames = { First: 'cleanup-first', Second: 'cleanup-second' }): Deployed {
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), STACK, { env: ENV });
  const buckets = {
    First: new lightsail.CfnBucket(stack, 'First', { bucketName: bucketNames.First, bundleId: 'small_1_0' }),
    Second: new lightsail.CfnBucket(stack, 'Second', { bucketName: bucketNames.Second, bundleId: 'small_1_0' }),
  };
  const keys = { Before: new kms.Key(stack, 'Before'), After: new kms.Key(stack, 'After') };
  // Another key keeps the provider (and its role) in the stack when `options` removes this one.
  const otherBucket = new lightsail.CfnBucket(stack, 'OtherBucket', { bucketName: 'cleanup-other-bucket', bundleId: 'small_1_0' });
  new LightsailBucketAccessKey(stack, 'Other', { bucket: otherBucket });
  let key: LightsailBucketAccessKey | undefined;
  if (options) {
    const props: LightsailBucketAccessKeyProps = {
      ...(options.bucket ? { bucket: buckets[options.bucket] } : { bucketName: options.bucketName! }),
      secretName: options.secretName,
      serial: options.serial,
      encryptionKey: options.encryptionKey ? keys[options.encryptionKey] : undefined,
    };
    key = new LightsailBucketAccessKey(stack, 'Key', props);
  }
  const concrete = new ConcreteTemplate(Template.fromStack(stack).toJSON() as CfnTemplate, STACK);
  return { concrete, stack, key };
}

function handlerPrincipal(deployed: Deployed): { arn: string; policies: ReturnType<ConcreteTemplate['rolePolicies']> } {
  const roleId = handlerRoleId(Template.fromJSON(deployed.concrete.template as unknown as Record<string, unknown>));
  return { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${deployed.concrete.ref(roleId)}/handler`, policies: deployed.concrete.rolePolicies(roleId) };
}

/** The old key's secret and bucket ARNs, as deployed by the old template. */
function oldResources(old: Deployed): { secretArn: string; secretTags: Record<string, string>; bucketArn: string } {
  const secretArn = old.concrete.ref(secretId(old.key!));
  const bucketArn = old.concrete.getAtt(old.stack.getLogicalId(old.stack.node.findChild('First') as lightsail.CfnBucket), 'BucketArn');
  return { secretArn, secretTags: old.concrete.tagsOf(secretArn), bucketArn };
}

async function decide(
  deployed: Deployed, action: string, resource: string, resourceTags: Record<string, string> = {}, context: Record<string, string> = {}, resourcePolicy?: PolicyDocument,
): Promise<Decision['result']> {
  const principal = handlerPrincipal(deployed);
  return (await simulate(principal.arn, principal.policies, { action, resource, resourceTags, context, resourcePolicy })).result;
}

/** What the Delete of a key does (lambda/on-event.ts remove, key-slots.ts heldVersions): reads, stage moves, key deletion. */
async function expectCleanupAllowed(next: Deployed, old: { secretArn: string; secretTags: Record<string, string>; bucketArn: string }): Promise<void> {
  for (const action of ['secretsmanager:GetSecretValue', 'secretsmanager:UpdateSecretVersionStage']) {
    expect([action, await decide(next, action, old.secretArn, old.secretTags)]).toEqual([action, 'Allowed']);
  }
  expect(await decide(next, 'lightsail:GetBucketAccessKeys', '*')).toBe('Allowed');
  expect(await decide(next, 'lightsail:DeleteBucketAccessKey', old.bucketArn)).toBe('Allowed');
}

describe('the cleanup Delete of the old key is allowed by the new template\'s handler policy', () => {
  const v1 = deploy({ bucket: 'First', secretName: 'app/cleanup-before', serial: 1, encryptionKey: 'Before' });
  const old = oldResources(v1);

  test.each<[string, KeyOptions | undefined]>([
    ['the key moved to another bucket of the stack', { bucket: 'Second', secretName: 'app/cleanup-before', serial: 1, encryptionKey: 'Before' }],
    ['the key moved to a bucket made elsewhere (its bucket dropped)', { bucketName: 'made-elsewhere', secretName: 'app/cleanup-before', serial: 1, encryptionKey: 'Before' }],
    ['the secret renamed (replaced)', { bucket: 'First', secretName: 'app/cleanup-after', serial: 1, encryptionKey: 'Before' }],
    ['the encryption key changed and the serial bumped', { bucket: 'First', secretName: 'app/cleanup-before', serial: 2, encryptionKey: 'After' }],
    ['the key removed', undefined],
  ])('%s', async (_name, options) => {
    await expectCleanupAllowed(deploy(options), old);
  });

  test('the key\'s bucket replaced (a new name, so a new bucket with a new id)', async () => {
    const replaced = deploy({ bucket: 'First', secretName: 'app/cleanup-before', serial: 1, encryptionKey: 'Before' }, { First: 'cleanup-renamed', Second: 'cleanup-second' });
    // The harness gives a logical id one ARN; the replaced bucket's id is another one of the account and region.
    await expectCleanupAllowed(replaced, { ...old, bucketArn: `arn:aws:lightsail:${REGION}:${ACCOUNT}:Bucket/${uuidFor('the bucket before its replacement')}` });
  });
});

describe('least privilege of the new statements', () => {
  const deployed = deploy({ bucket: 'First', secretName: 'app/cleanup-key', encryptionKey: 'After' });
  const secretArn = deployed.concrete.ref(secretId(deployed.key!));
  const ownTags = deployed.concrete.tagsOf(secretArn);
  const otherStackId = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/Neighbour/${uuidFor('neighbour')}`;
  const otherSecret = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:neighbour/db-password-Ab12Cd`;
  const logicalIdOf = (id: string): string => deployed.stack.getLogicalId(deployed.stack.node.findChild(id) as CfnElement);
  const firstBucket = deployed.concrete.getAtt(logicalIdOf('First'), 'BucketArn');
  const secondBucket = deployed.concrete.getAtt(logicalIdOf('Second'), 'BucketArn');
  const kmsKeyId = (id: string): string => deployed.stack.getLogicalId(deployed.stack.node.findChild(id).node.defaultChild as CfnElement);
  const keyArn = (id: string): string => deployed.concrete.getAtt(kmsKeyId(id), 'Arn');
  // KMS evaluates the key policy with the role's: a CDK key's lets the account's IAM policies decide.
  const decideKms = (id: string, context: Record<string, string>): Promise<Decision['result']> =>
    decide(deployed, 'kms:Decrypt', keyArn(id), {}, context, deployed.concrete.keyPolicy(kmsKeyId(id)));
  const viaSecretsManager = { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` };

  test.each(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'])(
    '%s: allowed on this stack\'s secret; denied on another stack\'s secret and on an untagged one', async (action) => {
      expect(ownTags['aws:cloudformation:stack-id']).toBe(deployed.concrete.stackId);
      expect(await decide(deployed, action, secretArn, ownTags)).toBe('Allowed');
      expect(await decide(deployed, action, otherSecret, cloudFormationTags(otherStackId, 'Neighbour', 'Secret'))).toBe('ImplicitlyDenied');
      expect(await decide(deployed, action, otherSecret)).toBe('ImplicitlyDenied');
    });

  test('secret actions the handler never makes are denied on this stack\'s secret', async () => {
    for (const action of ['secretsmanager:DeleteSecret', 'secretsmanager:DescribeSecret', 'secretsmanager:PutResourcePolicy', 'secretsmanager:TagResource']) {
      expect([action, await decide(deployed, action, secretArn, ownTags)]).toEqual([action, 'ImplicitlyDenied']);
    }
  });

  test('CreateBucketAccessKey: allowed on the bucket the key names; denied on another bucket of the stack and on another stack\'s bucket', async () => {
    expect(await decide(deployed, 'lightsail:CreateBucketAccessKey', firstBucket)).toBe('Allowed');
    expect(await decide(deployed, 'lightsail:CreateBucketAccessKey', secondBucket)).toBe('ImplicitlyDenied');
    const neighbours = `arn:aws:lightsail:${REGION}:${ACCOUNT}:Bucket/${uuidFor('neighbour bucket')}`;
    expect(await decide(deployed, 'lightsail:CreateBucketAccessKey', neighbours)).toBe('ImplicitlyDenied');
  });

  test('DeleteBucketAccessKey: any bucket of the account and region (a cleanup\'s old bucket), none elsewhere', async () => {
    expect(await decide(deployed, 'lightsail:DeleteBucketAccessKey', secondBucket)).toBe('Allowed');
    expect(await decide(deployed, 'lightsail:DeleteBucketAccessKey', `arn:aws:lightsail:eu-west-1:${ACCOUNT}:Bucket/${uuidFor('eu')}`)).toBe('ImplicitlyDenied');
    expect(await decide(deployed, 'lightsail:DeleteBucketAccessKey', `arn:aws:lightsail:${REGION}:210987654321:Bucket/${uuidFor('other account')}`)).toBe('ImplicitlyDenied');
  });

  test('KMS: the current encryption key through Secrets Manager only; a former key is not granted (Secrets Manager re-encrypts the labelled versions)', async () => {
    expect(await decideKms('After', viaSecretsManager)).toBe('Allowed');
    expect(await decideKms('After', {})).toBe('ImplicitlyDenied');
    expect(await decideKms('Before', viaSecretsManager)).toBe('ImplicitlyDenied');
  });
});
