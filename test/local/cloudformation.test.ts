/** The local CloudFormation: order, updates, cleanup, rollback and stack deletion on the key's own stack. */
import { AwsEmulator } from '../../local/emulator';
import { LocalCloudFormation } from '../../local/cloudformation';
import { emittedTexts, leaks } from '../../local/leaks';
import type { SynthesizedStack } from '../../local/stack-driver';
import { currentKey, expectSecretHoldsEveryKey, keyIds, synthesizeKeyStack } from '../lifecycle/fixture';

jest.setTimeout(60_000);

const BUCKET = 'lifecycle-bucket';
let emulator: AwsEmulator;
let first: SynthesizedStack;
let bumped: SynthesizedStack;
const engines: LocalCloudFormation[] = [];

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  first = synthesizeKeyStack({ serial: 1 });
  bumped = synthesizeKeyStack({ serial: 2 });
});

afterAll(async () => {
  const texts = engines.flatMap((engine) => emittedTexts(engine.driver, [first, bumped]));
  expect(leaks(emulator, texts)).toEqual([]);
  await emulator.stop();
});

function engineFor(stack: SynthesizedStack): LocalCloudFormation {
  emulator.reset();
  const engine = LocalCloudFormation.forStack(emulator, stack);
  engines.push(engine);
  return engine;
}

function keyOf(engine: LocalCloudFormation): string {
  return engine.driver.keyLogicalIds()[0];
}

test('create, serial bump with cleanup of the old key, destroy', async () => {
  const engine = engineFor(first);
  expect(await engine.deploy()).toBe('CREATE_COMPLETE');
  const key = keyOf(engine);
  const firstKey = engine.physicalId(key);
  const secretArn = String(engine.states.get(key)!.properties.SecretArn);
  expect(keyIds(emulator, BUCKET)).toEqual([firstKey]);

  expect(await engine.deploy(bumped.template)).toBe('UPDATE_COMPLETE');
  const secondKey = engine.physicalId(key);
  expect(secondKey).not.toBe(firstKey);
  expect(keyIds(emulator, BUCKET)).toEqual([secondKey]);
  expect(currentKey(emulator, secretArn)?.accessKeyId).toBe(secondKey);
  expectSecretHoldsEveryKey(emulator, BUCKET, secretArn);
  console.log(engine.log.events.map((e) => `${e.stackStatus} ${e.logicalId} ${e.status} ${e.physicalId ?? ''} ${e.reason ?? ''}`).join('\n'));

  expect(await engine.destroy()).toBe('DELETE_COMPLETE');
  expect(engine.states.size).toBe(0);
});
