/**
 * Scheduler benchmark: an in-process apiserver on its own etcd, N Node objects (hollow: objects only),
 * then M pods created at once (bounded concurrency) while the scheduler runs. Measures pods bound per
 * second and creation→binding latency (create call returned → binding seen on a watch), next to raw etcd
 * transaction throughput (compare-and-swap txns, the apiserver's write primitive) measured in the same run.
 *
 * Threads stand in for processes: the main thread is the apiserver; the scheduler runs in one worker
 * thread and the load generator (pod creates + the measuring watch) in another, so that neither steals
 * the apiserver's event loop. `--inline 1` runs everything on the main thread instead.
 * The run re-executes itself with V8's young generation enlarged (`--semi-space 32` MiB, 0: Node's default):
 * the apiserver allocates a lot of short-lived objects per request, and on this machine the larger
 * nursery roughly doubled throughput (see docs/benchmarks.md).
 * Run: npm run build && node dist/bench/scheduler.js [--nodes 1000] [--pods 10000] [--concurrency 64]
 *      [--bind-concurrency 64] [--events 1] [--attempts 1] [--inline 0] [--semi-space 32]
 */
import { spawn as spawnProcess } from 'node:child_process';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Etcd3 } from 'etcd3';
import { GRPC_BASE_OPTIONS } from '../client/proto.js';
import { ApiClient } from '../client/api.js';
import { nullLogger } from '../component-base/log.js';
import type { core } from '../api/types.js';
import { compileSchedulerConfig, startScheduler } from '../scheduler/index.js';
import { startControlPlane } from '../test/support/apiserver.js';
import { flag, percentile, printTable } from './stats.js';

async function pool(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) await op(i);
    }),
  );
  return performance.now() - start;
}

function node(i: number): core.Node {
  const name = `node-${String(i).padStart(5, '0')}`;
  const resources = { cpu: '32', memory: '128Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${i % 3}` } },
    spec: {},
    status: { capacity: resources, allocatable: resources, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
  };
}

/** Pods of 100 ReplicaSets (so the spread plugin has work), 100m cpu / 128Mi each. */
function pod(i: number): core.Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${i}`,
      namespace: 'bench',
      labels: { app: `app-${i % 100}` },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs-${i % 100}`, uid: `00000000-0000-4000-8000-${String(i % 100).padStart(12, '0')}`, controller: true }],
    },
    spec: { containers: [{ name: 'c', image: 'kubelab/pause:latest', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
  };
}

async function rawEtcdTxns(endpoint: string, n: number, concurrency: number): Promise<number> {
  const etcd = new Etcd3({ hosts: endpoint, grpcOptions: { ...GRPC_BASE_OPTIONS } });
  try {
    const body = JSON.stringify(pod(0));
    const ms = await pool(n, concurrency, async (i) => {
      const key = `/raw/txn-${i}`;
      await etcd.if(key, 'Create', '==', 0).then(etcd.put(key).value(body)).commit();
    });
    return (n / ms) * 1000;
  } finally {
    etcd.close();
  }
}

interface LoadResult {
  wallMs: number;
  createMs: number;
  bindWindowMs: number;
  latencies: number[];
}

/** Creates the pods and watches them get bound; resolves when every pod is bound. */
async function generateLoad(address: string, pods: number, concurrency: number): Promise<LoadResult> {
  const client = new ApiClient(address);
  const created = new Map<string, number>();
  const bound = new Map<string, number>();
  const watchCtl = new AbortController();
  let allBound: () => void = () => undefined;
  const finished = new Promise<void>((r) => (allBound = r));
  let watchReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (watchReady = r));
  const list = await client.list('pods', { namespace: 'bench' });
  const watching = (async () => {
    const stream = client.watch('pods', { namespace: 'bench', resourceVersion: list.metadata.resourceVersion, signal: watchCtl.signal });
    watchReady();
    for await (const ev of stream) {
      const name = ev.object.metadata?.name ?? '';
      if (ev.object.spec?.nodeName && !bound.has(name)) {
        bound.set(name, performance.now());
        if (bound.size === pods) allBound();
      }
    }
  })().catch(() => undefined);
  await ready;
  const t0 = performance.now();
  const createMs = await pool(pods, concurrency, async (i) => {
    await client.create('pods', pod(i));
    created.set(`pod-${i}`, performance.now());
  });
  await finished;
  const wallMs = performance.now() - t0;
  watchCtl.abort();
  await watching;
  client.close();
  const times = [...bound.values()].sort((a, b) => a - b);
  return {
    wallMs,
    createMs,
    bindWindowMs: times[times.length - 1] - times[0],
    latencies: [...bound].map(([name, t]) => t - (created.get(name) ?? t)),
  };
}

function schedulerConfig(apiserver: string, bindConcurrency: number, events: boolean, attempts: boolean) {
  return compileSchedulerConfig({ apiserver, adminPort: 0, bindAddress: '127.0.0.1', leaderElect: false, bindConcurrency, scheduledEvents: events, recordAttempts: attempts });
}

type Job = { role: 'scheduler'; apiserver: string; bindConcurrency: number; events: boolean; attempts: boolean } | { role: 'load'; apiserver: string; pods: number; concurrency: number };

