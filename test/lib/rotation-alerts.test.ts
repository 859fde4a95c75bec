/**
 * onRotationFailed: the rule's pattern, resolved to the secret's physical ARN, against Secrets
 * Manager's rotation events as CloudTrail delivers them to EventBridge.
 *
 * No maintained implementation of EventBridge's matching rules could be installed here (see
 * README-DRAFT-alerts.md), so the judgement is not a matcher: the pattern must be exactly the expected
 * pattern, its every constrained field is read from the samples by its path, and each sample that
 * must not match differs from the failure sample in exactly one constrained field, whose value the
 * pattern does not list.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import * as sns from 'aws-cdk-lib/aws-sns';
import { LightsailBucketAccessKey } from '../../lib';
import { ENV, newStack, secretId } from './stack-fixture';

/** The physical ARN CloudFormation would return for the key's secret (`Ref`): name plus 6-character suffix. */
const SECRET_ARN = `arn:aws:secretsmanager:${ENV.region}:${ENV.account}:secret:KeySecretAbCdEf-Gh12Ij`;
const OTHER_SECRET_ARN = `arn:aws:secretsmanager:${ENV.region}:${ENV.account}:secret:OtherSecret-Kl34Mn`;

/**
 * A RotationFailed event as EventBridge delivers it (the shape of Secrets Manager's CloudTrail
 * service events: detail-type "AWS Service Event via CloudTrail", the secret's full ARN in
 * detail.additionalEventData.SecretId, no `resources`).
 */
function rotationEvent(eventName: string, secretArn: string): Record<string, unknown> {
  return {
    'version': '0',
    'id': '3f1c2d4e-5a6b-7c8d-9e0f-a1b2c3d4e5f6',
    'detail-type': 'AWS Service Event via CloudTrail',
    'source': 'aws.secretsmanager',
    'account': ENV.account,
    'time': '2026-11-30T03:12:45Z',
    'region': ENV.region,
    'resources': [],
    'detail': {
      eventVersion: '1.08',
      userIdentity: { accountId: ENV.account, invokedBy: 'secretsmanager.amazonaws.com' },
      eventTime: '2026-11-30T03:12:45Z',
      eventSource: 'secretsmanager.amazonaws.com',
      eventName,
      awsRegion: ENV.region,
      sourceIPAddress: 'secretsmanager.amazonaws.com',
      userAgent: 'secretsmanager.amazonaws.com',
      ...(eventName === 'RotationFailed' ? { errorMessage: 'Error when executing lambda during createSecret step' } : {}),
      requestParameters: null,
      responseElements: null,
      additionalEventData: { SecretId: secretArn },
      requestID: `Rotation-${secretArn}-0b1c2d3e`,
      eventID: '9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4',
      readOnly: false,
      eventType: 'AwsServiceEvent',
      managementEvent: true,
      recipientAccountId: ENV.account,
      eventCategory: 'Management',
    },
  };
}

/** The fields an event pattern for this rule constrains, by their path in the event. */
const CONSTRAINED_PATHS = [
  ['source'],
  ['detail-type'],
  ['detail', 'eventSource'],
  ['detail', 'eventName'],
  ['detail', 'additionalEventData', 'SecretId'],
];

function at(value: unknown, path: string[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], value);
}

/** Every leaf path of a pattern (where its value lists sit). */
function leafPaths(pattern: unknown, prefix: string[] = []): string[][] {
  if (Array.isArray(pattern)) {
    return [prefix];
  }
  return Object.entries(pattern as Record<string, unknown>).flatMap(([key, value]) => leafPaths(value, [...prefix, key]));
}

/** The rendered value with every `{ Ref: logicalId }` replaced by the physical value CloudFormation gives it. */
function substituteRef(value: unknown, logicalId: string, physical: string): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => substituteRef(item, logicalId, physical));
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && entries[0][0] === 'Ref' && entries[0][1] === logicalId) {
      return physical;
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, substituteRef(item, logicalId, physical)]));
  }
  return value;
}

function rotatingKey(stack: Stack, id = 'Key'): LightsailBucketAccessKey {
  const bucket = new lightsail.CfnBucket(stack, `${id}Bucket`, { bucketName: `${id.toLowerCase()}-bucket`, bundleId: 'small_1_0' });
  return new LightsailBucketAccessKey(stack, id, { bucket, rotation: { automaticallyAfter: Duration.days(30) } });
}

