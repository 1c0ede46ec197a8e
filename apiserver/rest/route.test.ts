import { describe, expect, it } from 'vitest';
import { apiResourceList, wantsAggregated } from './discovery.js';
import { unknownFields } from './openapi.js';
import { decodeProtobufObject } from './protobuf.js';
import { parsePath } from './route.js';
import { resourceInfo } from '../../api/resources.js';

describe('parsePath', () => {
  it('tells namespace subresources from namespaced collections', () => {
    expect(parsePath('/api/v1/namespaces/team-a/pods')).toMatchObject({ kind: 'resource', namespace: 'team-a', name: '', subresource: '' });
    expect(parsePath('/api/v1/namespaces/team-a/status')).toMatchObject({ kind: 'resource', namespace: '', name: 'team-a', subresource: 'status' });
    expect(parsePath('/api/v1/namespaces/team-a')).toMatchObject({ kind: 'resource', name: 'team-a' });
    expect(parsePath('/apis/apps/v1/namespaces/x/deployments/web/scale')).toMatchObject({ namespace: 'x', name: 'web', subresource: 'scale' });
    expect(parsePath('/api/v1/pods')).toMatchObject({ kind: 'resource', namespace: '', name: '' });
    expect(parsePath('/apis/apps/v1')).toEqual({ kind: 'discovery', path: '/apis/apps/v1' });
    expect(parsePath('/api/v1/widgets').kind).toBe('notfound');
    expect(parsePath('/api/v1/namespaces/x/configmaps/c/scale').kind).toBe('notfound');
  });

  it('serves pods/ephemeralcontainers (kubectl debug) and lists it in discovery as a Pod with get/patch/update', () => {
    expect(parsePath('/api/v1/namespaces/x/pods/web/ephemeralcontainers')).toMatchObject({ kind: 'resource', namespace: 'x', name: 'web', subresource: 'ephemeralcontainers' });
    expect(parsePath('/api/v1/namespaces/x/configmaps/c/ephemeralcontainers').kind).toBe('notfound');
    const core = apiResourceList('', 'v1') as { resources: { name: string; kind: string; verbs: string[] }[] };
    expect(core.resources.find((r) => r.name === 'pods/ephemeralcontainers')).toMatchObject({ kind: 'Pod', verbs: ['get', 'patch', 'update'] });
  });
});

describe('discovery negotiation', () => {
  it('picks the aggregated discovery version kubectl asks for first', () => {
    expect(wantsAggregated('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json')).toBe('v2');
    expect(wantsAggregated('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json')).toBe('v2beta1');
    expect(wantsAggregated('application/json')).toBeUndefined();
  });
});

describe('field validation', () => {
  it('names unknown fields by path and accepts known ones, maps and int-or-string', () => {
    const pods = resourceInfo('pods');
    if (!pods) throw new Error('pods not served');
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { any: 'x' } }, spec: { containers: [{ name: 'c', image: 'i', bogus: 1, ports: [{ containerPort: 80 }] }], extra: true } };
    expect(unknownFields(pods, pod)).toEqual(['spec.containers[0].bogus', 'spec.extra']);
    expect(unknownFields(pods, { spec: { $setElementOrder: [] } }, true)).toEqual([]);
  });
});

describe('protobuf bodies', () => {
  it('decodes a runtime.Unknown-framed ConfigMap', () => {
    const str = (field: number, s: string | Buffer): Buffer => {
      const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
      return Buffer.concat([Buffer.from([(field << 3) | 2, b.length]), b]);
    };
    const meta = Buffer.concat([str(1, 'cfg'), str(3, 'default')]);
    const entry = Buffer.concat([str(1, 'k'), str(2, 'v')]);
    const cm = Buffer.concat([str(1, meta), str(2, entry)]);
    const typeMeta = Buffer.concat([str(1, 'v1'), str(2, 'ConfigMap')]);
    const body = Buffer.concat([Buffer.from('k8s\0', 'binary'), str(1, typeMeta), str(2, cm)]);
    expect(decodeProtobufObject(body)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { k: 'v' } });
  });
});
