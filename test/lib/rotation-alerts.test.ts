/**
 * onRotationFailed: the rule as synthesized (its secret, its target, its precondition). Whether its
 * pattern matches the right events is judged by AWS's own matcher, event-ruler, in
 * test/engines/event-ruler/rotation-alert.engine.test.ts (`npm run test:engines`).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import * as sns from 'aws-cdk-lib/aws-sns';
import { LightsailBucketAccessKey } from '../../lib';
import { newStack, secretId } from './stack-fixture';

function rotatingKey(stack: Stack, id = 'Key'): LightsailBucketAccessKey {
  const bucket = new lightsail.CfnBucket(stack, `${id}Bucket`, { bucketName: `${id.toLowerCase()}-bucket`, bundleId: 'small_1_0' });
  return new LightsailBucketAccessKey(stack, id, { bucket, rotation: { automaticallyAfter: Duration.days(30) } });
}

describe('onRotationFailed', () => {
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
