/**
 * An upgrade of this library must never replace a deployed key: every logical id, resource type and
 * deletion policy of a representative set of stacks must stay what the last release synthesized.
 * The fixture was captured from the code before the construct became an L2 `Resource`; regenerate it
 * (`UPDATE_LOGICAL_IDS=1 npx jest test/lib/logical-ids.test.ts`) only for a deliberate, documented
 * breaking change.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lightsail from 'aws-cdk-lib/aws-lightsail';
import { LightsailBucketAccessKey } from '../../lib';
import { ENV } from './stack-fixture';

const FIXTURE = path.join(__dirname, 'fixtures', 'logical-ids.json');

interface ResourceShape {
  readonly Type: string;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Properties?: unknown;
}

/** A change to these resources' properties updates the key or its secret: they are compared in full. */
const COMPARED_PROPERTIES = ['Custom::LightsailBucketAccessKey', 'AWS::SecretsManager::Secret', 'AWS::SecretsManager::RotationSchedule'];

/** The stacks a user of the last release may have deployed, one feature each, plus all at once. */
function representativeStacks(): Stack[] {
  const app = new App();
  const stack = (id: string): Stack => new Stack(app, id, { env: ENV });
  // One bucket per stack: bucket names are global, and the app may give a bucket two keys at most.
  const bucketOf = (scope: Stack): lightsail.CfnBucket =>
    new lightsail.CfnBucket(scope, 'Bucket', { bucketName: `${scope.stackName.toLowerCase()}-bucket`, bundleId: 'small_1_0' });

  const byDefault = stack('Default');
  new LightsailBucketAccessKey(byDefault, 'Key', { bucket: bucketOf(byDefault) });

  const byName = stack('BucketName');
  new LightsailBucketAccessKey(byName, 'Key', { bucketName: 'made-elsewhere', secretName: 'app/lightsail-key' });

  const cmk = stack('Cmk');
  new LightsailBucketAccessKey(cmk, 'Key', { bucket: bucketOf(cmk), encryptionKey: new kms.Key(cmk, 'EncryptionKey') });

  const rotating = stack('Rotation');
  new LightsailBucketAccessKey(rotating, 'Key', { bucket: bucketOf(rotating), rotation: { automaticallyAfter: Duration.days(30) } });

  const retained = stack('Retain');
  new LightsailBucketAccessKey(retained, 'Key', { bucket: bucketOf(retained), removalPolicy: RemovalPolicy.RETAIN });

  const serial = stack('Serial');
  new LightsailBucketAccessKey(serial, 'Key', { bucketName: 'made-elsewhere', serial: 2 });

  const everything = stack('Everything');
  const bucket = bucketOf(everything);
  new LightsailBucketAccessKey(everything, 'First', {
    bucket,
    serial: 1,
    encryptionKey: new kms.Key(everything, 'EncryptionKey'),
    rotation: { automaticallyAfter: Duration.hours(12) },
    removalPolicy: RemovalPolicy.RETAIN,
  });
  new LightsailBucketAccessKey(everything, 'Second', { bucket });

  return [byDefault, byName, cmk, rotating, retained, serial, everything];
}

/** Logical id → type and policies, per stack. */
function shapes(): Record<string, Record<string, ResourceShape>> {
  const result: Record<string, Record<string, ResourceShape>> = {};
  for (const stack of representativeStacks()) {
    const resources = (stack.node.scope as App).synth().getStackByName(stack.stackName).template.Resources as Record<string, ResourceShape>;
    result[stack.stackName] = Object.fromEntries(Object.entries(resources).sort(([a], [b]) => a.localeCompare(b)).map(([id, resource]) => [id, {
      Type: resource.Type,
      ...(resource.DeletionPolicy ? { DeletionPolicy: resource.DeletionPolicy } : {}),
      ...(resource.UpdateReplacePolicy ? { UpdateReplacePolicy: resource.UpdateReplacePolicy } : {}),
      ...(COMPARED_PROPERTIES.includes(resource.Type) ? { Properties: resource.Properties } : {}),
    }]));
  }
  return result;
}

describe('logical ids', () => {
  test('every resource of the representative stacks keeps its logical id, type and policies; keys and secrets keep their properties', () => {
    const actual = shapes();
    if (process.env.UPDATE_LOGICAL_IDS) {
      fs.writeFileSync(FIXTURE, `${JSON.stringify(actual, null, 2)}\n`);
    }
    expect(actual).toEqual(JSON.parse(fs.readFileSync(FIXTURE, 'utf-8')));
  });
});