/** The rule's pattern as deployed: rendered, with the secret's `Ref` replaced by its physical ARN. */
function deployedPattern(stack: Stack, key: LightsailBucketAccessKey, ruleId: string): Record<string, unknown> {
  const rule = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(key.node.findChild(ruleId).node.defaultChild as never)];
  return substituteRef(rule.Properties.EventPattern, secretId(key), SECRET_ARN) as Record<string, unknown>;
}

describe('onRotationFailed', () => {
  let pattern: Record<string, unknown>;

  beforeAll(() => {
    const stack = newStack();
    const key = rotatingKey(stack);
    key.onRotationFailed('RotationFailed');
    pattern = deployedPattern(stack, key, 'RotationFailed');
  });

  test('the pattern is exactly the failed and abandoned rotations of this key\'s secret, by its full ARN', () => {
    expect(pattern).toEqual({
      'source': ['aws.secretsmanager'],
      'detail-type': ['AWS Service Event via CloudTrail'],
      'detail': {
        eventSource: ['secretsmanager.amazonaws.com'],
        eventName: ['RotationFailed', 'RotationAbandoned'],
        additionalEventData: { SecretId: [SECRET_ARN] },
      },
    });
    // Nothing in the pattern is left for CloudFormation to resolve but the secret's ARN.
    expect(JSON.stringify(pattern)).not.toMatch(/Ref|Fn::/);
  });

  test('the pattern constrains exactly the fields read below, and no others', () => {
    expect(leafPaths(pattern).map((path) => path.join('.')).sort()).toEqual(CONSTRAINED_PATHS.map((path) => path.join('.')).sort());
  });

  test.each(['RotationFailed', 'RotationAbandoned'])('a %s event of this secret has, in every constrained field, a value the pattern lists', (eventName) => {
    const event = rotationEvent(eventName, SECRET_ARN);
    for (const path of CONSTRAINED_PATHS) {
      expect(at(pattern, path)).toContain(at(event, path));
    }
  });

  test.each([
    ['the same failure of another secret', rotationEvent('RotationFailed', OTHER_SECRET_ARN), ['detail', 'additionalEventData', 'SecretId']],
    ['a succeeded rotation of this secret', rotationEvent('RotationSucceeded', SECRET_ARN), ['detail', 'eventName']],
    ['a started rotation of this secret', rotationEvent('RotationStarted', SECRET_ARN), ['detail', 'eventName']],
    ['the failure of a secret whose ARN only starts like this one', rotationEvent('RotationFailed', `${SECRET_ARN}x`), ['detail', 'additionalEventData', 'SecretId']],
  ])('%s differs from the failure sample in one constrained field, whose value the pattern does not list', (_name, event, differingPath) => {
    const failure = rotationEvent('RotationFailed', SECRET_ARN);
    const differing = CONSTRAINED_PATHS.filter((path) => at(event, path) !== at(failure, path));
    expect(differing).toEqual([differingPath]);
    expect(at(pattern, differingPath)).not.toContain(at(event, differingPath));
  });

  test('two keys: each rule names only its own secret', () => {
    const stack = newStack();
    const key = rotatingKey(stack);
    key.onRotationFailed('RotationFailed');
    const other = rotatingKey(stack, 'Other');
    other.onRotationFailed('RotationFailed');
    const template = Template.fromStack(stack).toJSON();
    const secretIdsOfRules = [key, other].map((owner) => {
      const rule = template.Resources[stack.getLogicalId(owner.node.findChild('RotationFailed').node.defaultChild as never)];
      return rule.Properties.EventPattern.detail.additionalEventData.SecretId;
    });
    expect(secretIdsOfRules).toEqual([[{ Ref: secretId(key) }], [{ Ref: secretId(other) }]]);
  });

  test('sends to the target given in options, like aws-cdk-lib\'s on* methods', () => {
    const stack = newStack();
    const key = rotatingKey(stack);
    const topic = new sns.Topic(stack, 'Alerts');
    key.onRotationFailed('ToTopic', { target: new targets.SnsTopic(topic), description: 'Failed rotations' });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      Description: 'Failed rotations',
      Targets: [{ Arn: { Ref: stack.getLogicalId(topic.node.defaultChild as never) }, Id: 'Target0' }],
    });
  });

  test('a key without rotation has no rotation to fail: a clear error naming "rotation"', () => {
    const plain = new LightsailBucketAccessKey(newStack(), 'Plain', { bucketName: 'made-elsewhere' });
    expect(() => plain.onRotationFailed('RotationFailed')).toThrow(
      'LightsailBucketAccessKey S/Plain: onRotationFailed() needs scheduled rotation, and this key has no "rotation"',
    );
  });
});
