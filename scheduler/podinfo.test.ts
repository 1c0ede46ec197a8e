import { describe, expect, it } from 'vitest';
import { makePod } from './testing.js';
import { newPodInfo, spreadGroups } from './podinfo.js';

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
});