type Reply = { ready: true } | { stats: string } | { load: LoadResult };

function spawn(job: Job): { next(): Promise<Reply>; worker: Worker } {
  const worker = new Worker(new URL(import.meta.url), { workerData: job });
  return {
    worker,
    next: () =>
      new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
  };
}

/** Re-runs this benchmark under `node --max-semi-space-size=<mb>` unless already so; resolves with its exit code. */
async function reexecWithSemiSpace(mb: number): Promise<number | undefined> {
  if (mb <= 0 || process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) return undefined;
  const child = spawnProcess(process.execPath, [`--max-semi-space-size=${mb}`, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

async function main(): Promise<void> {
  const code = await reexecWithSemiSpace(flag('semi-space', 32));
  if (code !== undefined) process.exit(code);
  const semi = process.execArgv.find((a) => a.startsWith('--max-semi-space-size'))?.split('=')[1] ?? 'default';
  const nodes = flag('nodes', 1000);
  const pods = flag('pods', 10_000);
  const concurrency = flag('concurrency', 64);
  const bindConcurrency = flag('bind-concurrency', 64);
  const events = flag('events', 1) !== 0;
  // The scheduler's record of each pod's last attempt (every node's verdict and score) for /debug/attempts.
  const attempts = flag('attempts', 1) !== 0;
  const inline = flag('inline', 0) !== 0;
  const cp = await startControlPlane();
  const ctl = new AbortController();
  const workers: Worker[] = [];
  try {
    const etcdTxnPerSec = await rawEtcdTxns(cp.etcd.endpoint, 5000, concurrency);
    await cp.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    await pool(nodes, 32, (i) => cp.client.create('nodes', node(i)));

    let stats: () => Promise<string>;
    let load: LoadResult;
    if (inline) {
      const sched = await startScheduler(schedulerConfig(cp.address, bindConcurrency, events, attempts), ctl.signal, { logger: nullLogger() });
      await sched.scheduler.waitForSync(ctl.signal);
      const s = sched.stats;
      stats = async () => `${s.scheduled} / ${s.unschedulable} / ${s.errors}`;
      load = await generateLoad(cp.address, pods, concurrency);
    } else {
      const sched = spawn({ role: 'scheduler', apiserver: cp.address, bindConcurrency, events, attempts });
      workers.push(sched.worker);
      await sched.next();
      stats = async () => {
        const reply = sched.next();
        sched.worker.postMessage('stats');
        const m = await reply;
        return 'stats' in m ? m.stats : '';
      };
      const gen = spawn({ role: 'load', apiserver: cp.address, pods, concurrency });
      workers.push(gen.worker);
      const m = await gen.next();
      if (!('load' in m)) throw new Error('load generator sent no result');
      load = m.load;
    }

    const perNode = new Map<string, number>();
    const all = await cp.client.list('pods', { namespace: 'bench' });
    for (const p of all.items) if (p.spec?.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    const counts = [...perNode.values()];
    const boundPerSec = (pods / load.wallMs) * 1000;
    printTable(
      `Scheduler: ${nodes} nodes, ${pods} pods created at once (create concurrency ${concurrency}, bind concurrency ${bindConcurrency}, Scheduled events ${events ? 'on' : 'off'}, attempt records ${attempts ? 'on' : 'off'}, ${inline ? 'one thread' : 'apiserver / scheduler / load in separate threads'}, semi-space ${semi} MiB)`,
      ['measure', 'value'],
      [
        ['pods bound / s (first create → last bind)', boundPerSec],
        ['pods bound / s (first bind → last bind)', (pods / load.bindWindowMs) * 1000],
        ['pods created / s', (pods / load.createMs) * 1000],
        ['creation → binding p50 ms', percentile(load.latencies, 50)],
        ['creation → binding p99 ms', percentile(load.latencies, 99)],
        ['wall time s', load.wallMs / 1000],
        ['pods per node min / max', `${Math.min(...counts)} / ${Math.max(...counts)} (${perNode.size} nodes used)`],
        ['raw etcd txn / s (CAS put, same concurrency)', etcdTxnPerSec],
        ['pods bound / s ÷ raw etcd txn / s', boundPerSec / etcdTxnPerSec],
        ['scheduler attempts (scheduled / unschedulable / errors)', await stats()],
      ],
    );
  } finally {
    ctl.abort();
    await Promise.all(workers.map((w) => w.terminate()));
    await cp.stop();
  }
}

async function workerMain(job: Job): Promise<void> {
  if (job.role === 'load') {
    parentPort?.postMessage({ load: await generateLoad(job.apiserver, job.pods, job.concurrency) });
    return;
  }
  const ctl = new AbortController();
  const sched = await startScheduler(schedulerConfig(job.apiserver, job.bindConcurrency, job.events, job.attempts), ctl.signal, { logger: nullLogger() });
  await sched.scheduler.waitForSync(ctl.signal);
  parentPort?.on('message', () => {
    const s = sched.stats;
    parentPort?.postMessage({ stats: `${s.scheduled} / ${s.unschedulable} / ${s.errors}` });
  });
  parentPort?.postMessage({ ready: true });
}

(isMainThread ? main() : workerMain(workerData as Job)).then(
  () => {
    if (isMainThread) process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
