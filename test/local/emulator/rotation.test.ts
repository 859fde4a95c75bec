import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { AwsEmulator } from '../../../local/emulator';
import { failure, secretsManagerClientFor } from './testing';

const SECRET = 'my/secret';
const TOKEN_1 = '11111111-1111-4111-8111-111111111111';
const TOKEN_2 = '22222222-2222-4222-8222-222222222222';
const TOKEN_3 = '33333333-3333-4333-8333-333333333333';

let emu: AwsEmulator;
let secrets: SecretsManagerClient;
let secretArn: string;

beforeAll(async () => {
  emu = await AwsEmulator.start();
  secrets = secretsManagerClientFor(emu, { maxAttempts: 1 });
});

afterAll(async () => {
  secrets.destroy();
  await emu.stop();
});

beforeEach(async () => {
  emu.reset();
  secretArn = emu.createSecret(SECRET).arn;
  await put(TOKEN_1, 'one');
});

function put(token: string, value: string, stages?: string[]): Promise<{ VersionId?: string; VersionStages?: string[] }> {
  return secrets.send(new PutSecretValueCommand({ SecretId: secretArn, ClientRequestToken: token, SecretString: value, VersionStages: stages }));
}

function moveStage(stage: string, moveTo: string | undefined, removeFrom: string | undefined): Promise<unknown> {
  return secrets.send(new UpdateSecretVersionStageCommand({
    SecretId: secretArn, VersionStage: stage, MoveToVersionId: moveTo, RemoveFromVersionId: removeFrom,
  }));
}

/** The rotation function's createSecret and finishSecret steps, as the real one makes them. */
async function rotate(token: string, value: string, from: string): Promise<void> {
  emu.beginRotation(secretArn, token);
  await put(token, value, ['AWSPENDING']);
  await moveStage('AWSCURRENT', token, from);
  await moveStage('AWSPENDING', undefined, token);
}

async function describedStages(): Promise<Record<string, string[]> | undefined> {
  return (await secrets.send(new DescribeSecretCommand({ SecretId: secretArn }))).VersionIdsToStages;
}

