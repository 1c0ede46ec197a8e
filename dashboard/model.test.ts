import { describe, expect, it } from 'vitest';
import { evictionTime, nodeView, pdbView, podView } from './model.js';

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

  it('names the disruption budgets that select a pod, as the eviction API matches them; a bad selector matches nothing', () => {
    const pod = { metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web', tier: 'front' } } };
    const pdb = (name: string, selector: unknown, namespace = 'default') => ({ metadata: { name, namespace }, spec: { minAvailable: 2, selector } }) as never;
    const budgets = [
      pdb('by-app', { matchLabels: { app: 'web' } }),
      pdb('by-expr', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] }),
      pdb('other-app', { matchLabels: { app: 'db' } }),
      pdb('elsewhere', { matchLabels: { app: 'web' } }, 'kube-system'),
      pdb('all', {}),
      pdb('broken', { matchExpressions: [{ key: 'tier', operator: 'Gt', values: ['1'] }] }),
    ];
    expect(podView(pod as never, budgets).pdbs).toEqual(['default/all', 'default/by-app', 'default/by-expr']);
    expect(podView(pod as never).pdbs).toBeUndefined();
    expect(pdbView({ metadata: { name: 'b', namespace: 'ns' }, spec: { maxUnavailable: '25%' }, status: { disruptionsAllowed: 1, currentHealthy: 4, desiredHealthy: 3, expectedPods: 4 } } as never)).toEqual({
      id: 'pdb/ns/b', kind: 'PodDisruptionBudget', namespace: 'ns', name: 'b', rule: 'maxUnavailable: 25%', disruptionsAllowed: 1, currentHealthy: 4, desiredHealthy: 3, expectedPods: 4,
    });
  });
});
