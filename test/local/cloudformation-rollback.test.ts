/**
 * The local CloudFormation's rollback of a failed update, asserted on what it sends and in which
 * order, whatever the handler answers (the handler's side is test/lifecycle/rollback.test.ts).
 *
 * As CloudFormation documents it: a rollback is an update back to the previous template, in that
 * template's dependency order; a custom resource whose Update failed gets another Update with
 * ResourceProperties = the previous properties, OldResourceProperties = the failed ones and the
 * physical id CloudFormation kept (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html;
 * aws/aws-cdk#17040); what the update created, the CREATE_FAILED marker of a custom resource included,
 * is deleted in UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html).
 */
import { AwsEmulator } from '../../local/emulator';
import { LocalCloudFormation } from '../../local/cloudformation';
import { emittedTexts, leaks } from '../../local/leaks';
import type { RequestType, SynthesizedStack } from '../../local/stack-driver';
import type { Template } from '../../local/template';
import { keyIds, synthesizeKeyStack, synthesizeManyKeysStack } from '../lifecycle/fixture';

jest.setTimeout(90_000);

const BUCKET = 'lifecycle-bucket';
const OTHER_BUCKET = 'lifecycle-other-bucket';
const POLICY = 'LightsailBucketAccessKeyProviderHandlerRoleDefaultPolicy36EA25FB';
let emulator: AwsEmulator;
let first: SynthesizedStack;
let moved: SynthesizedStack;
let bumped: SynthesizedStack;
let oneKey: SynthesizedStack;
let twoKeys: SynthesizedStack;
const engines: LocalCloudFormation[] = [];

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  first = synthesizeKeyStack({ serial: 1 });
  moved = synthesizeKeyStack({ serial: 1, bucketName: OTHER_BUCKET });
  bumped = synthesizeKeyStack({ serial: 2 });
  oneKey = synthesizeManyKeysStack({ buckets: 1, keysPerBucket: 1 });
  twoKeys = synthesizeManyKeysStack({ buckets: 1, keysPerBucket: 2 });
});

afterAll(async () => {
  const texts = engines.flatMap((engine) => [
    ...emittedTexts(engine.driver, [first, moved, bumped, oneKey, twoKeys]),
    ...engine.log.events.map((event, index) => ({ where: `stack event ${index}`, text: JSON.stringify(event) })),
  ]);
  expect(leaks(emulator, texts)).toEqual([]);
  await emulator.stop();
});

interface SentEvent {
  readonly requestType: RequestType;
  readonly logicalId: string;
  readonly physicalResourceId?: string;
  readonly resourceProperties?: Record<string, unknown>;
  readonly oldResourceProperties?: Record<string, unknown>;
}

/** A deployed stack, and every custom resource event its engine sends from now on. */
async function deployed(stack: SynthesizedStack): Promise<{ engine: LocalCloudFormation; sent: SentEvent[] }> {
  emulator.reset();
  const engine = LocalCloudFormation.forStack(emulator, stack);
  engines.push(engine);
  expect(await engine.deploy()).toBe('CREATE_COMPLETE');
  const sent: SentEvent[] = [];
  const send = engine.driver.send.bind(engine.driver);
  jest.spyOn(engine.driver, 'send').mockImplementation((requestType, logicalId, template, options) => {
    sent.push({ requestType, logicalId, ...options });
    return send(requestType, logicalId, template, options);
  });
  return { engine, sent };
}

/** Index of the first event of the resource with this status in this stack phase. */
function eventIndex(engine: LocalCloudFormation, logicalId: string, status: string, stackStatus: string): number {
  const index = engine.log.events.findIndex((event) => event.logicalId === logicalId && event.status === status && event.stackStatus === stackStatus);
  expect([logicalId, status, stackStatus, index >= 0]).toEqual([logicalId, status, stackStatus, true]);
  return index;
}

