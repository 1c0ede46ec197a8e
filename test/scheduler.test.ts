/**
 * The scheduler against a real apiserver and etcd, with Node objects written directly (no kubelets):
 * explainable failures, no overcommit under a burst, constraints, spreading, leader failover, and priority
 * preemption (on hollow kubelets, which finish the victims' graceful deletion).
 * Every test owns a pool of nodes tainted `kubelab.test/pool=<pool>:NoSchedule` and labelled `pool=<pool>`;
 * its pods tolerate the taint and select the pool, so tests do not see each other's nodes.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../client/api.js';
import type { core } from '../api/types.js';
import { nullLogger } from '../component-base/log.js';
import { startHollowNodes, type HollowNodes } from '../kubelet/hollow.js';
import { compileSchedulerConfig, startScheduler, type RunningScheduler } from '../scheduler/index.js';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';
import { startTcpProxy } from './support/tcpproxy.js';
import { waitFor } from './support/wait.js';

let cp: TestControlPlane;
const stops: { ctl: AbortController; running: RunningScheduler }[] = [];
let main: RunningScheduler;

async function runScheduler(opts: Parameters<typeof compileSchedulerConfig>[0] = {}, client?: ApiClient): Promise<{ ctl: AbortController; running: RunningScheduler }> {
  const ctl = new AbortController();
  const cfg = compileSchedulerConfig({ apiserver: cp.address, adminPort: 0, bindAddress: '127.0.0.1', leaderElect: false, podInitialBackoffMs: 200, podMaxBackoffMs: 1000, ...opts });
  const running = await startScheduler(cfg, ctl.signal, { logger: nullLogger(), ...(client ? { client } : {}) });
  const entry = { ctl, running };
  stops.push(entry);
  return entry;
}

beforeAll(async () => {
  cp = await startControlPlane();
  main = (await runScheduler()).running;
});

afterAll(async () => {
  for (const s of stops) s.ctl.abort();
  await Promise.allSettled(stops.map((s) => s.running.done));
  await cp?.stop();
});

interface NodeSpec {
  name: string;
  pool?: string;
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: core.Taint[];
  unschedulable?: boolean;
}

async function createNode(s: NodeSpec): Promise<void> {
  const resources = { cpu: s.cpu ?? '4', memory: s.memory ?? '8Gi', pods: String(s.pods ?? 110) };
  await cp.client.create('nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: s.name, labels: { 'kubernetes.io/hostname': s.name, ...(s.pool ? { pool: s.pool } : {}), ...s.labels } },
    spec: {
      taints: [...(s.pool ? [{ key: 'kubelab.test/pool', value: s.pool, effect: 'NoSchedule' as const }] : []), ...(s.taints ?? [])],
      ...(s.unschedulable ? { unschedulable: true } : {}),
    },
    status: { capacity: resources, allocatable: resources, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
  });
}

async function createNamespace(name: string): Promise<void> {
  await cp.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

function poolPod(name: string, namespace: string, pool: string, spec: Partial<core.PodSpec> = {}, meta: Partial<core.Pod['metadata']> = {}): core.Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, ...meta },
    spec: {
      containers: [{ name: 'c', image: 'kubelab/busybox:latest' }],
      ...spec,
      nodeSelector: { pool, ...spec.nodeSelector },
      tolerations: [{ key: 'kubelab.test/pool', operator: 'Exists', effect: 'NoSchedule' }, ...(spec.tolerations ?? [])],
    },
  };
}

function withRequests(cpu: string, memory: string): core.Container[] {
  return [{ name: 'c', image: 'kubelab/busybox:latest', resources: { requests: { cpu, memory } } }];
}

async function createAll(pods: core.Pod[], concurrency = 32): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (i < pods.length) await cp.client.create('pods', pods[i++]);
    }),
  );
}

async function listPods(namespace: string): Promise<core.Pod[]> {
  return (await cp.client.list('pods', { namespace })).items;
}

const scheduledCond = (p: core.Pod) => p.status?.conditions?.find((c) => c.type === 'PodScheduled');

/** Waits until the scheduler has explained why pod `name` cannot be placed (PodScheduled=False). */
function waitUnschedulable(name: string, namespace: string, what: string): Promise<core.Pod> {
  return waitFor(
    async () => {
      const p = await cp.client.get('pods', name, { namespace });
      return scheduledCond(p)?.status === 'False' ? p : undefined;
    },
    { what },
  );
}

