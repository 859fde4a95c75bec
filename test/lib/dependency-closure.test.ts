/**
 * The dependency closure the consumer tests rely on: it must follow every way a template orders
 * resources, and nothing else.
 */
import { TemplateJson, dependencyClosure, directDependencies, referencedIds, resourcesInCycles } from './dependency-closure';

const TEMPLATE: TemplateJson = {
  Parameters: { Stage: {} },
  Resources: {
    Bucket: { Properties: { Name: { Ref: 'AWS::StackName' } } },
    Key: { Properties: { BucketName: { Ref: 'Bucket' }, Stage: { Ref: 'Stage' } } },
    ByGetAtt: { Properties: { Id: { 'Fn::GetAtt': ['Key', 'AccessKeyId'] } } },
    ByShortGetAtt: { Properties: { Id: { 'Fn::GetAtt': 'Key.AccessKeyId' } } },
    BySub: { Properties: { Text: { 'Fn::Sub': 'id ${Key.AccessKeyId} in ${AWS::Region}, ${!Literal}' } } },
    BySubVariables: { Properties: { Text: { 'Fn::Sub': ['${Local}', { Local: { Ref: 'ByGetAtt' } }] } } },
    ByDependsOn: { DependsOn: 'Key' },
    ByDependsOnList: { DependsOn: ['Bucket'] },
    Nested: { Properties: { Value: { 'Fn::Join': ['', ['x', { 'Fn::Select': [0, [{ Ref: 'Bucket' }, { 'Fn::GetAtt': ['Key', 'Arn'] }]] }]] } } },
    Imported: { Properties: { Value: { 'Fn::ImportValue': 'Other:Export' } } },
    Loner: { Properties: { Value: 'Key' } },
  },
  Outputs: { Id: { Value: { 'Fn::GetAtt': ['ByGetAtt', 'Id'] } } },
};

describe('dependency closure of a template', () => {
  test('Ref and both spellings of Fn::GetAtt name their resource', () => {
    expect([...directDependencies(TEMPLATE, 'Key')]).toEqual(['Bucket']);
    expect([...directDependencies(TEMPLATE, 'ByGetAtt')]).toEqual(['Key']);
    expect([...directDependencies(TEMPLATE, 'ByShortGetAtt')]).toEqual(['Key']);
  });

  test('Fn::Sub names the resources of its ${...}, not escaped literals, pseudo parameters or its own variables', () => {
    expect([...referencedIds(TEMPLATE.Resources.BySub.Properties)]).toEqual(['Key', 'AWS::Region']);
    expect([...directDependencies(TEMPLATE, 'BySub')]).toEqual(['Key']);
    expect([...directDependencies(TEMPLATE, 'BySubVariables')]).toEqual(['ByGetAtt']);
  });

  test('DependsOn, as a string or a list, orders too', () => {
    expect([...directDependencies(TEMPLATE, 'ByDependsOn')]).toEqual(['Key']);
    expect([...directDependencies(TEMPLATE, 'ByDependsOnList')]).toEqual(['Bucket']);
  });

  test('references inside other functions count, even in a list element Fn::Select does not pick', () => {
    expect(new Set(directDependencies(TEMPLATE, 'Nested'))).toEqual(new Set(['Bucket', 'Key']));
  });

  test('imports, parameters and plain strings order nothing in this template', () => {
    expect(directDependencies(TEMPLATE, 'Imported').size).toBe(0);
    expect(directDependencies(TEMPLATE, 'Loner').size).toBe(0);
    expect(directDependencies(TEMPLATE, 'Bucket').size).toBe(0);
  });

  test('the closure is transitive, for a resource and for an output', () => {
    expect(dependencyClosure(TEMPLATE, 'BySubVariables')).toEqual(new Set(['ByGetAtt', 'Key', 'Bucket']));
    expect(dependencyClosure(TEMPLATE, { value: TEMPLATE.Outputs!.Id.Value })).toEqual(new Set(['ByGetAtt', 'Key', 'Bucket']));
    expect(dependencyClosure(TEMPLATE, 'Key').has('ByGetAtt')).toBe(false);
  });

  test('an unknown logical id is an error in the test, not an empty closure', () => {
    expect(() => directDependencies(TEMPLATE, 'Nope')).toThrow('no resource Nope in the template');
  });

  test('cycles are found', () => {
    expect(resourcesInCycles(TEMPLATE)).toEqual([]);
    const cyclic: TemplateJson = { Resources: { A: { Properties: { B: { Ref: 'B' } } }, B: { DependsOn: ['C'] }, C: { Properties: { A: { 'Fn::GetAtt': ['A', 'Arn'] } } }, D: { DependsOn: 'A' } } };
    expect(resourcesInCycles(cyclic)).toEqual(['A', 'B', 'C']);
  });
});
