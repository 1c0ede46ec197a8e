import { describe, expect, it } from 'vitest';
import { evictionTime, nodeView, podView } from './model.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const unreachable = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: T0 };

describe('evictionTime: when the taint-eviction controller deletes a pod (docs/timing.md)', () => {
  it('counts tolerationSeconds from the taint timeAdded', () => {
    expect(evictionTime([unreachable], [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }])).toBe(T0 + 2000);
  });
  it('evicts at once for an untolerated NoExecute taint, never for a toleration without seconds', () => {
    expect(evictionTime([unreachable], [])).toBe(T0);
    expect(evictionTime([unreachable], [{ operator: 'Exists' }])).toBeUndefined();
  });
  it('takes the shortest matching toleration, as kube getMinTolerationTime, and ignores NoSchedule taints', () => {
    const tol = [
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 },
    ];
    expect(evictionTime([unreachable, { key: 'x', effect: 'NoSchedule' }], tol)).toBe(T0 + 5000);
  });
});

describe('views', () => {
  it('a node view carries Ready, cordon, taints with timeAdded, allocatable and the lease renewal', () => {
    const v = nodeView(
      {
        metadata: { name: 'w1' },
        spec: { unschedulable: true, taints: [{ key: 'k', effect: 'NoExecute', timeAdded: new Date(T0).toISOString() }] },
        status: { allocatable: { cpu: '2', memory: '1Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }] },
      },
      { metadata: { name: 'w1', namespace: 'kube-node-lease' }, spec: { renewTime: new Date(T0).toISOString(), leaseDurationSeconds: 8 } },
    );
    expect(v).toMatchObject({ ready: 'Unknown', unschedulable: true, allocatable: { cpu: 2000, memory: 2 ** 30, pods: 110 }, leaseRenewTime: T0, leaseDurationSeconds: 8 });
    expect(v.taints[0].timeAdded).toBe(T0);
  });

  it('a malformed quantity costs its bar, not the view', () => {
    expect(nodeView({ metadata: { name: 'w' }, status: { allocatable: { cpu: 'lots' } } }, undefined).allocatable.cpu).toBe(0);
  });

  it('a CrashLoopBackOff container gets its next restart from the last exit and the back-off', () => {
    const v = podView({
      metadata: { name: 'p', namespace: 'ns' },
      spec: { containers: [{ name: 'app', resources: { requests: { cpu: '250m' } } }] },
      status: {
        phase: 'Running',
        conditions: [{ type: 'PodScheduled', status: 'True' }],
        containerStatuses: [
          {
            name: 'app',
            image: 'x',
            imageID: 'x',
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app pod=p_ns(u)' } },
            lastState: { terminated: { exitCode: 1, finishedAt: new Date(T0).toISOString() } },
          },
        ],
      },
    });
    expect(v.containers[0]).toMatchObject({ reason: 'CrashLoopBackOff', restartCount: 3, nextRestart: T0 + 40_000 });
    expect(v.requests.cpu).toBe(250);
  });

  it('a pending pod carries the scheduler reason', () => {
    const v = podView({ metadata: { name: 'p', namespace: 'd' }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }] } });
    expect(v.unschedulable).toEqual({ reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' });
    expect(v.node).toBeUndefined();
  });
});
