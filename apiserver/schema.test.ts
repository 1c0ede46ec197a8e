import { describe, expect, it } from 'vitest';
import { RESOURCES, resourceInfo, type ResourceInfo } from '../api/resources.js';
import { decodeObject, defName, definitions, typeError, unknownFields } from './schema.js';

function info(resource: string): ResourceInfo {
  const i = resourceInfo(resource);
  if (!i) throw new Error(`${resource} is not served`);
  return i;
}

const pod = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
  ...extra,
});

const deployment = (spec: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd' },
  spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
});

/** [what, resource, body, field of the first mismatch, Go's message for it] */
const WRONG: [string, string, Record<string, unknown>, string, string][] = [
  [
    'string where a list of structs belongs (the scheduler-killing pod)',
    'pods',
    pod({ affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: 'x' } } }),
    'spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution',
    'json: cannot unmarshal string into Go struct field NodeAffinity.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution of type []v1.PreferredSchedulingTerm',
  ],
  ['string where a struct belongs', 'pods', pod({ affinity: 'x' }), 'spec.affinity', 'json: cannot unmarshal string into Go struct field PodSpec.spec.affinity of type v1.Affinity'],
  ['array where a struct belongs', 'pods', { spec: [] }, 'spec', 'json: cannot unmarshal array into Go struct field Pod.spec of type v1.PodSpec'],
  ['object where a list belongs', 'pods', pod({ containers: { name: 'c' } }), 'spec.containers', 'json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container'],
  ['string as a list item of structs', 'pods', pod({ containers: ['c'] }), 'spec.containers[0]', 'json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type v1.Container'],
  [
    'string where an int32 belongs (index-free Go path, precise field)',
    'pods',
    pod({ containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }, { containerPort: '80' }] }] }),
    'spec.containers[0].ports[1].containerPort',
    'json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32',
  ],
  [
    'a fraction where an int belongs',
    'pods',
    pod({ containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80.5 }] }] }),
    'spec.containers[0].ports[0].containerPort',
    'json: cannot unmarshal number 80.5 into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32',
  ],
  ['array where a map belongs', 'pods', { metadata: { labels: ['a'] } }, 'metadata.labels', 'json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string'],
  ['number as a map value', 'pods', { metadata: { labels: { a: 1 } } }, 'metadata.labels[a]', 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string'],
  ['string where a bool belongs', 'pods', pod({ hostNetwork: 'yes' }), 'spec.hostNetwork', 'json: cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool'],
  ['bool where a string belongs', 'pods', pod({ nodeName: true }), 'spec.nodeName', 'json: cannot unmarshal bool into Go struct field PodSpec.spec.nodeName of type string'],
  [
    'object where a quantity belongs',
    'pods',
    pod({ containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: { m: 1 } } } }] }),
    'spec.containers[0].resources.limits[cpu]',
    'json: cannot unmarshal object into Go struct field ResourceRequirements.spec.containers.resources.limits of type resource.Quantity',
  ],
  [
    'bool where int-or-string belongs',
    'services',
    { spec: { ports: [{ port: 80, targetPort: true }] } },
    'spec.ports[0].targetPort',
    'json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type intstr.IntOrString',
  ],
  ['string where replicas (int) belongs', 'deployments', deployment({ replicas: 'three' }), 'spec.replicas', 'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32'],
  [
    'number where a nested string belongs, three structs down',
    'deployments',
    deployment({ template: { spec: { containers: [{ name: 'c', image: 7 }] } } }),
    'spec.template.spec.containers[0].image',
    'json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string',
  ],
  ['number where Secret data (map of strings) belongs', 'secrets', { data: 5 }, 'data', 'json: cannot unmarshal number into Go struct field Secret.data of type map[string]string'],
  ['array where ConfigMap data values belong', 'configmaps', { data: { k: ['v'] } }, 'data[k]', 'json: cannot unmarshal array into Go struct field ConfigMap.data of type string'],
  ['string where a Job int belongs', 'jobs', { spec: { backoffLimit: '6', template: {} } }, 'spec.backoffLimit', 'json: cannot unmarshal string into Go struct field JobSpec.spec.backoffLimit of type int32'],
  ['number where a Lease holder (string) belongs', 'leases', { spec: { holderIdentity: 3 } }, 'spec.holderIdentity', 'json: cannot unmarshal number into Go struct field LeaseSpec.spec.holderIdentity of type string'],
  ['string where Node taints (list) belong', 'nodes', { spec: { taints: 'NoSchedule' } }, 'spec.taints', 'json: cannot unmarshal string into Go struct field NodeSpec.spec.taints of type []v1.Taint'],
  [
    'string where an EndpointSlice list of addresses belongs',
    'endpointslices',
    { addressType: 'IPv4', endpoints: [{ addresses: '10.0.0.1' }] },
    'endpoints[0].addresses',
    'json: cannot unmarshal string into Go struct field Endpoint.endpoints.addresses of type []string',
  ],
  ['number where a PriorityClass description belongs', 'priorityclasses', { value: 10, description: 1 }, 'description', 'json: cannot unmarshal number into Go struct field PriorityClass.description of type string'],
  [
    'not a time where a Time belongs',
    'pods',
    { metadata: { creationTimestamp: 'yesterday' } },
    'metadata.creationTimestamp',
    'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as RFC 3339',
  ],
];

