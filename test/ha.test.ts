/**
 * An HA control plane (issue 20): three etcd members in one Raft cluster, two apiservers each talking to
 * every member, HAProxy in front of them, and the failures real clusters have — an etcd member crashed or
 * cut off, an apiserver crashed, quorum lost — with the cluster going on (or answering 503 and healing).
 *
 * One watch is open through the load balancer for the whole file: every ConfigMap the tests create must
 * reach it exactly once and in resourceVersion order, across every member failure (watches are served from
 * the apiserver's watch cache, whose etcd watch moves to another member from its last revision). Tests
 * that crash an apiserver open their own watch: the one through the crashed apiserver ends, as in Kubernetes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUnavailable } from '../api/errors.js';
import { isNodeReady } from '../api/objects.js';
import type { core } from '../api/types.js';
import { exec } from '../cli/lab/docker.js';
import { startCluster, type TestCluster } from './cluster/index.js';
import { waitFor } from './support/wait.js';

const run = promisify(execFile);
const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const NS = 'ha';
let cluster: TestCluster;

/** Every event the long watch saw: name and resourceVersion of each ADDED ConfigMap. */
const seen: { name: string; rv: number }[] = [];
const watchAbort = new AbortController();
let watchError: unknown;
let created = 0;

async function createConfigMaps(n: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `cm-${String(created++).padStart(3, '0')}`;
    // No retry here (the client retries only reads): a create that fails is a failure of the test.
    await cluster.client.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data: { n: name } });
    names.push(name);
  }
  return names;
}

/** `etcdctl endpoint health --cluster` from inside a member, with its own certificate. */
async function etcdHealth(member: string): Promise<string> {
  const c = await cluster.lab.member('etcd', member);
  const r = await exec(cluster.lab.docker.getContainer(c.Id), [
    'etcdctl', '--endpoints', `https://127.0.0.1:2379`, '--cacert', '/etc/kubernetes/pki/ca.crt', '--cert', '/etc/kubernetes/pki/etcd-server.crt', '--key', '/etc/kubernetes/pki/etcd-server.key',
    'endpoint', 'health', '--cluster',
  ]);
  return r.output;
}

async function kubectl(...args: string[]): Promise<string> {
  const r = await run(KUBECTL, args, { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath, HOME: `/tmp/kubelab-ha-${process.pid}` }, timeout: 30_000 });
  return r.stdout;
}

beforeAll(async () => {
  cluster = await startCluster({ ha: true, workers: 1, controlPlaneReplicas: 1, startTimeoutMs: 240_000, onProgress: (l) => process.env.KUBELAB_TEST_LOG && process.stderr.write(`${l}\n`) });
  await cluster.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const start = (await cluster.client.list('configmaps', { namespace: NS })).metadata?.resourceVersion;
  void (async () => {
    try {
      for await (const ev of cluster.client.watch('configmaps', { namespace: NS, resourceVersion: start, signal: watchAbort.signal })) {
        if (ev.type === 'ADDED') seen.push({ name: ev.object.metadata?.name ?? '', rv: Number(ev.object.metadata?.resourceVersion) });
      }
    } catch (err) {
      watchError = err;
    }
  })();
}, 300_000);

afterAll(async () => {
  watchAbort.abort();
  await cluster?.stop();
});

/** The long watch saw exactly these names, each once, in strictly increasing resourceVersions. */
async function expectWatched(names: string[]): Promise<void> {
  await waitFor(() => names.every((n) => seen.some((s) => s.name === n)) || watchError !== undefined, { timeoutMs: 30_000, what: `the watch to see ${names.length} ConfigMaps` });
  expect(watchError, 'the watch through the load balancer stayed open').toBeUndefined();
  const got = seen.map((s) => s.name);
  expect(new Set(got).size, 'no event delivered twice').toBe(got.length);
  for (let i = 1; i < seen.length; i++) expect(seen[i].rv, `resourceVersion after ${seen[i - 1].name}`).toBeGreaterThan(seen[i - 1].rv);
  expect(got.filter((n) => names.includes(n))).toEqual(names);
}

