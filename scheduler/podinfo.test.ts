import { describe, expect, it } from 'vitest';
import { makePod } from './testing.js';
import { compileAffinityTerm, newPodInfo, spreadConstraints, spreadGroups } from './podinfo.js';

describe('PodInfo', () => {
  it('puts a pod in the groups of its controller and of the Services selecting it', () => {
    const pod = makePod('p', {}, {
      labels: { app: 'web', tier: 'front' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-1', controller: true }],
    });
    const services = () => [
      { key: 'default/web', selector: { app: 'web' } },
      { key: 'default/db', selector: { app: 'db' } },
      { key: 'default/headless-all', selector: {} },
    ];
    expect(spreadGroups(pod, services)).toEqual(['owner:rs-1', 'svc:default/web']);
  });

  it('collects host ports and node selection inputs', () => {
    const info = newPodInfo(
      makePod('p', {
        nodeSelector: { disk: 'ssd' },
        priority: 7,
        containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 53, hostPort: 53, protocol: 'UDP', hostIP: '10.0.0.1' }] }],
      }),
    );
    expect(info.hostPorts).toEqual([
      { protocol: 'TCP', port: 8080, ip: '0.0.0.0' },
      { protocol: 'UDP', port: 53, ip: '10.0.0.1' },
    ]);
    expect(info.nodeSelector).toEqual({ disk: 'ssd' });
    expect(info.priority).toBe(7);
    expect(info.nonZeroCpu).toBe(100);
  });

  it('leaves podAffinity and spread constraints undefined for pods without them (the cheap path)', () => {
    const info = newPodInfo(makePod('p', { affinity: { nodeAffinity: {} } }));
    expect(info.podAffinity).toBeUndefined();
    expect(info.hardSpread).toBeUndefined();
    expect(info.softSpread).toBeUndefined();
  });

  it('compiles pod affinity terms with Kubernetes\' namespace defaults and matchLabelKeys', () => {
    const pod = makePod('p', {}, { namespace: 'shop', labels: { app: 'web', 'pod-template-hash': 'abc' } });
    const own = compileAffinityTerm(pod, { labelSelector: { matchLabels: { app: 'web' } }, matchLabelKeys: ['pod-template-hash', 'absent'], topologyKey: 'zone' });
    expect([...own.namespaces]).toEqual(['shop']);
    expect(own.namespaceSelector).toBeUndefined();
    expect(own.selector).toEqual([
      { key: 'app', op: 'In', values: ['web'] },
      { key: 'pod-template-hash', op: 'In', values: ['abc'] },
    ]);
    const named = compileAffinityTerm(pod, { labelSelector: {}, namespaces: ['a', 'b'], topologyKey: 'zone' });
    expect([...named.namespaces]).toEqual(['a', 'b']);
    const all = compileAffinityTerm(pod, { namespaceSelector: {}, topologyKey: 'zone' });
    expect(all.namespaces.size).toBe(0);
    expect(all.namespaceSelector).toEqual([]);
    expect(all.selector).toBeUndefined(); // no labelSelector: selects no pod
  });

  it('fills topology spread defaults and splits DoNotSchedule from ScheduleAnyway', () => {
    const pod = makePod('p', {
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } },
        { maxSkew: 2, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: {}, nodeTaintsPolicy: 'Honor' },
      ],
    });
    expect(spreadConstraints(pod)[0]).toMatchObject({ minDomains: 1, honorNodeAffinity: true, honorNodeTaints: false });
    const info = newPodInfo(pod);
    expect(info.hardSpread?.map((c) => c.topologyKey)).toEqual(['zone']);
    expect(info.softSpread?.map((c) => [c.topologyKey, c.honorNodeTaints])).toEqual([['kubernetes.io/hostname', true]]);
  });
});