describe('decodeObject: wrong JSON types', () => {
  it.each(WRONG)('%s', (_what, resource, body, field, message) => {
    const { mismatches } = decodeObject(info(resource), structuredClone(body));
    expect(mismatches[0]).toEqual({ field, message });
  });

  it('reports every mismatch, not only the first', () => {
    const { mismatches } = decodeObject(info('pods'), pod({ hostNetwork: 'yes', nodeName: 1, containers: 'c' }));
    expect(mismatches.map((m) => m.field)).toEqual(['spec.containers', 'spec.hostNetwork', 'spec.nodeName']);
  });

  it('words the 400 as kube-apiserver does and names every field in the causes', () => {
    const err = typeError(info('deployments'), 'd', decodeObject(info('deployments'), deployment({ replicas: 'three', paused: 'no' })).mismatches);
    expect(err.code).toBe(400);
    expect(err.reason).toBe('BadRequest');
    expect(err.message).toBe('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
    expect(err.details?.causes?.map((c) => c.field)).toEqual(['spec.replicas', 'spec.paused']);
  });
});

describe('decodeObject: what the Go decoder accepts', () => {
  const OK: [string, string, Record<string, unknown>][] = [
    ['a plain pod', 'pods', pod({})],
    ['int-or-string as int and as string', 'services', { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 81, targetPort: 'http' }] } }],
    ['quantities as strings and numbers', 'pods', pod({ containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '100m', memory: 1024 } } }] })],
    ['times with and without fractions and offsets', 'pods', { metadata: { creationTimestamp: '2024-01-02T03:04:05Z', deletionTimestamp: '2024-01-02T03:04:05.123456+02:00' } }],
    ['free-form objects (ControllerRevision.data, managedFields[].fieldsV1)', 'controllerrevisions', { revision: 1, data: { spec: { anything: [1, 'x'] } }, metadata: { managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': { '.': {} } } }] } }],
    ['int64 values beyond int32 (image sizes)', 'nodes', { status: { images: [{ names: ['x'], sizeBytes: 3_000_000_000 }] } }],
    ['every served kind, empty', 'pods', {}],
  ];
  it.each(OK)('%s', (_what, resource, body) => {
    expect(decodeObject(info(resource), structuredClone(body)).mismatches).toEqual([]);
  });

  it('an empty object of every served kind decodes', () => {
    for (const r of RESOURCES) expect(decodeObject(r, { apiVersion: 'v1', kind: r.kind, metadata: { name: 'x' } }).mismatches, r.resource).toEqual([]);
  });

  it('every served kind has a schema (a new resource gets the check for free)', () => {
    for (const r of RESOURCES) expect(definitions()[defName(r)], r.resource).toBeDefined();
  });
});

describe('decodeObject: normalises like a decode/encode round trip', () => {
  it('drops null fields and zeroes null list items and map values', () => {
    const body = pod({ affinity: null, containers: [{ name: 'c', image: 'i', args: ['a', null] }] }, { status: null });
    (body.metadata as Record<string, unknown>).annotations = { a: null };
    expect(decodeObject(info('pods'), body).mismatches).toEqual([]);
    expect(body).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels: { app: 'web' }, annotations: { a: '' } },
      spec: { containers: [{ name: 'c', image: 'i', args: ['a', ''] }] },
    });
  });

  it('turns a numeric quantity into its string form', () => {
    const body = pod({ containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: 2, memory: 0.5 } } }] });
    decodeObject(info('pods'), body);
    expect(((body.spec as { containers: { resources: unknown }[] }).containers[0]).resources).toEqual({ limits: { cpu: '2', memory: '0.5' } });
  });
});

describe('unknownFields', () => {
  it('lists fields the schema does not have, but not inside free-form objects', () => {
    const body = { metadata: { managedFields: [{ fieldsV1: { 'f:metadata': {} } }] }, spec: { containers: [{ name: 'c', bogus: 1 }], extra: true } };
    expect(unknownFields(info('pods'), body)).toEqual(['spec.containers[0].bogus', 'spec.extra']);
  });

  it('does not type-check or rewrite (it runs on patch bodies)', () => {
    const body = { spec: { containers: 'x', affinity: null } };
    expect(unknownFields(info('pods'), body, true)).toEqual([]);
    expect(body).toEqual({ spec: { containers: 'x', affinity: null } });
  });
});

describe('decodeObject: objects built in process', () => {
  it('treats a property set to undefined as absent (as JSON would)', () => {
    const body = { metadata: { name: 'x', generation: undefined, labels: { a: undefined } }, spec: { containers: [{ name: 'c', image: 'i' }], affinity: undefined } };
    expect(decodeObject(info('pods'), body).mismatches).toEqual([]);
  });
});
