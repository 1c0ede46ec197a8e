import { describe, expect, it } from 'vitest';
import { FakeClock } from '../component-base/clock.js';
import { compileControllerManagerConfig, parseControllers } from './config.js';
import { scheduleTimes } from './cronjob.js';
import { equalIgnoreHash, newRSNewReplicas, proportionalSizes, resolveFenceposts, scaledValue, templateHash } from '../api/deploymentutil.js';
import { computeSubsets } from './endpoints.js';
import { Expectations } from './expectations.js';
import { claimAction, podsToDelete, slowStartBatches } from './podutil.js';
import type { Deployment, Pod, ReplicaSet } from './types.js';
import { TIMING } from '../component-base/timing.js';

const pod = (name: string, o: { node?: string; phase?: string; ready?: boolean; created?: string; ip?: string; labels?: Record<string, string> } = {}): Pod => ({
  metadata: { name, namespace: 'ns', uid: name, creationTimestamp: o.created ?? '2024-01-01T00:00:00Z', labels: o.labels },
  spec: { nodeName: o.node, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: { phase: o.phase ?? 'Running', podIP: o.ip, conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});

describe('expectations', () => {
  it('holds a controller until its creations and deletions are observed or expire', async () => {
    const clock = new FakeClock();
    const e = new Expectations(clock, 1000);
    e.expectCreations('k', 2);
    expect(e.satisfied('k')).toBe(false);
    e.creationObserved('k');
    e.creationObserved('k');
    expect(e.satisfied('k')).toBe(true);
    e.expectDeletions('k', ['ns/a']);
    e.deletionObserved('k', 'ns/a');
    e.deletionObserved('k', 'ns/a');
    expect(e.satisfied('k')).toBe(true);
    e.expectCreations('k', 1);
    await clock.advance(1001);
    expect(e.satisfied('k')).toBe(true);
  });
  it('says when a pending entry expires, so a controller held by a lost event comes back by itself', async () => {
    const clock = new FakeClock();
    const e = new Expectations(clock, 1000);
    expect(e.expiresInMs('k')).toBeUndefined();
    e.expectCreations('k', 2);
    await clock.advance(300);
    expect(e.expiresInMs('k')).toBe(700);
    e.creationObserved('k'); // one of the two creations' events never comes
    await clock.advance(701);
    expect(e.expiresInMs('k')).toBe(0);
    expect(e.satisfied('k')).toBe(true);
    e.creationObserved('k');
    expect(e.expiresInMs('k')).toBeUndefined();
  });
});

describe('pod ranking', () => {
  it('deletes unscheduled, pending, not-ready and newest pods first', () => {
    const pods = [
      pod('ready-old', { node: 'n1', created: '2024-01-01T00:00:00Z' }),
      pod('ready-new', { node: 'n2', created: '2024-01-02T00:00:00Z' }),
      pod('notready', { node: 'n3', ready: false }),
      pod('pending', { node: 'n4', phase: 'Pending', ready: false }),
      pod('unscheduled', { phase: 'Pending', ready: false }),
    ];
    expect(podsToDelete(pods, 5).map((p) => p.metadata?.name)).toEqual(['unscheduled', 'pending', 'notready', 'ready-new', 'ready-old']);
  });
  it('slow-starts 1, 2, 4, …', () => {
    expect(slowStartBatches(10)).toEqual([1, 2, 4, 3]);
  });
  it('adopts matching orphans, releases non-matching own pods, ignores others', () => {
    const sel = [{ key: 'app', op: 'In' as const, values: ['a'] }];
    expect(claimAction(pod('x', { labels: { app: 'a' } }), 'u', sel, false)).toBe('adopt');
    const own = { ...pod('y', { labels: { app: 'b' } }), metadata: { labels: { app: 'b' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'u', controller: true }] } };
    expect(claimAction(own, 'u', sel, false)).toBe('release');
    expect(claimAction(own, 'other', sel, false)).toBe('ignore');
  });
});

describe('deployment arithmetic', () => {
  const d = (replicas: number, surge: number | string, unavailable: number | string): Deployment => ({
    metadata: { name: 'd' },
    spec: { replicas, selector: {}, template: {}, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } } },
  });
  const rs = (name: string, replicas: number, maxReplicas?: number): ReplicaSet => ({
    metadata: { name, creationTimestamp: '2024-01-01T00:00:00Z', annotations: maxReplicas ? { 'deployment.kubernetes.io/max-replicas': String(maxReplicas) } : {} },
    spec: { replicas, selector: {} },
  });
  it('rounds surge up and unavailable down, never both zero', () => {
    expect(resolveFenceposts(d(10, '25%', '25%'))).toEqual({ surge: 3, unavailable: 2 });
    expect(resolveFenceposts(d(1, 0, '25%'))).toEqual({ surge: 0, unavailable: 1 });
    expect(scaledValue('50%', 3, true, '0')).toBe(2);
  });
  it('scales the new RS up only within maxSurge', () => {
    const dep = d(4, 1, 1);
    expect(newRSNewReplicas(dep, [rs('old', 4), rs('new', 0)], rs('new', 0))).toBe(1);
    expect(newRSNewReplicas(dep, [rs('old', 3), rs('new', 1)], rs('new', 1))).toBe(2);
  });
  it('spreads a resize proportionally', () => {
    const dep = d(20, 0, 1);
    const sizes = proportionalSizes(dep, [rs('a', 5, 10), rs('b', 5, 10)], 10);
    expect([...sizes.values()].reduce((x, y) => x + y, 0)).toBe(20);
    expect(sizes.get('a')).toBe(10);
  });
  it('hashes templates stably and compares them ignoring the hash label', () => {
    const t = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
    expect(templateHash(t)).toBe(templateHash(structuredClone(t)));
    expect(templateHash(t)).not.toBe(templateHash(t, 1));
    expect(equalIgnoreHash(t, { ...t, metadata: { labels: { app: 'a', 'pod-template-hash': 'zz' } } })).toBe(true);
  });
  it('compares templates as Go does: null, empty and absent fields are the same (rollout undo sends creationTimestamp: null)', () => {
    const t = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'x' }], securityContext: {} } };
    const fromUndo = { metadata: { creationTimestamp: null, labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'x', env: [] }] } };
    expect(equalIgnoreHash(t, fromUndo as never)).toBe(true);
    expect(equalIgnoreHash(t, { ...t, spec: { ...t.spec, containers: [{ name: 'c', image: 'y' }] } })).toBe(false);
  });
});

