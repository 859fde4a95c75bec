import { ResolveContext, resolve } from '../../local/template';

const context: ResolveContext = {
  region: 'us-east-1',
  accountId: '123456789012',
  stackName: 'Stack',
  refs: { Secret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:KeySecret-AbCdEf' },
  attributes: { Key: { AccessKeyId: 'AKIAKEY0000000000001' } },
};

test('Fn::Select picks an item of a list that holds Ref and Fn::GetAtt (how a consumer is ordered after the key)', () => {
  const arn = { 'Fn::Select': [0, [{ Ref: 'Secret' }, { 'Fn::GetAtt': ['Key', 'AccessKeyId'] }]] };
  expect(resolve(arn, context)).toBe(context.refs.Secret);
  expect(resolve({ 'Fn::Select': [1, [{ Ref: 'Secret' }, { 'Fn::GetAtt': ['Key', 'AccessKeyId'] }]] }, context)).toBe('AKIAKEY0000000000001');
});

test('Fn::Select fails, as CloudFormation does, on a reference that is not there yet', () => {
  expect(() => resolve({ 'Fn::Select': [0, [{ Ref: 'Secret' }, { 'Fn::GetAtt': ['Missing', 'AccessKeyId'] }]] }, context))
    .toThrow('Fn::GetAtt Missing.AccessKeyId: not provisioned');
});

test('Fn::Select refuses an index outside the list', () => {
  expect(() => resolve({ 'Fn::Select': [2, ['a', 'b']] }, context)).toThrow('Fn::Select 2: not an index of ["a","b"]');
  expect(() => resolve({ 'Fn::Select': [-1, ['a']] }, context)).toThrow('Fn::Select -1');
});

test('Fn::Split and Fn::Select take the secret name out of its ARN', () => {
  const name = { 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: 'Secret' }] }] };
  expect(resolve(name, context)).toBe('KeySecret-AbCdEf');
});
