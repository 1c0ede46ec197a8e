/**
 * `node dist/bench/lab.js --ha [--rounds 3] [--window 20]`: API availability of an HA control plane
 * (3 etcd members, 2 apiservers behind HAProxy) while members fail. A client through the load balancer
 * sends a steady stream of writes (ConfigMap creates, no retry) and reads (gets) — --rate per second —
 * and every result is stamped. Phases of --window seconds each:
 *   baseline (nothing fails) · etcd member crashed · etcd member partitioned · apiserver crashed
 * Per phase: requests, failed, longest gap between two successful writes, write p50/p99 latency. The
 * baseline, measured in the same run, is the floor: the same client and cluster with nothing broken.
 * Then (unless --no-multihost) bench/multihost.ts: Service throughput across two Docker hosts ÷ on one.
 */
import { noop } from 'cockatiel';
import Docker from 'dockerode';
import { Etcd3 } from 'etcd3';
import { isNodeReady } from '../api/objects.js';
import { ipOn, killAll, removeCluster } from '../cli/lab/docker.js';
import { Lab } from '../cli/lab/lab.js';
import { DEFAULT_HA, componentContainer, composeLabSpec, controlPlaneNetwork, type LabSpec } from '../cli/lab/spec.js';
import { startCluster, type TestCluster } from '../test/cluster/index.js';
import { waitFor } from '../client/wait.js';
import { crossHostBench } from './multihost.js';
import { flag, median, percentile, printTable } from './stats.js';

interface Sample {
  t: number;
  ok: boolean;
  ms: number;
  write: boolean;
}

/**
 * Sends `rate` requests per second — `send(n, write)`, every other one a write — until `stop` aborts, and stamps
 * each result; returns every sample in send order.
 */
async function drive(rate: number, stop: AbortSignal, send: (n: number, write: boolean) => Promise<unknown>): Promise<Sample[]> {
  const out: Sample[] = [];
  const inflight = new Set<Promise<void>>();
  for (let n = 0; !stop.aborted; n++) {
    const write = n % 2 === 0;
    const t = performance.now();
    const p = send(n, write).then(
      () => void out.push({ t, ok: true, ms: performance.now() - t, write }),
      (err: unknown) => {
        out.push({ t, ok: false, ms: performance.now() - t, write });
        if (process.env.KUBELAB_BENCH_LOG) process.stderr.write(`[bench] ${write ? 'write' : 'read'} failed: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    await new Promise((r) => setTimeout(r, 1000 / rate));
  }
  await Promise.all(inflight);
  return out.sort((a, b) => a.t - b.t);
}

let loads = 0;

/** ConfigMap creates (never retried) and namespace gets through the cluster's load balancer. */
function load(c: TestCluster, ns: string, rate: number, stop: AbortSignal): Promise<Sample[]> {
  const prefix = `l${loads++}`;
  return drive(rate, stop, (n, write) =>
    write
      ? c.client.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${prefix}-${n}`, namespace: ns } }, { timeoutMs: 10_000 })
      : c.client.get('namespaces', ns, { timeoutMs: 10_000 }),
  );
}

function summarize(phase: string, samples: Sample[], windowMs: number): (string | number)[] {
  const writes = samples.filter((s) => s.write);
  const ok = writes.filter((s) => s.ok);
  let gap = 0;
  for (let i = 1; i < ok.length; i++) gap = Math.max(gap, ok[i].t + ok[i].ms - (ok[i - 1].t + ok[i - 1].ms));
  const failed = samples.filter((s) => !s.ok).length;
  return [phase, samples.length, failed, `${((100 * failed) / Math.max(1, samples.length)).toFixed(1)} %`, gap, median(ok.map((s) => s.ms)), percentile(ok.map((s) => s.ms), 99), windowMs / 1000];
}

/**
 * The floor: the same three-member etcd (the lab's image and flags, plain HTTP) with no kubelab code — etcd3
 * from the host straight to the members, puts never retried and gets at the same rate — and its leader
 * SIGKILLed 1 s in. Compare the longest gap between successful writes (the election). Its failure count is
 * not comparable: etcd3 picks a member at random per call and, not retrying, fails every call it sends to the
 * dead one (a third of them), where kubelab's etcd client sends a call that found no connection to the next.
 */
