/** Secrets Manager dynamic references and ECS ValueFrom, read from the emulated Secrets Manager. */
import { PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { AwsEmulator } from '../../local/emulator';
import { parseDynamicReference, parseValueFrom, readTaskSecrets, resolveDynamicReferences } from '../../local/dynamic-references';

let emulator: AwsEmulator;
let client: SecretsManagerClient;
let arn: string;
const FIRST = '11111111-1111-4111-8111-111111111111';
const SECOND = '22222222-2222-4222-8222-222222222222';

beforeAll(async () => {
  emulator = await AwsEmulator.start();
  client = new SecretsManagerClient({ endpoint: emulator.endpoint, region: emulator.region, credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' } });
});

afterAll(async () => {
  client.destroy();
  await emulator.stop();
});

beforeEach(() => {
  emulator.reset();
  arn = emulator.createSecret('consumer-secret').arn;
});

async function put(token: string, value: object): Promise<void> {
  await client.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token, SecretString: JSON.stringify(value) }));
}

test('a secret ARN (six colons) is one segment; empty segments are absent', () => {
  expect(parseDynamicReference(`${arn}:SecretString:password::`)).toEqual({ secretId: arn, jsonKey: 'password' });
  expect(parseDynamicReference('by-name:SecretString::AWSPREVIOUS:')).toEqual({ secretId: 'by-name', versionStage: 'AWSPREVIOUS' });
  expect(parseDynamicReference('by-name')).toEqual({ secretId: 'by-name' });
  expect(() => parseDynamicReference('by-name:SecretBinary')).toThrow('the only value it can select is SecretString');
  expect(parseValueFrom(`${arn}:password:AWSCURRENT:`)).toEqual({ secretId: arn, jsonKey: 'password', versionStage: 'AWSCURRENT' });
});

test('references resolve to the AWSCURRENT value by default, inside longer strings too, and are recorded', async () => {
  await put(FIRST, { user: 'a', password: 'one' });
  await put(SECOND, { user: 'a', password: 'two' });

  const { value, references } = resolveDynamicReferences({
    Environment: [`pw={{resolve:secretsmanager:${arn}:SecretString:password::}};`, 7],
    Previous: '{{resolve:secretsmanager:consumer-secret:SecretString:password:AWSPREVIOUS:}}',
    ById: `{{resolve:secretsmanager:${arn}:SecretString:password::${FIRST}}}`,
  }, emulator);

  expect(value).toEqual({ Environment: ['pw=two;', 7], Previous: 'one', ById: 'one' });
  expect(references.map((reference) => [reference.resolvedVersionId, reference.value])).toEqual([[SECOND, 'two'], [FIRST, 'one'], [FIRST, 'one']]);
});

test('reads fail with the messages of Secrets Manager and CloudFormation', async () => {
  const resolveOne = (reference: string) => () => resolveDynamicReferences({ Value: reference }, emulator);
  expect(resolveOne(`{{resolve:secretsmanager:${arn}:SecretString:password::}}`))
    .toThrow("ResourceNotFoundException: Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
  await put(FIRST, { user: 'a' });
  expect(resolveOne(`{{resolve:secretsmanager:${arn}:SecretString:password::}}`)).toThrow('Could not find a value associated with JSONKey in SecretString');
  expect(resolveOne(`{{resolve:secretsmanager:${arn}:SecretString:user::${SECOND}}}`))
    .toThrow(`Secrets Manager can't find the specified secret value for VersionId: ${SECOND}`);
  expect(resolveOne(`{{resolve:secretsmanager:${arn}:SecretString:user:AWSPREVIOUS:${FIRST}}}`))
    .toThrow('You provided a VersionStage that is not associated to the provided VersionId.');
  expect(resolveOne('{{resolve:secretsmanager:no-such-secret}}')).toThrow("Secrets Manager can't find the specified secret.");
  expect(resolveOne('{{resolve:ssm:/my/parameter}}')).toThrow('only secretsmanager dynamic references');
});

test('an ECS task reads its secrets when it starts, or fails to start as ECS reports it', async () => {
  const definitions = [{ Name: 'app', Secrets: [{ Name: 'PASSWORD', ValueFrom: `${arn}:password::` }] }];
  expect(() => readTaskSecrets(definitions, emulator)).toThrow(new RegExp(
    '^ResourceInitializationError: unable to pull secrets or registry auth: .* failed to fetch secret .* from secrets manager: ' +
    "ResourceNotFoundException: Secrets Manager can't find the specified secret value for staging label: AWSCURRENT$"));

  await put(FIRST, { password: 'one' });
  await put(SECOND, { password: 'two' });
  await client.send(new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSCURRENT', MoveToVersionId: FIRST, RemoveFromVersionId: SECOND }));

  expect(readTaskSecrets(definitions, emulator).environment).toEqual({ app: { PASSWORD: 'one' } });
});