test('a failed Update is rolled back with another Update: the old properties, the failed ones as OldResourceProperties, the kept id, under the restored policy', async () => {
  const { engine, sent } = await deployed(first);
  const key = engine.driver.keyLogicalIds()[0];
  const oldKey = engine.physicalId(key);
  const created = engine.states.get(key)!.properties;
  // Every CreateBucketAccessKey fails while the update runs: the move to the other bucket fails in the handler.
  emulator.injectFault({ operation: 'CreateBucketAccessKey', kind: 'server', times: 100 });

  await engine.deploy(moved.template, { onRollback: () => emulator.clearFaults() });

  const updates = sent.filter((event) => event.logicalId === key && event.requestType === 'Update');
  expect(updates).toHaveLength(2);
  const [attempt, rollback] = updates;
  expect(attempt).toEqual(expect.objectContaining({ physicalResourceId: oldKey, oldResourceProperties: created }));
  expect(attempt.resourceProperties?.BucketName).toBe(OTHER_BUCKET);
  expect(rollback).toEqual(expect.objectContaining({
    physicalResourceId: oldKey, resourceProperties: created, oldResourceProperties: attempt.resourceProperties,
  }));
  // The handler's role has its old policy back before the key hears of the rollback.
  expect(eventIndex(engine, POLICY, 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_IN_PROGRESS'))
    .toBeLessThan(eventIndex(engine, key, 'UPDATE_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS'));
  expect(keyIds(emulator, BUCKET)).toContain(oldKey);
});

test('an update that adds a key whose Create fails: the rollback\'s cleanup sends Delete to its CREATE_FAILED marker', async () => {
  const { engine, sent } = await deployed(oneKey);
  const [kept] = engine.driver.keyLogicalIds();
  const keptKey = engine.physicalId(kept);
  const added = engine.driver.keyLogicalIds(twoKeys.template).find((logicalId) => logicalId !== kept)!;
  emulator.injectFault({ operation: 'CreateBucketAccessKey', kind: 'server', times: 100 });

  expect(await engine.deploy(twoKeys.template)).toBe('UPDATE_ROLLBACK_COMPLETE');

  expect(engine.log.of(added).map((event) => `${event.stackStatus} ${event.status}`)).toEqual([
    'UPDATE_IN_PROGRESS CREATE_IN_PROGRESS',
    'UPDATE_IN_PROGRESS CREATE_FAILED',
    'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS DELETE_IN_PROGRESS',
    'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS DELETE_COMPLETE',
  ]);
  const deletes = sent.filter((event) => event.logicalId === added && event.requestType === 'Delete');
  expect(deletes).toHaveLength(1);
  expect(deletes[0].physicalResourceId).toMatch(/CREATE_FAILED/);
  expect(engine.states.has(added)).toBe(false);
  expect(keyIds(emulator, 'scale-bucket-0')).toEqual([keptKey]);
});

test('a serial bump updates the key and nothing else: unchanged resources get no call and no event', async () => {
  const { engine, sent } = await deployed(first);
  const key = engine.driver.keyLogicalIds()[0];
  const before = engine.log.events.length;

  expect(await engine.deploy(bumped.template)).toBe('UPDATE_COMPLETE');

  const touched = new Set(engine.log.events.slice(before).filter((event) => event.resourceType !== 'AWS::CloudFormation::Stack').map((event) => event.logicalId));
  expect([...touched]).toEqual([key]);
  expect(sent.map((event) => `${event.requestType} ${event.logicalId}`)).toEqual([`Update ${key}`, `Delete ${key}`]);
});

test('a bucket renamed is replaced: the new one first, the old one deleted in the cleanup', async () => {
  const { engine } = await deployed(first);
  const oldBucket = engine.physicalId('Bucket');

  await engine.deploy(moved.template);

  expect(engine.physicalId('Bucket')).not.toBe(oldBucket);
  expect(eventIndex(engine, 'Bucket', 'UPDATE_COMPLETE', 'UPDATE_IN_PROGRESS'))
    .toBeLessThan(eventIndex(engine, 'Bucket', 'DELETE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'));
  expect(engine.log.of('Bucket').pop()).toEqual(expect.objectContaining({
    status: 'DELETE_COMPLETE', physicalId: oldBucket, stackStatus: 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
  }));
  expect(() => emulator.accessKeys(BUCKET)).toThrow();
  expect(emulator.accessKeys(OTHER_BUCKET)).toHaveLength(1);
});

test('the rollback puts back the whole previous template: a DeletionPolicy the failed update added does not stay', async () => {
  const { engine } = await deployed(first);
  const key = engine.driver.keyLogicalIds()[0];
  const retained = JSON.parse(JSON.stringify(bumped.template)) as Template;
  (retained.Resources.Bucket as { DeletionPolicy?: string }).DeletionPolicy = 'Retain';

  expect(await engine.deploy(retained, { failures: { [key]: 'injected' } })).toBe('UPDATE_ROLLBACK_COMPLETE');
  expect(await engine.destroy()).toBe('DELETE_COMPLETE');

  expect(engine.log.of('Bucket').pop()).toEqual(expect.objectContaining({ status: 'DELETE_COMPLETE' }));
  expect(() => emulator.accessKeys(BUCKET)).toThrow();
});

test('a secret renamed is replaced: a new secret, and the old one deleted in the cleanup ("Update requires: Replacement" for Name)', async () => {
  const { engine } = await deployed(first);
  const secretId = Object.keys(first.template.Resources).find((logicalId) => first.template.Resources[logicalId].Type === 'AWS::SecretsManager::Secret')!;
  const oldSecret = engine.physicalId(secretId);
  const renamed = JSON.parse(JSON.stringify(first.template)) as Template;
  (renamed.Resources[secretId].Properties as Record<string, unknown>).Name = 'renamed-key-secret';

  await engine.deploy(renamed);

  expect(engine.physicalId(secretId)).not.toBe(oldSecret);
  expect(engine.physicalId(secretId)).toContain('renamed-key-secret');
  expect(engine.log.of(secretId).pop()).toEqual(expect.objectContaining({
    status: 'DELETE_COMPLETE', physicalId: oldSecret, stackStatus: 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
  }));
  expect(() => emulator.secretVersions(oldSecret)).toThrow();
});

test('a removed resource with DeletionPolicy Retain is skipped, and its physical resource stays', async () => {
  const retainedFirst = JSON.parse(JSON.stringify(first.template)) as Template;
  (retainedFirst.Resources.Bucket as { DeletionPolicy?: string }).DeletionPolicy = 'Retain';
  const { engine } = await deployed({ ...first, template: retainedFirst });
  const key = engine.driver.keyLogicalIds()[0];
  const secretId = Object.keys(first.template.Resources).find((logicalId) => first.template.Resources[logicalId].Type === 'AWS::SecretsManager::Secret')!;
  const withoutBucket = { Resources: Object.fromEntries(Object.entries(retainedFirst.Resources).filter(([logicalId]) => ![key, secretId, 'Bucket'].includes(logicalId))) };

  expect(await engine.deploy(withoutBucket)).toBe('UPDATE_COMPLETE');

  expect(engine.log.of('Bucket').pop()).toEqual(expect.objectContaining({ status: 'DELETE_SKIPPED', stackStatus: 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS' }));
  expect(emulator.accessKeys(BUCKET)).toEqual([]);
  expect(engine.states.has('Bucket')).toBe(false);
});
