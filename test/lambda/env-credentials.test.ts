import { defaultProvider } from '../../lambda/env-credentials';

describe('the bundles\' credential provider', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('reads the Lambda runtime\'s credentials from the environment', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAFUNCTIONROLE0001';
    process.env.AWS_SECRET_ACCESS_KEY = 'function-role-secret';
    process.env.AWS_SESSION_TOKEN = 'function-role-session';

    expect(await defaultProvider()()).toEqual(expect.objectContaining({
      accessKeyId: 'AKIAFUNCTIONROLE0001', secretAccessKey: 'function-role-secret', sessionToken: 'function-role-session',
    }));
  });

  test('fails when the environment holds no credentials', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;

    await expect(defaultProvider()()).rejects.toThrow(/Unable to find environment variable credentials/);
  });
});
