import { RESOURCES } from '../../../api/resources.js';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { openapiV2, openapiV2Protobuf } from '../openapi.js';

// An independent decoder for the parts of gnostic's openapi.v2 messages kubectl reads (field numbers
// from OpenAPIv2.proto): its PATCH-operation query-parameter check and its schema models.
const root = protobuf.Root.fromJSON({
  nested: {
    Document: { fields: { swagger: { id: 1, type: 'string' }, info: { id: 2, type: 'Info' }, paths: { id: 8, type: 'Paths' }, definitions: { id: 9, type: 'Definitions' } } },
    Info: { fields: { title: { id: 1, type: 'string' }, version: { id: 2, type: 'string' } } },
    Paths: { fields: { path: { id: 2, type: 'NamedPathItem', rule: 'repeated' } } },
    NamedPathItem: { fields: { name: { id: 1, type: 'string' }, value: { id: 2, type: 'PathItem' } } },
    PathItem: { fields: { get: { id: 2, type: 'Operation' }, post: { id: 4, type: 'Operation' }, patch: { id: 8, type: 'Operation' } } },
    Operation: { fields: { operationId: { id: 5, type: 'string' }, parameters: { id: 8, type: 'ParametersItem', rule: 'repeated' }, vendorExtension: { id: 13, type: 'NamedAny', rule: 'repeated' } } },
    ParametersItem: { fields: { parameter: { id: 1, type: 'Parameter' } } },
    Parameter: { fields: { nonBodyParameter: { id: 2, type: 'NonBodyParameter' } } },
    NonBodyParameter: { fields: { query: { id: 3, type: 'QueryParameterSubSchema' } } },
    QueryParameterSubSchema: { fields: { in: { id: 2, type: 'string' }, name: { id: 4, type: 'string' }, type: { id: 6, type: 'string' } } },
    NamedAny: { fields: { name: { id: 1, type: 'string' }, value: { id: 2, type: 'Any' } } },
    Any: { fields: { yaml: { id: 2, type: 'string' } } },
    Definitions: { fields: { additionalProperties: { id: 1, type: 'NamedSchema', rule: 'repeated' } } },
    NamedSchema: { fields: { name: { id: 1, type: 'string' }, value: { id: 2, type: 'Schema' } } },
    Schema: {
      fields: {
        ref: { id: 1, type: 'string' },
        description: { id: 4, type: 'string' },
        type: { id: 22, type: 'TypeItem' },
        items: { id: 23, type: 'ItemsItem' },
        properties: { id: 25, type: 'Definitions' },
        vendorExtension: { id: 31, type: 'NamedAny', rule: 'repeated' },
      },
    },
    TypeItem: { fields: { value: { id: 1, type: 'string', rule: 'repeated' } } },
    ItemsItem: { fields: { schema: { id: 1, type: 'Schema', rule: 'repeated' } } },
  },
});

interface NamedAny { name: string; value?: { yaml?: string } }
interface Schema { ref?: string; description?: string; type?: { value: string[] }; items?: { schema: Schema[] }; properties?: { additionalProperties: { name: string; value: Schema }[] }; vendorExtension?: NamedAny[] }
interface Operation { operationId?: string; parameters?: { parameter?: { nonBodyParameter?: { query?: { in: string; name: string } } } }[]; vendorExtension?: NamedAny[] }
interface Doc {
  swagger: string;
  paths: { path: { name: string; value: { patch?: Operation } }[] };
  definitions: { additionalProperties: { name: string; value: Schema }[] };
}

const doc = root.lookupType('Document').toObject(root.lookupType('Document').decode(openapiV2Protobuf()), { defaults: false }) as unknown as Doc;
const ext = (list: NamedAny[] | undefined, name: string): unknown => {
  const yaml = list?.find((e) => e.name === name)?.value?.yaml;
  return yaml === undefined ? undefined : JSON.parse(yaml);
};

describe('openapi v2 protobuf', () => {
  it('lists fieldValidation on the PATCH operation of each kind, found by its group-version-kind', () => {
    expect(doc.swagger).toBe('2.0');
    const patch = doc.paths.path.map((p) => p.value.patch).find((op) => (ext(op?.vendorExtension, 'x-kubernetes-group-version-kind') as { kind?: string } | undefined)?.kind === 'Deployment');
    expect(ext(patch?.vendorExtension, 'x-kubernetes-group-version-kind')).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
    const query = patch?.parameters?.map((p) => p.parameter?.nonBodyParameter?.query);
    expect(query).toContainEqual(expect.objectContaining({ in: 'query', name: 'fieldValidation' }));
    // Every stored kind has a PATCH operation (the access reviews are create-only).
    expect(doc.paths.path.filter((p) => p.value.patch).length).toBe(RESOURCES.filter((r) => !r.virtual).length);
  });

  it('carries every definition with plain $refs, types, list items and vendor extensions', () => {
    const defs = new Map(doc.definitions.additionalProperties.map((d) => [d.name, d.value]));
    expect(defs.size).toBe(Object.keys((openapiV2() as { definitions: object }).definitions).length);
    const pod = defs.get('io.k8s.api.core.v1.Pod');
    expect(ext(pod?.vendorExtension, 'x-kubernetes-group-version-kind')).toEqual([{ group: '', version: 'v1', kind: 'Pod' }]);
    const podProps = new Map(pod?.properties?.additionalProperties.map((p) => [p.name, p.value]));
    // A described reference (`allOf: [{$ref}]` in the vendored schemas) is a plain v2 `$ref`.
    expect(podProps.get('spec')?.ref).toBe('#/definitions/io.k8s.api.core.v1.PodSpec');
    const containers = defs.get('io.k8s.api.core.v1.PodSpec')?.properties?.additionalProperties.find((p) => p.name === 'containers')?.value;
    expect(containers?.type?.value).toEqual(['array']);
    expect(containers?.items?.schema[0].ref).toBe('#/definitions/io.k8s.api.core.v1.Container');
    expect(ext(containers?.vendorExtension, 'x-kubernetes-patch-merge-key')).toBe('name');
    expect(containers?.description).toMatch(/^List of containers belonging to the pod/);
  });
});