describe('an HA control plane (3 etcd members, 2 apiservers, HAProxy)', () => {
  it('forms one etcd cluster of three healthy members; kubectl reaches the apiservers through the load balancer', async () => {
    const health = await etcdHealth('etcd-1');
    expect(health.match(/is healthy/g)?.length, health).toBe(3);
    expect(await kubectl('get', 'nodes')).toMatch(/worker-1\s+Ready/);
    const names = (await cluster.lab.componentContainers('apiserver')).map((c) => c.Names[0]);
    expect(names).toEqual([`/${cluster.name}-apiserver-1`, `/${cluster.name}-apiserver-2`]);
  });

  it('keeps creating and watching with one etcd member crashed: no event lost or duplicated, the member rejoins', async () => {
    const before = await createConfigMaps(5);
    await cluster.crashMember('etcd', 'etcd-1');
    // Every create right after the crash succeeds the first time: the apiservers' etcd clients move to a live member.
    const during = await createConfigMaps(20);
    await expectWatched([...before, ...during]);
    await cluster.restartMember('etcd', 'etcd-1');
    await waitFor(async () => ((await etcdHealth('etcd-2')).match(/is healthy/g)?.length ?? 0) === 3, { timeoutMs: 60_000, intervalMs: 1000, what: 'etcd-1 to rejoin healthy' });
    const after = await createConfigMaps(5);
    await expectWatched([...before, ...during, ...after]);
  });

  it('keeps going with one etcd member cut off from its peers and the apiservers, and takes it back on heal', async () => {
    await cluster.partitionEtcd('etcd-3');
    // The apiservers find the silent member by keepalive or its "no leader" answer; the other two hold quorum.
    const t0 = Date.now();
    await waitFor(async () => (await createConfigMaps(1).then(() => true, () => false)), { timeoutMs: 30_000, intervalMs: 200, what: 'a create to succeed with etcd-3 partitioned' });
    const during = await createConfigMaps(10);
    const failoverMs = Date.now() - t0;
    await expectWatched(during);
    await cluster.healEtcd('etcd-3');
    await waitFor(async () => ((await etcdHealth('etcd-1')).match(/is healthy/g)?.length ?? 0) === 3, { timeoutMs: 60_000, intervalMs: 1000, what: 'etcd-3 to be healthy after heal' });
    expect(failoverMs).toBeLessThan(60_000);
  });

  it('answers 503 while etcd has lost quorum, and heals when a member returns', async () => {
    await cluster.crashMember('etcd', 'etcd-1');
    await cluster.crashMember('etcd', 'etcd-2');
    // Through the load balancer, both apiservers answer; neither can reach a quorum.
    const err = await waitFor(
      async () => {
        try {
          await cluster.client.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'noquorum-', namespace: NS } }, { timeoutMs: 20_000 });
          return undefined;
        } catch (e) {
          return isUnavailable(e) ? e : undefined;
        }
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'a create to be answered 503 without quorum' },
    );
    expect(String((err as Error).message)).toMatch(/etcd/i);
    // kubectl (REST) gets the same answer.
    const k = await run(KUBECTL, ['create', 'configmap', 'noquorum-kubectl', '-n', NS, '--request-timeout=25s'], { env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath, HOME: `/tmp/kubelab-ha-${process.pid}` }, timeout: 40_000 }).then(
      () => 'created',
      (e: { stderr?: string }) => e.stderr ?? '',
    );
    expect(k).toMatch(/ServiceUnavailable|503|etcd unavailable|Timeout/i);

    await cluster.restartMember('etcd', 'etcd-2');
    await waitFor(async () => (await createConfigMaps(1).then(() => true, () => false)), { timeoutMs: 60_000, intervalMs: 500, what: 'creates to succeed once two members are back' });
    await cluster.restartMember('etcd', 'etcd-1');
    await waitFor(async () => ((await etcdHealth('etcd-3')).match(/is healthy/g)?.length ?? 0) === 3, { timeoutMs: 60_000, intervalMs: 1000, what: 'all three members healthy again' });
    const after = await createConfigMaps(3);
    await waitFor(() => after.every((n) => seen.some((s) => s.name === n)), { timeoutMs: 30_000, what: 'the watch to see the creates after quorum returned' });
  });

  it('fails over when an apiserver crashes: kubectl, a new watch and the scheduler, controllers and kubelet carry on', async () => {
    await cluster.crashMember('apiserver', 'apiserver-1');
    // HAProxy marks it down after two failed checks (1 s apart) and shuts its sessions.
    await waitFor(async () => /worker-1\s+Ready/.test(await kubectl('get', 'nodes').catch(() => '')), { timeoutMs: 15_000, intervalMs: 500, what: 'kubectl to answer through the load balancer' });
    await cluster.client.create('deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'after-failover', namespace: NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'after-failover' } },
        template: { metadata: { labels: { app: 'after-failover' } }, spec: { containers: [{ name: 'c', image: 'kubelab/busybox', command: ['sleep', '3600'] }] } },
      },
    });
    await waitFor(
      async () => (await cluster.client.list('pods', { namespace: NS, labelSelector: 'app=after-failover' })).items.filter((p: core.Pod) => p.status?.phase === 'Running').length === 2,
      { timeoutMs: 90_000, intervalMs: 500, what: 'the Deployment to run 2 pods with apiserver-1 down' },
    );
    const node = await cluster.client.get('nodes', 'worker-1');
    expect(isNodeReady(node), 'the kubelet kept its node Ready through the failover').toBe(true);
    await cluster.restartMember('apiserver', 'apiserver-1');
    await waitFor(async () => (await cluster.lab.member('apiserver', '1')).State === 'running', { timeoutMs: 30_000, what: 'apiserver-1 to run again' });
  });

  it('names the member and the choices when a fault is asked of one that does not exist', async () => {
    await expect(cluster.crashMember('etcd', 'etcd-9')).rejects.toThrow(/no etcd member "etcd-9".*members: etcd-1, etcd-2, etcd-3/);
    await expect(cluster.crashMember('apiserver', '7')).rejects.toThrow(/no apiserver member "7".*apiserver-1, apiserver-2/);
  });
});
