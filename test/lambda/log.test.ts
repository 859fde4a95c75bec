import { logStep } from '../../lambda/log';

describe('logStep', () => {
  let lines: unknown[][];

  beforeEach(() => {
    lines = [];
    jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args);
    });
  });

  afterEach(() => jest.restoreAllMocks());

  test('writes one JSON line: the step first, then the ids as given', () => {
    logStep('key-created', { bucketName: 'my-bucket', accessKeyId: 'AKIAEXAMPLE000000001' });

    expect(lines).toEqual([['{"step":"key-created","bucketName":"my-bucket","accessKeyId":"AKIAEXAMPLE000000001"}']]);
  });

  test('leaves out ids that are undefined', () => {
    logStep('slot-freed', { bucketName: 'my-bucket', stage: undefined });

    expect(lines).toEqual([['{"step":"slot-freed","bucketName":"my-bucket"}']]);
  });
});
