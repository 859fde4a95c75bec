import { LightsailServiceException, NotFoundException } from '@aws-sdk/client-lightsail';
import { describeError, errorName, isLightsailNotFound } from '../../lambda/sdk-errors';

describe('isLightsailNotFound', () => {
  test('accepts NotFoundException', () => {
    expect(isLightsailNotFound(new NotFoundException({ message: 'no such bucket', $metadata: {} }))).toBe(true);
  });

  test('accepts the base exception when the body code is DoesNotExist (older SDKs)', () => {
    const error = Object.assign(
      new LightsailServiceException({ name: 'LightsailServiceException', $fault: 'client', $metadata: {}, message: 'gone' }),
      { code: 'DoesNotExist' },
    );
    expect(isLightsailNotFound(error)).toBe(true);
  });

  test('accepts a message that says DoesNotExist', () => {
    expect(isLightsailNotFound(new Error('DoesNotExist: bucket my-bucket'))).toBe(true);
  });

  test.each([
    new Error('AccessDenied'),
    Object.assign(new Error('throttled'), { name: 'ThrottlingException' }),
    'DoesNotExist as a bare string is not an error object',
    undefined,
    null,
  ])('rejects anything else: %p', (error) => {
    expect(isLightsailNotFound(error)).toBe(false);
  });
});

describe('describeError', () => {
  test('names the exception and its message', () => {
    expect(describeError(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))).toBe('ThrottlingException: slow down');
  });

  test('leaves out the generic name Error', () => {
    expect(describeError(new Error('plain'))).toBe('plain');
  });

  test('falls back to the text of a non-error value', () => {
    expect(describeError('a string')).toBe('a string');
    expect(describeError(undefined)).toBe('undefined');
  });

  test('never serialises other fields of the error', () => {
    const error = Object.assign(new Error('failed'), { name: 'ValidationException', $response: { body: 'SecretString=hunter2' } });
    expect(describeError(error)).toBe('ValidationException: failed');
  });
});

describe('errorName', () => {
  test('reads a string name only', () => {
    expect(errorName(Object.assign(new Error('x'), { name: 'ResourceNotFoundException' }))).toBe('ResourceNotFoundException');
    expect(errorName({ name: 42 })).toBeUndefined();
    expect(errorName(undefined)).toBeUndefined();
  });
});

describe('describeError edge cases', () => {
  test('an empty message falls back to the error\'s own text', () => {
    expect(describeError(Object.assign(new Error(''), { name: 'ThrottlingException' }))).toBe('ThrottlingException: ThrottlingException');
  });

  test('an empty or non-string name is left out', () => {
    expect(describeError({ name: '', message: 'no name' })).toBe('no name');
    expect(describeError({ name: 7, message: 'numeric name' })).toBe('numeric name');
  });

  test('a non-string message falls back to the value\'s text', () => {
    expect(describeError({ name: 'OddError', message: 42, toString: () => 'odd error text' })).toBe('OddError: odd error text');
  });

  test('null and numbers are described by their text', () => {
    expect(describeError(null)).toBe('null');
    expect(describeError(404)).toBe('404');
  });
});

describe('isLightsailNotFound edge cases', () => {
  test('looks for DoesNotExist in the code alone', () => {
    expect(isLightsailNotFound({ name: 'LightsailServiceException', code: 'DoesNotExist', message: 'gone' })).toBe(true);
  });

  test('ignores a code or message that is not a string', () => {
    expect(isLightsailNotFound({ name: 'LightsailServiceException', code: ['DoesNotExist'], message: { text: 'DoesNotExist' } })).toBe(false);
  });

  test('the name must be exactly NotFoundException', () => {
    expect(isLightsailNotFound({ name: 'NotFound', message: 'gone' })).toBe(false);
  });
});

describe('errorName edge cases', () => {
  test('null has no name', () => {
    expect(errorName(null)).toBeUndefined();
  });

  test('an empty name is still a name', () => {
    expect(errorName({ name: '' })).toBe('');
  });
});