describe('endpoints', () => {
  it('resolves named target ports per pod and splits ready from not ready', () => {
    const svc = { metadata: { name: 's' }, spec: { selector: { app: 'a' }, ports: [{ port: 80, targetPort: 'http' }] } };
    const subsets = computeSubsets(svc, [
      pod('p1', { labels: { app: 'a' }, ip: '10.0.0.2', node: 'n' }),
      pod('p2', { labels: { app: 'a' }, ip: '10.0.0.3', ready: false }),
      pod('p3', { labels: { app: 'b' }, ip: '10.0.0.4' }),
    ]);
    expect(subsets).toHaveLength(1);
    expect(subsets[0].ports).toEqual([{ port: 8080, protocol: 'TCP' }]);
    expect(subsets[0].addresses?.map((a) => a.ip)).toEqual(['10.0.0.2']);
    expect(subsets[0].notReadyAddresses?.map((a) => a.ip)).toEqual(['10.0.0.3']);
  });
});

describe('cron schedule', () => {
  it('finds the latest missed time and the next one', () => {
    const since = Date.parse('2024-01-01T00:00:30Z');
    const now = Date.parse('2024-01-01T00:05:10Z');
    const t = scheduleTimes('*/2 * * * *', since, now, 'UTC');
    expect(new Date(t.latest ?? 0).toISOString()).toBe('2024-01-01T00:04:00.000Z');
    expect(new Date(t.next).toISOString()).toBe('2024-01-01T00:06:00.000Z');
  });
});

describe('config', () => {
  it('applies presets and names bad flags', () => {
    expect(compileControllerManagerConfig({ timing: 'lab' }).nodeMonitorGracePeriodMs).toBe(TIMING.lab.controllerManager.nodeMonitorGracePeriodMs);
    expect(compileControllerManagerConfig({}).nodeMonitorGracePeriodMs).toBe(40_000);
    expect(() => compileControllerManagerConfig({ timing: 'fast' })).toThrow(/--timing/);
    expect(() => parseControllers('*,nope')).toThrow(/--controllers/);
    expect(parseControllers('*,-podgc').has('podgc')).toBe(false);
  });
});
