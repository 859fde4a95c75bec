import { bucketNameProblems, secretNameProblems, serialProblems } from '../../lib/validation';

const LENGTH = (n: number) => `must be 3 to 54 characters long (it has ${n})`;
const CHARACTERS = 'must use only lowercase letters, digits and hyphens, and start and end with a letter or digit';
const DOUBLE_HYPHEN = 'must not contain two hyphens in a row';

describe('bucketNameProblems', () => {
  test.each(['abc', 'a'.repeat(54), 'my-bucket', '0-9', 'a-b-c', '123'])('%j is valid', (bucketName) => {
    expect(bucketNameProblems(bucketName)).toEqual([]);
  });

  test.each<[string, string[]]>([
    ['ab', [LENGTH(2), CHARACTERS]],
    ['', [LENGTH(0), CHARACTERS]],
    ['a'.repeat(55), [LENGTH(55), CHARACTERS]],
    ['Upper', [CHARACTERS]],
    ['under_score', [CHARACTERS]],
    ['dotted.name', [CHARACTERS]],
    ['-abc', [CHARACTERS]],
    ['abc-', [CHARACTERS]],
    ['a--b', [DOUBLE_HYPHEN]],
    ['amzn-s3-demo-x', ['must not start with the reserved prefix "amzn-s3-demo-"']],
    ['sthree-x', ['must not start with the reserved prefix "sthree-"']],
    ['x-s3alias', ['must not end with the reserved suffix "-s3alias"']],
    ['Sthree--x-s3alias', [CHARACTERS, DOUBLE_HYPHEN, 'must not end with the reserved suffix "-s3alias"']],
    ['sthree-x-s3alias', ['must not start with the reserved prefix "sthree-"', 'must not end with the reserved suffix "-s3alias"']],
  ])('%j: %j', (bucketName, problems) => {
    expect(bucketNameProblems(bucketName)).toEqual(problems);
  });
});

describe('serialProblems', () => {
  test.each([0, 1, 3, Number.MAX_SAFE_INTEGER])('%p is valid', (serial) => {
    expect(serialProblems(serial)).toEqual([]);
  });

  test.each([-1, 1.5, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER + 1])('%p is not', (serial) => {
    expect(serialProblems(serial)).toEqual([`must be a non-negative integer (got ${serial})`]);
  });
});

describe('secretNameProblems', () => {
  test.each(['a', 'app/lightsail-key', 'A-Z_a-z/0.9+=@', 'a'.repeat(512)])('%j is valid', (secretName) => {
    expect(secretNameProblems(secretName)).toEqual([]);
  });

  const CHARS = 'must use only letters, digits and the characters /_+=.@-';
  test.each<[string, string[]]>([
    ['', ['must be 1 to 512 characters long (it has 0)', CHARS]],
    ['a'.repeat(513), ['must be 1 to 512 characters long (it has 513)']],
    ['has space', [CHARS]],
    ['hash#', [CHARS]],
    ['colon:name', [CHARS]],
    [`${'a'.repeat(512)}!`, ['must be 1 to 512 characters long (it has 513)', CHARS]],
  ])('%j: %j', (secretName, problems) => {
    expect(secretNameProblems(secretName)).toEqual(problems);
  });
});
