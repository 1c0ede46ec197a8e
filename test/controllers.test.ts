/**
 * The controller-manager against a real apiserver and etcd, with fake nodes (test/support/fakekubelet.ts)
 * and a fake scheduler: the behaviour a user of the lab notices (pods replaced, rollouts bounded,
 * cascading deletion, node loss healed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../client/api.js';
import { isNotFound } from '../client/errors.js';
import { isPodReady } from '../client/objects.js';
import type { apps, core } from '../client/types.js';
import { compileControllerManagerConfig, startControllerManager } from '../controller-manager/index.js';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';
import { EXIT_CODE_ANNOTATION, startFakeNodes, startFakeScheduler, type FakeNodes } from './support/fakekubelet.js';
import { waitFor } from './support/wait.js';

let cp: TestControlPlane;
let client: ApiClient;
let nodes: FakeNodes;
let scheduler: { close(): Promise<void> };
const cm = new AbortController();
let cmDone: Promise<void>;

beforeAll(async () => {
  // The lab preset, with the apiserver's default tolerations shortened as the lab does.
  cp = await startControlPlane({ defaultTolerationSeconds: 2 });
  client = cp.client;
  nodes = await startFakeNodes(cp.address, ['node-a', 'node-b', 'node-c'], { leaseRenewMs: 500 });
  scheduler = await startFakeScheduler(cp.address);
  const cfg = compileControllerManagerConfig({
    apiserver: cp.address,
    adminPort: 0,
    bindAddress: '127.0.0.1',
    timing: 'lab',
    leaderElect: true,
    nodeMonitorGracePeriodMs: 3000,
    nodeMonitorPeriodMs: 500,
    jobBackoffBaseMs: 200,
  });
  cmDone = startControllerManager(cfg, cm.signal);
});

afterAll(async () => {
  cm.abort();
  await cmDone?.catch(() => undefined);
  await scheduler?.close();
  await nodes?.close();
  await cp?.stop();
});

async function namespace(name: string): Promise<string> {
  await client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

function template(labels: Record<string, string>, image = 'kubelab/busybox:latest', annotations?: Record<string, string>): core.PodTemplateSpec {
  return {
    metadata: { labels, ...(annotations ? { annotations } : {}) },
    spec: { containers: [{ name: 'c', image, command: ['sleep', '3600'] }], terminationGracePeriodSeconds: 1 },
  };
}

async function activePods(ns: string, selector: string): Promise<core.Pod[]> {
  const list = await client.list('pods', { namespace: ns, labelSelector: selector });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
}

describe('replicaset', () => {
  it('replaces a deleted pod and keeps exactly the desired count', async () => {
    const ns = await namespace('rs-heal');
    await client.create('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web', namespace: ns },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }) },
    });
    const first = await waitFor(async () => {
      const pods = await activePods(ns, 'app=web');
      return pods.length === 3 && pods.every(isPodReady) && pods;
    }, { what: '3 ready pods' });
    const victim = first[0].metadata?.name ?? '';
    await client.delete('pods', victim, { namespace: ns });
    const after = await waitFor(async () => {
      const pods = await activePods(ns, 'app=web');
      return pods.length === 3 && pods.every(isPodReady) && !pods.some((p) => p.metadata?.name === victim) && pods;
    }, { what: 'replacement pod' });
    expect(after.every((p) => p.metadata?.ownerReferences?.[0]?.kind === 'ReplicaSet')).toBe(true);
    const rs = await waitFor(async () => {
      const r = await client.get('replicasets', 'web', { namespace: ns });
      return r.status?.readyReplicas === 3 && r.status.availableReplicas === 3 && r;
    }, { what: 'rs status' });
    expect(rs.status?.observedGeneration).toBe(rs.metadata?.generation);
    const events = await client.list('events', { namespace: ns });
    expect(events.items.some((e) => e.reason === 'SuccessfulCreate')).toBe(true);
    // Never more than 3: the expectations held off a second creation while the watch caught up.
    const all = await client.list('pods', { namespace: ns });
    expect(all.items.filter((p) => !p.metadata?.deletionTimestamp).length).toBe(3);
  });
});

// Last: it takes a node away for good.
describe('node lifecycle', () => {
  it('a node whose lease stops goes Unknown, is tainted, and its pods are replaced elsewhere with none lost', async () => {
    const ns = await namespace('node-loss');
    await client.create('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'spread', namespace: ns },
      spec: { replicas: 6, selector: { matchLabels: { app: 'spread' } }, template: template({ app: 'spread' }) },
    });
    const before = await waitFor(async () => {
      const pods = await activePods(ns, 'app=spread');
      return pods.length === 6 && pods.every(isPodReady) && pods;
    }, { what: '6 ready pods' });
    const lost = before.filter((p) => p.spec?.nodeName === 'node-c').map((p) => p.metadata?.name);
    expect(lost.length).toBeGreaterThan(0);
    const crashedAt = Date.now();
    nodes.crash('node-c');
    const node = await waitFor(async () => {
      const n = await client.get('nodes', 'node-c');
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'Unknown' && (n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') && n;
    }, { what: 'node-c Unknown and tainted', timeoutMs: 20_000 });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.message).toBe('Kubelet stopped posting node status.');
    expect(node.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoSchedule')).toBe(true);
    const healed = await waitFor(async () => {
      const pods = await activePods(ns, 'app=spread');
      return pods.length === 6 && pods.every((p) => isPodReady(p) && p.spec?.nodeName !== 'node-c') && pods;
    }, { what: '6 ready pods off node-c', timeoutMs: 30_000 });
    const healMs = Date.now() - crashedAt;
    expect(healed.some((p) => lost.includes(p.metadata?.name))).toBe(false);
    // The lost pods are force-deleted once their 1 s grace period is over (lab preset).
    await waitFor(async () => {
      const all = await client.list('pods', { namespace: ns });
      return all.items.every((p) => p.spec?.nodeName !== 'node-c');
    }, { what: 'lost pods gone', timeoutMs: 20_000 });
    const events = await client.list('events', { namespace: ns });
    expect(events.items.some((e) => e.reason === 'TaintManagerEviction')).toBe(true);
    console.log(`node loss healed in ${healMs} ms`);
  });
});