describe('scheduler', () => {
  it('explains a pod that fits nowhere, then schedules it as soon as a fitting node appears', async () => {
    // This test runs first: the cluster holds exactly these three nodes, so the message is exact.
    await createNamespace('sched-explain');
    await createNode({ name: 'ex-cordoned', unschedulable: true });
    await createNode({ name: 'ex-small-1', cpu: '1' });
    await createNode({ name: 'ex-small-2', cpu: '1' });
    await cp.client.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'big', namespace: 'sched-explain' },
      spec: { containers: withRequests('2', '1Gi') },
    });
    const expected =
      '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
    const event = await waitFor(
      async () => (await cp.client.list('events', { namespace: 'sched-explain' })).items.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'big'),
      { what: 'FailedScheduling event' },
    );
    expect(event.message).toBe(expected);
    expect(event.type).toBe('Warning');
    expect(event.source?.component).toBe('default-scheduler');
    const cond = await waitFor(async () => scheduledCond(await cp.client.get('pods', 'big', { namespace: 'sched-explain' })), { what: 'PodScheduled condition' });
    expect(cond).toMatchObject({ status: 'False', reason: 'Unschedulable', message: expected });

    const added = Date.now();
    await createNode({ name: 'ex-big', cpu: '4' });
    const pod = await waitFor(
      async () => {
        const p = await cp.client.get('pods', 'big', { namespace: 'sched-explain' });
        return p.spec?.nodeName ? p : undefined;
      },
      { what: 'pod big to be bound', timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(pod.spec?.nodeName).toBe('ex-big');
    expect(Date.now() - added).toBeLessThan(3000);
    expect(scheduledCond(pod)?.status).toBe('True');
  });

  it('never overcommits a node under a burst of 500 pods', async () => {
    const pool = 'burst';
    await createNamespace('sched-burst');
    // Nodes 0-4 are limited by pod count (15), nodes 5-9 by cpu (2 cores / 100m = 20): 175 pods fit.
    for (let i = 0; i < 10; i++) await createNode({ name: `burst-${i}`, pool, cpu: '2', memory: '8Gi', pods: i < 5 ? 15 : 30 });
    const pods = Array.from({ length: 500 }, (_, i) => poolPod(`p-${i}`, 'sched-burst', pool, { containers: withRequests('100m', '128Mi') }));
    await createAll(pods);
    const settled = await waitFor(
      async () => {
        const all = await listPods('sched-burst');
        const bound = all.filter((p) => p.spec?.nodeName);
        const explained = all.filter((p) => !p.spec?.nodeName && scheduledCond(p)?.status === 'False');
        return bound.length === 175 && explained.length === 325 ? all : undefined;
      },
      { what: '175 pods bound and 325 explained', timeoutMs: 60_000, intervalMs: 500 },
    );
    const perNode = new Map<string, { cpu: number; pods: number }>();
    for (const p of settled) {
      if (!p.spec?.nodeName) continue;
      const n = perNode.get(p.spec.nodeName) ?? { cpu: 0, pods: 0 };
      n.cpu += 100;
      n.pods++;
      perNode.set(p.spec.nodeName, n);
    }
    for (let i = 0; i < 10; i++) {
      const n = perNode.get(`burst-${i}`);
      expect(n?.pods, `pods on burst-${i}`).toBe(i < 5 ? 15 : 20);
      expect(n!.cpu).toBeLessThanOrEqual(2000);
    }
    const pending = settled.find((p) => !p.spec?.nodeName);
    expect(scheduledCond(pending!)?.message).toMatch(/5 Insufficient cpu, 5 Too many pods/);

    const metrics = await (await fetch(`http://127.0.0.1:${main.adminPort}/metrics`)).text();
    expect(metrics).toMatch(/scheduler_schedule_attempts_total\{result="scheduled"[^}]*\} \d+/);
    expect(metrics).toMatch(/scheduler_e2e_scheduling_duration_seconds_count/);
    expect((await fetch(`http://127.0.0.1:${main.adminPort}/healthz`)).status).toBe(200);
    // Leave no pile of unschedulable pods behind to be retried on every node the next tests add.
    await Promise.all(settled.map((p) => cp.client.delete('pods', p.metadata!.name!, { namespace: 'sched-burst', gracePeriodSeconds: 0 })));
  });

  it('respects nodeSelector, required affinity and taints, and leaves other schedulers\' pods alone', async () => {
    const pool = 'constraints';
    const ns = 'sched-constraints';
    await createNamespace(ns);
    await createNode({ name: 'c-ssd', pool, labels: { disk: 'ssd', cores: '8' } });
    await createNode({ name: 'c-hdd', pool, labels: { disk: 'hdd', cores: '2' } });
    await createNode({ name: 'c-gpu', pool, labels: { disk: 'ssd', cores: '16' }, taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] });
    const req = (...exprs: core.NodeSelectorRequirement[]): Partial<core.PodSpec> => ({
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: exprs }] } } },
    });
    const gpuTol: core.Toleration[] = [{ key: 'gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }];
    await createAll([
      poolPod('selector-ssd', ns, pool, { nodeSelector: { disk: 'ssd' } }),
      poolPod('gt-4-cores', ns, pool, req({ key: 'cores', operator: 'Gt', values: ['4'] })),
      poolPod('lt-4-cores', ns, pool, req({ key: 'cores', operator: 'Lt', values: ['4'] })),
      poolPod('not-ssd', ns, pool, req({ key: 'disk', operator: 'NotIn', values: ['ssd'] })),
      poolPod('gpu-tolerating', ns, pool, { tolerations: gpuTol, ...req({ key: 'cores', operator: 'Gt', values: ['10'] }) }),
      poolPod('no-disk-label', ns, pool, req({ key: 'disk', operator: 'DoesNotExist' })),
      poolPod('gpu-untolerated', ns, pool, { nodeSelector: { 'kubernetes.io/hostname': 'c-gpu' } }),
      poolPod('other-scheduler', ns, pool, { schedulerName: 'someone-else' }),
    ]);
    const want: Record<string, string> = { 'selector-ssd': 'c-ssd', 'gt-4-cores': 'c-ssd', 'lt-4-cores': 'c-hdd', 'not-ssd': 'c-hdd', 'gpu-tolerating': 'c-gpu' };
    const pods = await waitFor(
      async () => {
        const all = new Map((await listPods(ns)).map((p) => [p.metadata?.name ?? '', p]));
        const ok = Object.keys(want).every((n) => all.get(n)?.spec?.nodeName) &&
          scheduledCond(all.get('no-disk-label')!)?.status === 'False' && scheduledCond(all.get('gpu-untolerated')!)?.status === 'False';
        return ok ? all : undefined;
      },
      { what: 'constrained pods placed or explained', timeoutMs: 15_000 },
    );
    for (const [name, node] of Object.entries(want)) expect(pods.get(name)?.spec?.nodeName, name).toBe(node);
    expect(pods.get('no-disk-label')?.spec?.nodeName).toBeFalsy();
    // c-ssd and c-hdd have a disk label, c-gpu has an untolerated taint (taints are checked first).
    expect(scheduledCond(pods.get('no-disk-label')!)?.message).toMatch(/^0\/\d+ nodes are available: 1 node\(s\) had untolerated taint \{gpu: true\}, .*\d+ node\(s\) didn't match Pod's node affinity\/selector\. preemption: /);
    expect(scheduledCond(pods.get('gpu-untolerated')!)?.message).toContain('1 node(s) had untolerated taint {gpu: true}');
    const other = pods.get('other-scheduler')!;
    expect(other.spec?.nodeName).toBeFalsy();
    expect(scheduledCond(other)).toBeUndefined();
  });

  it('spreads the pods of one ReplicaSet across nodes', async () => {
    const pool = 'spread';
    const ns = 'sched-spread';
    await createNamespace(ns);
    for (const n of ['s-1', 's-2', 's-3']) await createNode({ name: n, pool });
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: '5f0c9a2e-0000-4000-8000-000000000001', controller: true };
    // Pods of another owner already crowd s-1: the spread counts only the ReplicaSet's own pods.
    await createAll(Array.from({ length: 9 }, (_, i) => poolPod(`web-${i}`, ns, pool, {}, { labels: { app: 'web' }, ownerReferences: [owner] })));
    const pods = await waitFor(
      async () => {
        const all = await listPods(ns);
        return all.every((p) => p.spec?.nodeName) && all.length === 9 ? all : undefined;
      },
      { what: 'replicas bound' },
    );
    const perNode = new Map<string, number>();
    for (const p of pods) perNode.set(p.spec!.nodeName!, (perNode.get(p.spec!.nodeName!) ?? 0) + 1);
    expect([...perNode.values()]).toEqual([3, 3, 3]);
  });

  it('places replicas with required pod anti-affinity on distinct nodes and explains the rest', async () => {
    const pool = 'anti';
    const ns = 'sched-anti';
    await createNamespace(ns);
    for (const n of ['anti-1', 'anti-2', 'anti-3']) await createNode({ name: n, pool });
    const antiAffinity: Partial<core.PodSpec> = {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            { labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] }, topologyKey: 'kubernetes.io/hostname' },
          ],
        },
      },
    };
    // One burst: the scheduler decides the later replicas before the first bindings come back on the watch.
    await createAll(Array.from({ length: 6 }, (_, i) => poolPod(`db-${i}`, ns, pool, antiAffinity, { labels: { app: 'db' } })), 6);
    const pods = await waitFor(
      async () => {
        const all = await listPods(ns);
        const bound = all.filter((p) => p.spec?.nodeName);
        const explained = all.filter((p) => !p.spec?.nodeName && scheduledCond(p)?.status === 'False');
        return bound.length === 3 && explained.length === 3 ? all : undefined;
      },
      { what: '3 replicas bound and 3 explained', timeoutMs: 20_000 },
    );
    expect(new Set(pods.map((p) => p.spec?.nodeName).filter(Boolean))).toEqual(new Set(['anti-1', 'anti-2', 'anti-3']));
    for (const p of pods.filter((p) => !p.spec?.nodeName)) {
      expect(scheduledCond(p)?.message).toMatch(/^0\/\d+ nodes are available: .*3 node\(s\) didn't match pod anti-affinity rules/);
    }
    const events = (await cp.client.list('events', { namespace: ns })).items.filter((e) => e.reason === 'FailedScheduling');
    expect(events.some((e) => e.message?.includes("3 node(s) didn't match pod anti-affinity rules"))).toBe(true);
    await Promise.all(pods.map((p) => cp.client.delete('pods', p.metadata!.name!, { namespace: ns, gracePeriodSeconds: 0 })));
  });

  it('puts a pod with required pod affinity next to its target once the target is placed', async () => {
    const pool = 'affinity';
    const ns = 'sched-affinity';
    await createNamespace(ns);
    for (const n of ['aff-1', 'aff-2', 'aff-3']) await createNode({ name: n, pool });
    const nextToCache: Partial<core.PodSpec> = {
      affinity: {
        podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname' }] },
      },
    };
    await cp.client.create('pods', poolPod('web', ns, pool, nextToCache, { labels: { app: 'web' } }));
    const waiting = await waitUnschedulable('web', ns, 'web explained while its target is missing');
    expect(waiting.spec?.nodeName).toBeFalsy();
    expect(scheduledCond(waiting)?.message).toContain("3 node(s) didn't match pod affinity rules");

    await cp.client.create('pods', poolPod('cache', ns, pool, {}, { labels: { app: 'cache' } }));
    const [web, cache] = await waitFor(
      async () => {
        const w = await cp.client.get('pods', 'web', { namespace: ns });
        const c = await cp.client.get('pods', 'cache', { namespace: ns });
        return w.spec?.nodeName && c.spec?.nodeName ? [w, c] : undefined;
      },
      { what: 'web placed after its target', timeoutMs: 10_000 },
    );
    expect(web.spec?.nodeName).toBe(cache.spec?.nodeName);
  });

  it('spreads pods evenly over zones with topologySpreadConstraints and leaves a pod pending rather than skew', async () => {
    const pool = 'tsc';
    const ns = 'sched-tsc';
    const ZONE = 'topology.kubernetes.io/zone';
    await createNamespace(ns);
    // Zone z1 has two nodes: the constraint counts per zone, not per node.
    await createNode({ name: 'tsc-1a', pool, labels: { [ZONE]: 'z1' } });
    await createNode({ name: 'tsc-1b', pool, labels: { [ZONE]: 'z1' } });
    await createNode({ name: 'tsc-2', pool, labels: { [ZONE]: 'z2' } });
    await createNode({ name: 'tsc-3', pool, labels: { [ZONE]: 'z3' } });
    const spread: Partial<core.PodSpec> = {
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'api' } } }],
    };
    const zoneOf = (node: string | undefined) => (node === 'tsc-2' ? 'z2' : node === 'tsc-3' ? 'z3' : 'z1');
    const perZone = (pods: core.Pod[]) => {
      const m: Record<string, number> = {};
      for (const p of pods) if (p.spec?.nodeName) m[zoneOf(p.spec.nodeName)] = (m[zoneOf(p.spec.nodeName)] ?? 0) + 1;
      return m;
    };
    await createAll(Array.from({ length: 6 }, (_, i) => poolPod(`api-${i}`, ns, pool, spread, { labels: { app: 'api' } })), 6);
    const first = await waitFor(
      async () => {
        const all = await listPods(ns);
        return all.length === 6 && all.every((p) => p.spec?.nodeName) ? all : undefined;
      },
      { what: '6 pods bound' },
    );
    expect(perZone(first)).toEqual({ z1: 2, z2: 2, z3: 2 });

    // Cordon zone z3: its 2 pods still count, so z1 and z2 may each take one more pod, and a third would
    // make the skew 2. Kubernetes keeps that pod pending instead.
    await cp.client.patch('nodes', 'tsc-3', { spec: { unschedulable: true } }, { type: 'merge' });
    await waitFor(() => main.scheduler.cache.node('tsc-3')?.unschedulable === true, { what: 'the scheduler to see the cordon', intervalMs: 20 });
    await createAll(Array.from({ length: 3 }, (_, i) => poolPod(`api-more-${i}`, ns, pool, spread, { labels: { app: 'api' } })), 3);
    const after = await waitFor(
      async () => {
        const all = await listPods(ns);
        const pending = all.filter((p) => !p.spec?.nodeName && scheduledCond(p)?.status === 'False');
        return all.length === 9 && all.filter((p) => p.spec?.nodeName).length === 8 && pending.length === 1 ? all : undefined;
      },
      { what: '8 pods bound and 1 explained', timeoutMs: 15_000 },
    );
    expect(perZone(after)).toEqual({ z1: 3, z2: 3, z3: 2 });
    const pending = after.find((p) => !p.spec?.nodeName)!;
    expect(scheduledCond(pending)?.message).toContain("3 node(s) didn't match pod topology spread constraints");
    expect(scheduledCond(pending)?.message).toMatch(/\d+ node\(s\) were unschedulable/);
    await Promise.all(after.map((p) => cp.client.delete('pods', p.metadata!.name!, { namespace: ns, gracePeriodSeconds: 0 })));
  });

  it('hands over to the standby within the lease duration and never binds a pod twice', async () => {
    const pool = 'ha';
    const ns = 'sched-ha';
    await createNamespace(ns);
    for (let i = 0; i < 4; i++) await createNode({ name: `ha-${i}`, pool, cpu: '64', pods: 500 });
    const leaseDurationMs = 3000;
    const ha = { schedulerName: 'ha-scheduler', leaderElect: true, leaseName: 'ha-scheduler', leaseDurationMs, renewDeadlineMs: 2000, retryPeriodMs: 250 };
    const a = await runScheduler({ ...ha, identity: 'ha-a' });
    const b = await runScheduler({ ...ha, identity: 'ha-b' });
    const leader = await waitFor(() => (a.running.isLeader() ? a : b.running.isLeader() ? b : undefined), { what: 'a leader', intervalMs: 50 });
    const standby = leader === a ? b : a;

    // Count binding writes from the watch: a pod's nodeName changing from empty to set.
    const bindings = new Map<string, number>();
    const lastNode = new Map<string, string>();
    const watchCtl = new AbortController();
    const watching = (async () => {
      for await (const ev of cp.client.watch('pods', { namespace: ns, signal: watchCtl.signal })) {
        const name = ev.object.metadata?.name ?? '';
        const node = ev.object.spec?.nodeName ?? '';
        if (node && !lastNode.get(name)) bindings.set(name, (bindings.get(name) ?? 0) + 1);
        lastNode.set(name, node);
      }
    })().catch(() => undefined);

    const pods = Array.from({ length: 300 }, (_, i) => poolPod(`ha-${i}`, ns, pool, { schedulerName: 'ha-scheduler', containers: withRequests('10m', '16Mi') }));
    const creating = createAll(pods, 16);
    await waitFor(() => bindings.size >= 50, { what: 'the leader to bind 50 pods', intervalMs: 20 });
    const stoppedAt = Date.now();
    leader.ctl.abort();
    await leader.running.done;
    await waitFor(() => standby.running.isLeader(), { what: 'the standby to take over', timeoutMs: leaseDurationMs + 2000, intervalMs: 50 });
    const takeoverMs = Date.now() - stoppedAt;
    expect(takeoverMs).toBeLessThan(leaseDurationMs);
    await creating;
    await waitFor(() => bindings.size === 300, { what: 'all 300 pods bound', timeoutMs: 30_000 });
    expect(standby.running.stats.scheduled).toBeGreaterThan(0);
    expect([...bindings.values()].every((n) => n === 1)).toBe(true);
    const all = await listPods(ns);
    expect(all.filter((p) => p.spec?.nodeName)).toHaveLength(300);
    watchCtl.abort();
    await watching;
  });
});