async function etcdFloor(windowMs: number, rate: number): Promise<(string | number)[]> {
  const docker = new Docker();
  const name = `bench-ha-floor-${process.pid}`;
  const spec: LabSpec = { ...composeLabSpec(), cluster: name, network: name, prefix: `${name}-`, secure: false, ha: DEFAULT_HA };
  let client: Etcd3 | undefined;
  try {
    // Not internal (unlike the lab's control-plane network): the host reaches the members directly.
    await docker.createNetwork({ Name: controlPlaneNetwork(spec), Driver: 'bridge', CheckDuplicate: true, Labels: { 'io.kubelab.cluster': name } });
    const members = [];
    for (let i = 1; i <= 3; i++) {
      const c = await docker.createContainer({ ...componentContainer(spec, 'etcd', i), Healthcheck: undefined });
      await c.start();
      members.push(c);
    }
    const ips = await Promise.all(members.map(async (m) => ipOn((await docker.listContainers({ all: true, filters: JSON.stringify({ id: [m.id] }) }))[0], controlPlaneNetwork(spec)) ?? ''));
    client = new Etcd3({ hosts: ips.map((ip) => `http://${ip}:2379`), dialTimeout: 2000, faultHandling: { global: noop } });
    const etcd = client;
    await waitFor(() => etcd.put('floor/ready').value('1').then(() => true, () => false), { timeoutMs: 60_000, what: 'the floor etcd cluster to take writes' });
    const leaderName = (await new Lab(spec, docker).etcdLeader()) ?? 'etcd-1';
    const leader = members[Number(leaderName.slice('etcd-'.length)) - 1];
    const stop = new AbortController();
    const running = drive(rate, stop.signal, (n, write) => (write ? etcd.put(`floor/${n}`).value('x').exec() : etcd.get('floor/ready').string()));
    await new Promise((r) => setTimeout(r, 1000));
    await killAll(docker, [leader.id]);
    await new Promise((r) => setTimeout(r, windowMs - 1000));
    stop.abort();
    const out = await running;
    return summarize(`floor: etcd alone (etcd3, no retry; compare the gap), leader (${leaderName}) crashed 1 s in`, out, windowMs);
  } finally {
    client?.close();
    await removeCluster(docker, name);
  }
}

export async function haBench(): Promise<void> {
  const windowMs = flag('window', 20) * 1000;
  const rate = flag('rate', 20);
  const rounds = flag('rounds', 1);
  const t0 = Date.now();
  const c = await startCluster({ ha: true, workers: 1, controlPlaneReplicas: 1, name: `bench-ha-${process.pid}`, startTimeoutMs: 300_000 });
  process.stderr.write(`[bench] HA cluster ${c.name} up in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${rounds} round(s) of 4 phases × ${windowMs / 1000} s at ${rate} req/s\n`);
  const rows: (string | number)[][] = [];
  try {
    const ns = 'bench-ha';
    await c.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const phase = async (name: string, fault: () => Promise<unknown>, repair: () => Promise<unknown>): Promise<void> => {
      const stop = new AbortController();
      const running = load(c, ns, rate, stop.signal);
      await new Promise((r) => setTimeout(r, 1000));
      await fault();
      await new Promise((r) => setTimeout(r, windowMs - 1000));
      stop.abort();
      const samples = await running;
      rows.push(summarize(name, samples, windowMs));
      process.stderr.write(`[bench] ${name}: ${samples.length} requests, ${samples.filter((s) => !s.ok).length} failed\n`);
      await repair();
      // Healthy again before the next phase: every member and apiserver running, the node Ready.
      await waitFor(async () => (await c.lab.componentContainers('etcd')).every((m) => m.State === 'running') && (await c.lab.componentContainers('apiserver')).every((m) => m.State === 'running'), { timeoutMs: 60_000, what: 'every member running' });
      await waitFor(async () => isNodeReady(await c.client.get('nodes', 'worker-1')) && (await c.client.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'probe-', namespace: ns } }).then(() => true, () => false)), { timeoutMs: 60_000, what: 'the cluster to answer writes again' });
    };
    const leader = async (): Promise<string> => (await waitFor(() => c.lab.etcdLeader(), { timeoutMs: 30_000, what: 'etcd to have a leader' }));
    const follower = async (): Promise<string> => {
      const l = await leader();
      return ['etcd-1', 'etcd-2', 'etcd-3'].find((m) => m !== l) ?? 'etcd-1';
    };
    for (let r = 1; r <= rounds; r++) {
      await phase('baseline: nothing fails', async () => undefined, async () => undefined);
      const f = await follower();
      await phase(`etcd follower (${f}) crashed (SIGKILL) 1 s in`, () => c.crashMember('etcd', f), () => c.restartMember('etcd', f));
      const l = await leader();
      await phase(`etcd leader (${l}) crashed (SIGKILL) 1 s in`, () => c.crashMember('etcd', l), () => c.restartMember('etcd', l));
      const p = await leader();
      await phase(`etcd leader (${p}) partitioned 1 s in`, () => c.partitionEtcd(p), () => c.healEtcd(p));
      await phase('apiserver-1 crashed (SIGKILL) 1 s in', () => c.crashMember('apiserver', '1'), () => c.restartMember('apiserver', '1'));
    }
  } finally {
    await c.stop();
  }
  rows.push(await etcdFloor(windowMs, rate));
  printTable(`API availability of an HA control plane (${rate} req/s through HAProxy, half creates with no retry, half gets; failed = any error)`, ['phase', 'requests', 'failed', 'failed %', 'longest write gap ms', 'write p50 ms', 'write p99 ms', 'window s'], rows);
  // Past one machine's engine: the same run measures Service traffic across Docker hosts (--no-multihost skips it).
  if (!process.argv.includes('--no-multihost')) await crossHostBench();
}