describe('rotation', () => {
  test('DescribeSecret has no RotationEnabled until rotation is configured; then true, and false once cancelled', async () => {
    const describe = () => secrets.send(new DescribeSecretCommand({ SecretId: secretArn }));
    const never = await describe();
    expect(never.RotationEnabled).toBeUndefined();
    expect(never.RotationRules).toBeUndefined();

    emu.enableRotation(SECRET, { automaticallyAfterDays: 7 });
    expect(await describe()).toMatchObject({
      RotationEnabled: true,
      RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:emulator-rotation',
      RotationRules: { AutomaticallyAfterDays: 7 },
    });
    emu.disableRotation(secretArn);
    expect(await describe()).toMatchObject({ RotationEnabled: false, RotationRules: { AutomaticallyAfterDays: 7 } });
  });

  test('beginRotation: rotation on, and an AWSPENDING version without a value, which GetSecretValue does not find', async () => {
    emu.beginRotation(secretArn, TOKEN_2);
    expect(await describedStages()).toEqual({ [TOKEN_1]: ['AWSCURRENT'], [TOKEN_2]: ['AWSPENDING'] });
    expect((await secrets.send(new DescribeSecretCommand({ SecretId: secretArn }))).RotationEnabled).toBe(true);
    expect(emu.secretVersions(SECRET)[1]).toEqual({ versionId: TOKEN_2, stages: ['AWSPENDING'] });
    const listed = await secrets.send(new ListSecretVersionIdsCommand({ SecretId: secretArn }));
    expect(listed.Versions?.map((version) => version.VersionId)).toEqual([TOKEN_1, TOKEN_2]);

    const pending = { SecretId: secretArn, VersionId: TOKEN_2, VersionStage: 'AWSPENDING' };
    const byBoth = await failure(secrets.send(new GetSecretValueCommand(pending)));
    expect(byBoth).toBeInstanceOf(ResourceNotFoundException);
    expect(byBoth.message).toBe(`Secrets Manager can't find the specified secret value for VersionId: ${TOKEN_2}`);
    const byStage = await failure(secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionStage: 'AWSPENDING' })));
    expect(byStage.message).toBe("Secrets Manager can't find the specified secret value for staging label: AWSPENDING");
    expect(emu.currentSecretValue(SECRET)).toBe('one');
    expect(emu.calls().map((call) => call.operation)).toEqual(['PutSecretValue', 'DescribeSecret', 'DescribeSecret', 'ListSecretVersionIds',
      'GetSecretValue', 'GetSecretValue']);
  });

  test('PutSecretValue with the token fills the pending version; GetSecretValue by id and stage then reads it', async () => {
    emu.beginRotation(secretArn, TOKEN_2);
    expect(await put(TOKEN_2, 'two', ['AWSPENDING'])).toMatchObject({ VersionId: TOKEN_2, VersionStages: ['AWSPENDING'] });
    const read = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionId: TOKEN_2, VersionStage: 'AWSPENDING' }));
    expect(read).toMatchObject({ VersionId: TOKEN_2, SecretString: 'two', VersionStages: ['AWSPENDING'] });
    expect(emu.currentSecretValue(SECRET)).toBe('one');

    expect(await put(TOKEN_2, 'two', ['AWSPENDING'])).toMatchObject({ VersionStages: ['AWSPENDING'] });
    expect(await failure(put(TOKEN_2, 'changed', ['AWSPENDING']))).toBeInstanceOf(ResourceExistsException);
    const mismatch = await failure(secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionId: TOKEN_2, VersionStage: 'AWSCURRENT' })));
    expect(mismatch).toBeInstanceOf(InvalidRequestException);
  });

  test('finishing moves AWSCURRENT to the new version, AWSPREVIOUS to the old one, and takes AWSPENDING off', async () => {
    emu.beginRotation(secretArn, TOKEN_2);
    await put(TOKEN_2, 'two', ['AWSPENDING']);
    await moveStage('AWSCURRENT', TOKEN_2, TOKEN_1);
    expect(await describedStages()).toEqual({ [TOKEN_1]: ['AWSPREVIOUS'], [TOKEN_2]: ['AWSPENDING', 'AWSCURRENT'] });
    const wrong = await failure(moveStage('AWSPENDING', undefined, TOKEN_1));
    expect(wrong).toBeInstanceOf(InvalidParameterException);
    await moveStage('AWSPENDING', undefined, TOKEN_2);
    expect(await describedStages()).toEqual({ [TOKEN_1]: ['AWSPREVIOUS'], [TOKEN_2]: ['AWSCURRENT'] });
    expect(emu.currentSecretValue(SECRET)).toBe('two');

    await rotate(TOKEN_3, 'three', TOKEN_2);
    expect(await describedStages()).toEqual({ [TOKEN_2]: ['AWSPREVIOUS'], [TOKEN_3]: ['AWSCURRENT'] });
    expect(emu.secretVersions(SECRET).map((version) => version.stages)).toEqual([[], ['AWSPREVIOUS'], ['AWSCURRENT']]);
  });

  test('an unfinished rotation blocks a new one, but not its own retry (same token)', async () => {
    emu.beginRotation(secretArn, TOKEN_2);
    await put(TOKEN_2, 'two', ['AWSPENDING']);
    expect(() => emu.beginRotation(secretArn, TOKEN_3)).toThrow("A previous rotation isn't complete. That rotation will be reattempted.");
    emu.beginRotation(secretArn, TOKEN_2);
    expect(emu.secretVersions(SECRET)).toEqual([
      { versionId: TOKEN_1, stages: ['AWSCURRENT'], secretString: 'one' },
      { versionId: TOKEN_2, stages: ['AWSPENDING'], secretString: 'two' },
    ]);
    expect(() => emu.beginRotation(secretArn, TOKEN_1)).toThrow(/previous rotation/);
  });

  test('AWSPENDING left on the current version (finish stopped halfway) moves to the next rotation', async () => {
    emu.beginRotation(secretArn, TOKEN_2);
    await put(TOKEN_2, 'two', ['AWSPENDING']);
    await moveStage('AWSCURRENT', TOKEN_2, TOKEN_1);
    emu.beginRotation(secretArn, TOKEN_3);
    expect(await describedStages()).toEqual({ [TOKEN_1]: ['AWSPREVIOUS'], [TOKEN_2]: ['AWSCURRENT'], [TOKEN_3]: ['AWSPENDING'] });
    expect(() => emu.beginRotation(secretArn, 'too-short')).toThrow(/32 to 64/);
  });
});