describe('scheduler robustness', () => {
  it('keeps scheduling after a pod it cannot read, explains that pod with SchedulerError, and stays healthy', async () => {
    const pool = 'poison';
    const ns = 'sched-poison';
    await createNamespace(ns);
    await createNode({ name: 'poison-0', pool });
    // What an older apiserver (or a hand edit of etcd) could have stored: a preferred node affinity that is a string.
    const bad = poolPod('poison', ns, pool, { schedulerName: 'default-scheduler', affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: 'x' } } as unknown as core.Affinity });
    const stored = { ...bad, metadata: { ...bad.metadata, uid: randomUUID(), creationTimestamp: new Date().toISOString() } };
    await cp.apiserver.storage.etcd.put(`/registry/pods/${ns}/poison`).value(JSON.stringify(stored));
    const event = await waitFor(
      async () => (await cp.client.list('events', { namespace: ns })).items.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'poison'),
      { what: 'a FailedScheduling event on the poison pod' },
    );
    expect(event.type).toBe('Warning');
    expect(event.message).toMatch(/^error while scheduling pod: /);

    await createAll([0, 1, 2].map((i) => poolPod(`after-${i}`, ns, pool)));
    await waitFor(async () => (await listPods(ns)).filter((p) => p.spec?.nodeName === 'poison-0').length === 3, { what: 'the pods created after the poison pod to be bound' });
    expect((await cp.client.get('pods', 'poison', { namespace: ns })).spec?.nodeName).toBeUndefined();
    const health = await fetch(`http://127.0.0.1:${main.adminPort}/healthz`);
    expect(health.status).toBe(200);
    await cp.client.delete('pods', 'poison', { namespace: ns, gracePeriodSeconds: 0 });
  });

  it('a leader cut off from the apiserver stops within its renew deadline, before the standby takes over', async () => {
    const pool = 'part';
    const ns = 'sched-part';
    await createNamespace(ns);
    await createNode({ name: 'part-0', pool, cpu: '64', pods: 500 });
    const [host, port] = cp.address.split(':');
    const proxy = await startTcpProxy({ host, port: Number(port) });
    const cutClient = new ApiClient(proxy.address, { timeoutMs: 30_000 });
    try {
      const leaseDurationMs = 4000;
      const renewDeadlineMs = 1500;
      const ha = { schedulerName: 'part-scheduler', leaderElect: true, leaseName: 'part-scheduler', leaseDurationMs, renewDeadlineMs, retryPeriodMs: 250 };
      const a = await runScheduler({ ...ha, identity: 'part-a' }, cutClient);
      await waitFor(() => a.running.isLeader(), { what: 'a to lead', intervalMs: 20 });
      const b = await runScheduler({ ...ha, identity: 'part-b' });
      const pod = (name: string): core.Pod => poolPod(name, ns, pool, { schedulerName: 'part-scheduler' });
      await cp.client.create('pods', pod('before'));
      await waitFor(async () => (await cp.client.get('pods', 'before', { namespace: ns })).spec?.nodeName, { what: 'a to bind a pod' });

      proxy.pause();
      const cutAt = Date.now();
      let aStoppedAt = 0;
      let bLeadAt = 0;
      await waitFor(
        () => {
          if (!aStoppedAt && !a.running.isLeader()) aStoppedAt = Date.now();
          if (!bLeadAt && b.running.isLeader()) bLeadAt = Date.now();
          return aStoppedAt > 0 && bLeadAt > 0;
        },
        { what: 'a to stop leading and b to take over', timeoutMs: leaseDurationMs * 3, intervalMs: 10 },
      );
      expect(await a.running.done).toBe('lost-leadership');
      // a stops at its renew deadline (counted from its last renewal, at most a retry period before the cut),
      // and strictly before b could take the lease.
      expect(aStoppedAt - cutAt).toBeLessThan(renewDeadlineMs + 500);
      expect(aStoppedAt).toBeLessThan(bLeadAt);
      expect(b.running.stats.scheduled).toBe(0);
      await cp.client.create('pods', pod('after'));
      const bound = await waitFor(async () => (await cp.client.get('pods', 'after', { namespace: ns })).spec?.nodeName, { what: 'b to bind a pod' });
      expect(bound).toBe('part-0');
      await waitFor(() => b.running.stats.scheduled === 1, { what: 'b to count its binding' });
    } finally {
      await proxy.close();
      cutClient.close();
    }
  });
});

describe('scheduler preemption', () => {
  const ns = 'sched-preempt';
  const pool = 'preempt';
  const hctl = new AbortController();
  let hollow: HollowNodes;
  const node = (i: number): string => `preempt-${i}`;

  beforeAll(async () => {
    await createNamespace(ns);
    for (const [name, value, preemptionPolicy] of [['low', 100], ['high', 1000], ['high-never', 1000, 'Never']] as const) {
      await cp.client.create('priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...(preemptionPolicy ? { preemptionPolicy } : {}) });
    }
    // Three 1-cpu hollow nodes (kubelets with an in-memory runtime), full of low-priority pods:
    // preempt-0 holds 2 x 500m, preempt-1 4 x 250m, preempt-2 400m + 300m + 300m.
    hollow = await startHollowNodes({ apiserver: cp.address, count: 3, namePrefix: 'preempt-', cpu: '1', memory: '4Gi', labels: { pool }, timing: 'lab', startDelayMs: 100 }, hctl.signal);
    const fill: [number, string[]][] = [[0, ['500m', '500m']], [1, ['250m', '250m', '250m', '250m']], [2, ['400m', '300m', '300m']]];
    await createAll(
      fill.flatMap(([i, cpus]) =>
        cpus.map((cpu, j) => poolPod(`low-${i}-${j}`, ns, pool, { priorityClassName: 'low', nodeName: node(i), containers: withRequests(cpu, '64Mi') })),
      ),
    );
    await waitFor(
      async () => {
        const all = await listPods(ns);
        return all.length === 9 && all.every((p) => p.status?.phase === 'Running') ? all : undefined;
      },
      { what: '9 low-priority pods running', timeoutMs: 20_000 },
    );
  });

  afterAll(async () => {
    const left = await listPods(ns).catch(() => []);
    await Promise.all(left.map((p) => cp.client.delete('pods', p.metadata!.name!, { namespace: ns, gracePeriodSeconds: 0 }).catch(() => undefined)));
    hctl.abort();
    await hollow?.stop();
  });

  it('deletes the fewest lower-priority pods on one node, nominates the pod there and binds it once they are gone', async () => {
    const nominations: string[] = [];
    const watchCtl = new AbortController();
    const watching = (async () => {
      for await (const ev of cp.client.watch('pods', { namespace: ns, fieldSelector: 'metadata.name=urgent', signal: watchCtl.signal })) {
        const n = ev.object.status?.nominatedNodeName;
        if (n && !ev.object.spec?.nodeName && nominations.at(-1) !== n) nominations.push(n);
      }
    })().catch(() => undefined);
    const before = new Map((await listPods(ns)).map((p) => [p.metadata!.name!, p.metadata!.uid!]));
    await cp.client.create('pods', poolPod('urgent', ns, pool, { priorityClassName: 'high', containers: withRequests('500m', '64Mi') }));

    const urgent = await waitFor(
      async () => {
        const p = await cp.client.get('pods', 'urgent', { namespace: ns });
        return p.spec?.nodeName ? p : undefined;
      },
      { what: 'urgent to be bound', timeoutMs: 30_000, intervalMs: 100 },
    );
    watchCtl.abort();
    await watching;
    expect(urgent.spec?.priority).toBe(1000);
    // preempt-0 needs one victim, the others two: exactly one 500m pod of preempt-0 went.
    expect(urgent.spec?.nodeName).toBe(node(0));
    expect(nominations).toEqual([node(0)]);
    const after = await listPods(ns);
    const lows = after.filter((p) => p.metadata?.name?.startsWith('low-'));
    expect(lows).toHaveLength(8);
    expect(lows.every((p) => !p.metadata?.deletionTimestamp)).toBe(true);
    const gone = [...before.keys()].filter((n) => !lows.some((p) => p.metadata?.name === n));
    expect(gone).toHaveLength(1);
    expect(gone[0]).toMatch(/^low-0-[01]$/);
    const event = await waitFor(
      async () => (await cp.client.list('events', { namespace: ns })).items.find((e) => e.reason === 'Preempted' && e.involvedObject.name === gone[0]),
      { what: 'Preempted event on the victim' },
    );
    expect(event.message).toBe(`Preempted by pod ${urgent.metadata?.uid} on node ${node(0)}`);
    expect(event.involvedObject.uid).toBe(before.get(gone[0]));
    expect(event.type).toBe('Normal');
    expect(main.scheduler.nominator.size).toBe(0);
    // The scheduler's record of the pod (the dashboard's scheduler panel) names the node and the victim.
    const attempt = (await (await fetch(`http://127.0.0.1:${main.adminPort}/debug/attempts?namespace=${ns}&name=urgent`)).json()) as { result: string; nominatedNode?: string; victims?: string[]; pdbViolations?: number };
    expect(attempt).toMatchObject({ result: 'Scheduled', nominatedNode: node(0), victims: [`${ns}/${gone[0]}`], pdbViolations: 0 });
  });

  it('leaves a pod with preemptionPolicy Never pending and deletes nothing', async () => {
    const uids = (await listPods(ns)).map((p) => p.metadata!.uid!).sort();
    await cp.client.create('pods', poolPod('polite', ns, pool, { priorityClassName: 'high-never', containers: withRequests('500m', '64Mi') }));
    const pending = await waitUnschedulable('polite', ns, 'polite explained');
    expect(pending.spec?.preemptionPolicy).toBe('Never');
    expect(pending.spec?.nodeName).toBeFalsy();
    expect(pending.status?.nominatedNodeName).toBeFalsy();
    expect(scheduledCond(pending)?.message).toMatch(/[:,] 3 Insufficient cpu[,.]/);
    expect(scheduledCond(pending)?.message).toMatch(/\. preemption: not eligible due to preemptionPolicy=Never\.$/);
    const now = await listPods(ns);
    expect(now.filter((p) => p.metadata?.name !== 'polite').map((p) => p.metadata!.uid!).sort()).toEqual(uids);
    expect(now.every((p) => !p.metadata?.deletionTimestamp)).toBe(true);
    expect(main.scheduler.nominator.size).toBe(0);
  });

  it('waits for a terminating victim instead of preempting again on another node', async () => {
    // Two full 1-cpu nodes without a kubelet: a victim's graceful deletion starts and never finishes.
    const slow = 'preempt-slow';
    await createNode({ name: 'slow-a', pool: slow, cpu: '1' });
    await createNode({ name: 'slow-b', pool: slow, cpu: '1' });
    await createAll(
      ['slow-a', 'slow-b'].flatMap((n) => [0, 1].map((j) => poolPod(`low-${n}-${j}`, ns, slow, { priorityClassName: 'low', nodeName: n, containers: withRequests('500m', '64Mi') }))),
    );
    await cp.client.create('pods', poolPod('patient', ns, slow, { priorityClassName: 'high', containers: withRequests('500m', '64Mi') }));
    const nominated = await waitFor(
      async () => (await cp.client.get('pods', 'patient', { namespace: ns })).status?.nominatedNodeName,
      { what: 'patient to be nominated', timeoutMs: 20_000 },
    );
    // A change to the other node sends the pending pod round again: it must wait, not preempt there too.
    const other = nominated === 'slow-a' ? 'slow-b' : 'slow-a';
    await cp.client.patch('nodes', other, { metadata: { labels: { touched: 'yes' } } }, { type: 'merge' });
    const waiting = await waitFor(
      async () => {
        const p = await cp.client.get('pods', 'patient', { namespace: ns });
        return /preemption: not eligible due to a terminating pod on the nominated node\.$/.test(scheduledCond(p)?.message ?? '') ? p : undefined;
      },
      { what: 'patient to wait for its victim', timeoutMs: 20_000 },
    );
    const terminating = (await listPods(ns)).filter((p) => p.metadata?.name?.startsWith('low-slow-') && p.metadata.deletionTimestamp);
    expect(terminating).toHaveLength(1);
    expect(terminating[0].spec?.nodeName).toBe(waiting.status?.nominatedNodeName);
    for (const p of [...(await listPods(ns)).filter((p) => p.metadata?.name?.startsWith('low-slow-')), waiting])
      await cp.client.delete('pods', p.metadata!.name!, { namespace: ns, gracePeriodSeconds: 0 }).catch(() => undefined);
    for (const n of ['slow-a', 'slow-b']) await cp.client.delete('nodes', n);
  });

  it('never preempts pods of equal priority', async () => {
    const uids = (await listPods(ns)).map((p) => p.metadata!.uid!).sort();
    await cp.client.create('pods', poolPod('peer', ns, pool, { priorityClassName: 'low', containers: withRequests('250m', '64Mi') }));
    const pending = await waitUnschedulable('peer', ns, 'peer explained');
    // preempt-0 holds only pods of equal (low) or higher (urgent) priority, the others only low ones.
    expect(scheduledCond(pending)?.message).toMatch(/[:,] 3 Insufficient cpu[,.]/);
    expect(scheduledCond(pending)?.message).toMatch(/\. preemption: 0\/\d+ nodes are available: (.*, )?3 No preemption victims found for incoming pod[,.]/);
    const now = await listPods(ns);
    expect(now.filter((p) => p.metadata?.name !== 'peer').map((p) => p.metadata!.uid!).sort()).toEqual(uids);
    expect(now.every((p) => !p.metadata?.deletionTimestamp)).toBe(true);
  });
});
