/**
 * Scale soak (issue 18): a control plane as the lab runs it — etcd, the apiserver, the scheduler and the
 * controller-manager, each in its own process — with N hollow nodes (real kubelets on the in-memory runtime,
 * --node-procs (2) processes of N / node-procs nodes each: each process watches every pod once, as one informer, so
 * fewer processes mean less watch traffic for the apiserver), then D Deployments of R replicas created at once.
 * Measures, in one run:
 * - time from the first Deployment create to every pod Running, and pods Running per second;
 * - each control-plane process's peak RSS (from /proc) and their sum (goal: ≤ 2 GiB);
 * - API mutating calls during the creation (a probe ConfigMap created and deleted every 250 ms, by a user of its
 *   own on a connection of its own): p50/p99 (Kubernetes' SLO: p99 ≤ 1 s), and the watch delivery lag of those
 *   creates (create returned → event on a watch in this process). Every client has its own identity (static
 *   tokens), so the apiserver's fair queuing tells the probe from the controller-manager's burst, as Kubernetes'
 *   API Priority and Fairness does by user;
 * - Ready → not-Ready transitions of nodes over the soak (--soak-minutes, default 30; goal 0);
 * - then --crash nodes (100) stop at once (their kubelets end, in the first hollow-node process): time until
 *   they are all NotReady and until every replica is Running on the other nodes;
 * - baseline in the same run: the same number of pod-sized compare-and-swap transactions straight to etcd (the
 *   storage floor of the creates, with no kubelab code).
 * Timing: Kubernetes' defaults for the kubelets and the node lifecycle (lease renewed every 10 s, 40 s grace) —
 * the lab preset's 1.25 s renewal would be 800 lease writes a second from 1000 nodes — with the pods' default
 * not-ready/unreachable toleration at --toleration seconds (default 30; Kubernetes: 300) and --eviction-rate
 * nodes tainted per second (default 100; Kubernetes: 0.1, which would take 17 minutes for 100 nodes).
 * Run: npm run build && node dist/bench/scale.js [--nodes 1000] [--deployments 300] [--replicas 100]
 *      [--node-procs 2] [--crash 100] [--soak-minutes 30] [--toleration 30] [--eviction-rate 100] [--concurrency 16]
 *      [--max-mutating-inflight 50] (the apiserver's --max-mutating-requests-inflight, its default)
 * Environment, for digging: KUBELAB_HOLLOW_LOG_LEVEL=debug logs each hollow pod sync's timeline to the run's log
 * directory (printed when a component restarts); KUBELAB_COMPONENT_NODE_FLAGS="--max-semi-space-size=16" passes
 * Node.js/V8 flags to the components; KUBELAB_HEAP_GROWING_PERCENT (default 50, 0: V8's own) sets how far their
 * heaps grow between full GCs (component-base/process.ts).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { ApiClient } from '../client/api.js';
import { Informer } from '../client/informer.js';
import { GRPC_BASE_OPTIONS } from '../client/proto.js';
import { waitFor } from '../client/wait.js';
import { isNodeReady } from '../api/objects.js';
import type { core } from '../api/types.js';
import { startHollowNodes } from '../kubelet/hollow.js';
import { createLogger } from '../component-base/log.js';
import { DEFAULT_HEAP_GROWING_PERCENT } from '../component-base/process.js';
import { DEFAULT_MAX_MUTATING_INFLIGHT } from '../apiserver/config.js';
import { freePort, startEtcd } from '../test/support/etcd.js';
import { flag, imageNodeOptions, median, percentile, printTable } from './stats.js';

const NS = 'scale';
const PROBE_NS = 'scale-probe';
const HERE = dirname(fileURLToPath(import.meta.url));
const say = (line: string): void => void process.stderr.write(`[scale] ${line}\n`);

function rssMiB(pid: number | undefined, field = 'VmRSS'): number {
  if (pid === undefined) return NaN;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * A component's V8 heap in use and its memory outside the heap (Buffers: sockets' write queues, gRPC frames), from
 * prom-client's nodejs_heap_size_used_bytes and nodejs_external_memory_bytes on its admin port, MiB.
 */
async function heapMiB(adminPort: number | undefined): Promise<{ heap: number; external: number }> {
  if (!adminPort) return { heap: NaN, external: NaN };
  try {
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const get = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 1024 ** 2;
    return { heap: get('nodejs_heap_size_used_bytes'), external: get('nodejs_external_memory_bytes') };
  } catch {
    return { heap: NaN, external: NaN };
  }
}

function deployment(i: number, replicas: number): unknown {
  const name = `app-${String(i).padStart(3, '0')}`;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'kubelab/pause:latest', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
      },
    },
  };
}

async function pool(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) await op(i);
    }),
  );
}

/**
 * The storage floor: `n` pod-sized create transactions (compare-and-swap on a new key) straight to an etcd of its
 * own, started with the same flags and stopped after. Not the cluster's etcd: etcd 3.4 keeps the capacity its
 * write buffer reached for good, and every read then copies all of it (ConcurrentReadTx) — after one delete of the
 * floor's 30,000 keys every Range and Txn of the run allocated ~1.4 MB, and etcd spent its CPU in memclr and GC
 * (perf, 2026-12-05: 10× the CPU per request, the scheduler's lease renewals over 5 s).
 */
async function rawEtcdCreates(args: string[], n: number, concurrency: number, body: string): Promise<number> {
  const own = await startEtcd({ args });
  const etcd = new Etcd3({ hosts: own.endpoint, grpcOptions: { ...GRPC_BASE_OPTIONS } });
  try {
    const t0 = performance.now();
    await pool(n, concurrency, async (i) => {
      const key = `/raw/pod-${i}`;
      await etcd.if(key, 'Create', '==', 0).then(etcd.put(key).value(body)).commit();
    });
    return performance.now() - t0;
  } finally {
    etcd.close();
    await own.stop();
  }
}

/** A hollow-node process (this file run with --hollow-child): its nodes run until the process is killed. */
async function hollowChild(): Promise<void> {
  const arg = (name: string): string => process.argv[process.argv.indexOf(`--${name}`) + 1] ?? '';
  const ctl = new AbortController();
  const nodes = await startHollowNodes(
    {
      apiserver: arg('apiserver'),
      token: arg('token'),
      count: Number(arg('count')),
      namePrefix: arg('prefix'),
      cpu: '32',
      memory: '256Gi',
      maxPods: 110,
      timing: 'default',
      // Warnings and up (a pod sync that failed and backs off) to this process's stdout: the bench's log file
      // (KUBELAB_HOLLOW_LOG_LEVEL=debug: each pod sync's timeline too).
      logger: createLogger('hollow-nodes', { level: process.env.KUBELAB_HOLLOW_LOG_LEVEL ?? 'warn', pretty: false }),
    },
    ctl.signal,
  );
  // {crash: n}: the first n nodes of this process stop at once (the others run on).
  process.on('message', (m: { crash?: number }) => {
    if (typeof m?.crash === 'number') void nodes.crash(nodes.nodeNames.slice(0, m.crash)).then(() => process.send?.({ crashed: m.crash }));
  });
  process.send?.('ready');
  process.on('SIGTERM', () => ctl.abort());
}

interface Probe {
  mutating: number[];
  watchLag: number[];
}

/** Every 250 ms: create a probe ConfigMap and delete it (two mutating calls), timed; its ADDED event timed on a watch. */
function startProbe(client: ApiClient, signal: AbortSignal): { take(): Probe } {
  let cur: Probe = { mutating: [], watchLag: [] };
  const returned = new Map<string, number>();
  const early = new Map<string, number>();
  void (async () => {
    for (;;) {
      try {
        for await (const ev of client.watch('configmaps', { namespace: PROBE_NS, signal })) {
          const name = ev.object.metadata?.name ?? '';
          if (ev.type !== 'ADDED') continue;
          const at = Date.now();
          const r = returned.get(name);
          if (r === undefined) early.set(name, at);
          else {
            cur.watchLag.push(Math.max(0, at - r));
            returned.delete(name);
          }
        }
      } catch {
        /* re-watch below */
      }
      if (signal.aborted) return;
    }
  })();
  void (async () => {
    for (let i = 0; !signal.aborted; i++) {
      const name = `probe-${i}`;
      try {
        let t = Date.now();
        await client.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: PROBE_NS }, data: { i: String(i) } }, { namespace: PROBE_NS });
        const r = Date.now();
        cur.mutating.push(r - t);
        const e = early.get(name);
        if (e !== undefined) {
          cur.watchLag.push(0);
          early.delete(name);
        } else returned.set(name, r);
        t = Date.now();
        await client.delete('configmaps', name, { namespace: PROBE_NS });
        cur.mutating.push(Date.now() - t);
      } catch (err) {
        if (!signal.aborted) say(`probe ${name}: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    take() {
      const out = cur;
      cur = { mutating: [], watchLag: [] };
      return out;
    },
  };
}

async function main(): Promise<void> {
  const nodes = flag('nodes', 1000);
  const deployments = flag('deployments', 300);
  const replicas = flag('replicas', 100);
  const nodeProcs = Math.max(1, Math.min(nodes, flag('node-procs', 2)));
  const crashNodes = flag('crash', 100);
  const soakMinutes = flag('soak-minutes', 30);
  const toleration = flag('toleration', 30);
  const evictionRate = flag('eviction-rate', 100);
  const concurrency = flag('concurrency', 16);
  const maxMutating = flag('max-mutating-inflight', DEFAULT_MAX_MUTATING_INFLIGHT);
  const total = deployments * replicas;
  const perProc = Math.ceil(nodes / nodeProcs);
  const rows: (string | number)[][] = [];
  const ctl = new AbortController();
  // The informers, probes and child processes all listen on this one signal.
  setMaxListeners(0, ctl.signal);
  const children: ChildProcess[] = [];

  // etcd with room for the run's history between compactions (30,000 pods written ~4 times, their events).
  const etcdArgs = ['--quota-backend-bytes', String(8 * 1024 ** 3)];
  const etcd = await startEtcd({ args: etcdArgs });
  // The components as the images run them: the bundle (deploy/bundle.mjs) when it was built.
  const bundled = join(HERE, '..', 'bundle', 'component.js');
  const component = existsSync(bundled) ? bundled : join(HERE, '..', 'cmd', 'component.js');
  // With the image's Node.js options (V8's young generation), as the lab runs them.
  const env = { ...process.env, KUBELAB_LOG_LEVEL: 'warn', NODE_OPTIONS: imageNodeOptions() };
  // Each component's log (pino, warn and up) goes to a file; one that exits is started again, as Docker's restart
  // policy does in the lab (a leader that cannot renew its lease in time exits on purpose).
  const logDir = mkdtempSync(join(tmpdir(), 'kubelab-scale-'));
  const restarts: Record<string, number> = {};
  const start = (name: string, args: string[], onRestart?: (c: ChildProcess) => void): ChildProcess => {
    const out = openSync(join(logDir, `${name}.log`), 'a');
    const c = spawn(process.execPath, [...(process.env.KUBELAB_COMPONENT_NODE_FLAGS ?? '').split(' ').filter(Boolean), component, name, ...args], { stdio: ['ignore', out, out], env });
    c.on('exit', (code, sig) => {
      if (ctl.signal.aborted) return;
      restarts[name] = (restarts[name] ?? 0) + 1;
      say(`${name} exited (${code ?? sig}); starting it again (its log: ${join(logDir, `${name}.log`)})`);
      onRestart?.(start(name, args, onRestart));
    });
    children.push(c);
    return c;
  };
  // Each client its own identity (static tokens), so that the apiserver's flow control tells their requests apart
  // as Kubernetes' does by user: the scheduler, the controller-manager, each hollow-node process, the probe; the
  // bench's own Deployment creates go as the insecure apiserver's anonymous admin.
  const tokens = { scheduler: randomUUID(), 'controller-manager': randomUUID(), probe: randomUUID(), hollow: randomUUID() };
  const tokenFile = join(logDir, 'tokens.csv');
  writeFileSync(
    tokenFile,
    [
      `${tokens.scheduler},system:kube-scheduler,,`,
      `${tokens['controller-manager']},system:kube-controller-manager,,`,
      `${tokens.probe},scale-probe,,`,
      ...Array.from({ length: nodeProcs }, (_, k) => `${tokens.hollow}-${k},hollow-nodes-${k},,`),
    ].join('\n') + '\n',
    { mode: 0o600 },
  );
  const grpcPort = await freePort();
  const apiserver = `127.0.0.1:${grpcPort}`;
  const control: Record<string, number | undefined> = { etcd: etcd.pid };
  // Admin ports (healthz, metrics): the V8 heap in use beside the RSS tells live objects from garbage not yet collected.
  const admin: Record<string, number> = { apiserver: await freePort(), scheduler: await freePort(), 'controller-manager': await freePort() };
  control.apiserver = start('apiserver', [
    '--etcd-servers', etcd.endpoint, '--grpc-port', String(grpcPort), '--http-port', String(await freePort()), '--admin-port', String(admin.apiserver), '--bind-address', '127.0.0.1',
    '--insecure', '--authorization-mode', 'AlwaysAllow', '--token-auth-file', tokenFile, '--timing', 'default', '--default-toleration-seconds', String(toleration),
    '--max-mutating-requests-inflight', String(maxMutating),
  ], (c) => (control.apiserver = c.pid)).pid;
  const client = new ApiClient(apiserver, { timeoutMs: 60_000 });
  const hollow: ChildProcess[] = [];
  try {
    await waitFor(() => client.list('namespaces', { limit: 1 }).then(() => true, () => false), { what: 'the apiserver', timeoutMs: 60_000 });
    control.scheduler = start('scheduler', ['--apiserver', apiserver, '--token', tokens.scheduler, '--admin-port', String(admin.scheduler), '--timing', 'default'], (c) => (control.scheduler = c.pid)).pid;
    control['controller-manager'] = start(
      'controller-manager',
      ['--apiserver', apiserver, '--token', tokens['controller-manager'], '--admin-port', String(admin['controller-manager']), '--metrics-port', '0', '--metrics-advertise-address', '127.0.0.1', '--timing', 'default', '--node-eviction-rate', String(evictionRate)],
      (c) => (control['controller-manager'] = c.pid),
    ).pid;
    const peak: Record<string, number> = {};
    // etcd's RSS counts the pages of its memory-mapped database it touched (file-backed, RssFile) beside its Go heap.
    let etcdFileAtPeak = NaN;
    const peakHeap: Record<string, number> = {};
    const peakExternal: Record<string, number> = {};
    let samples = 0;
    const sampler = setInterval(() => {
      for (const [name, pid] of Object.entries(control)) {
        const rss = rssMiB(pid) || 0;
        if (rss > (peak[name] ?? 0) && name === 'etcd') etcdFileAtPeak = rssMiB(pid, 'RssFile');
        peak[name] = Math.max(peak[name] ?? 0, rss);
      }
      // The heap every 10 s only: a /metrics scrape is work on the component's own event loop.
      if (samples++ % 5 === 0)
        for (const [name, port] of Object.entries(admin))
          void heapMiB(port).then((h) => {
            peakHeap[name] = Math.max(peakHeap[name] ?? 0, h.heap || 0);
            peakExternal[name] = Math.max(peakExternal[name] ?? 0, h.external || 0);
          });
    }, 2_000);
    ctl.signal.addEventListener('abort', () => clearInterval(sampler), { once: true });

    for (const ns of [NS, PROBE_NS]) await client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const floorMs = await rawEtcdCreates(etcdArgs, total, 64, JSON.stringify(deployment(0, 1)).padEnd(2_000));
    say(`floor: ${total} pod-sized etcd creates in ${(floorMs / 1000).toFixed(1)} s`);

    // Nodes: their Ready flips are counted from here on.
    const nodeInf = new Informer(client, 'nodes', { pageSize: 1000 });
    const flaps: { node: string; at: number }[] = [];
    nodeInf.addHandler({
      onUpdate: (o, n) => {
        if (isNodeReady(o) && !isNodeReady(n)) flaps.push({ node: n.metadata?.name ?? '', at: Date.now() });
      },
    });
    nodeInf.start(ctl.signal);
    const t0nodes = Date.now();
    const childPath = fileURLToPath(import.meta.url);
    for (let k = 0; k < nodeProcs; k++) {
      const count = Math.min(perProc, nodes - k * perProc);
      if (count <= 0) break;
      const out = openSync(join(logDir, `hollow-${k}.log`), 'a');
      const c = fork(childPath, ['--hollow-child', '--apiserver', apiserver, '--token', `${tokens.hollow}-${k}`, '--count', String(count), '--prefix', `hollow-${k}-`], { env, stdio: ['ignore', out, 'inherit', 'ipc'] });
      hollow.push(c);
      children.push(c);
    }
    await waitFor(() => nodeInf.list().filter(isNodeReady).length >= nodes, {
      timeoutMs: 600_000,
      intervalMs: 1_000,
      what: `${nodes} hollow nodes Ready`,
    });
    const nodesS = (Date.now() - t0nodes) / 1000;
    say(`${nodes} hollow nodes Ready in ${nodesS.toFixed(1)} s (${hollow.length} processes)`);
    rows.push([`${nodes} hollow nodes registered and Ready (${hollow.length} processes)`, nodesS, 's', '']);

    // Pods: counted from an informer in this process.
    const podInf = new Informer(client, 'pods', { namespace: NS, pageSize: 1000 });
    podInf.start(ctl.signal);
    await podInf.waitForSync(ctl.signal);
    /** Running pods (not on `exclude` nodes); 0 while more pods than replicas exist (a timed-out create that did land). */
    const running = (exclude?: Set<string>): number => {
      let n = 0;
      let live = 0;
      for (const p of podInf.list()) {
        if (p.metadata?.deletionTimestamp) continue;
        live++;
        if (p.status?.phase === 'Running' && !(exclude?.has(p.spec?.nodeName ?? ''))) n++;
      }
      return live > total ? Math.min(n, total - 1) : n;
    };
    // The probe as a user of its own on a connection of its own (not behind this process's pod informer).
    const probe = startProbe(new ApiClient(apiserver, { timeoutMs: 60_000, token: tokens.probe, ownConnection: true }), ctl.signal);
    probe.take();
    const rssHollow = (): number => hollow.reduce((s, c) => s + (rssMiB(c.pid) || 0), 0);

    const t0 = Date.now();
    await pool(deployments, concurrency, (i) => client.create('deployments', deployment(i, replicas) as never, { namespace: NS }));
    const createdS = (Date.now() - t0) / 1000;
    say(`${deployments} Deployments created in ${createdS.toFixed(1)} s; waiting for ${total} pods Running`);
    let lastLog = 0;
    await waitFor(
      () => {
        const r = running();
        if (Date.now() - lastLog > 10_000) {
          lastLog = Date.now();
          const rss = Object.entries(control).map(([k, pid]) => `${k} ${rssMiB(pid).toFixed(0)}${peakHeap[k] ? ` (heap peak ${peakHeap[k].toFixed(0)})` : ''}`).join(', ');
          say(`${((Date.now() - t0) / 1000).toFixed(0)} s: ${podInf.list().length} pods, ${r} Running; RSS MiB ${rss}; load ${loadavg()[0]?.toFixed(1)}`);
        }
        return r >= total;
      },
      { timeoutMs: 3_600_000, intervalMs: 1_000, what: `${total} pods Running` },
    );
    const allRunningS = (Date.now() - t0) / 1000;
    const during = probe.take();
    say(`${total} pods Running after ${allRunningS.toFixed(1)} s`);
    const cpSum = Object.keys(control).reduce((s, k) => s + (peak[k] ?? 0), 0);
    rows.push([`${deployments} Deployments × ${replicas} replicas: create → all ${total} pods Running`, allRunningS, 's', '']);
    rows.push(['  pods Running per second', total / allRunningS, 'pods/s', '']);
    rows.push([`  baseline: ${total} pod-sized creates straight to a fresh etcd (64 in flight), same run`, floorMs / 1000, 's', `kubelab ÷ floor ${(allRunningS / (floorMs / 1000)).toFixed(1)}×`]);
    const heapNow = Object.fromEntries(await Promise.all(Object.entries(admin).map(async ([k, port]) => [k, await heapMiB(port)] as const)));
    for (const k of Object.keys(control))
      rows.push([
        `peak RSS ${k}`,
        peak[k] ?? NaN,
        'MiB',
        k === 'etcd' ? `of which its memory-mapped database (file-backed pages) ${etcdFileAtPeak.toFixed(0)} MiB` : k in admin ? `V8 heap used: peak ${(peakHeap[k] ?? NaN).toFixed(0)}, now ${(heapNow[k]?.heap ?? NaN).toFixed(0)}; outside the heap: peak ${(peakExternal[k] ?? NaN).toFixed(0)}, now ${(heapNow[k]?.external ?? NaN).toFixed(0)} MiB` : '',
      ]);
    rows.push(['peak RSS apiserver + etcd + scheduler + controller-manager (sum of peaks)', cpSum, 'MiB', '≤ 2048']);
    rows.push([`RSS of the ${hollow.length} hollow-node processes together (after creation)`, rssHollow(), 'MiB', '']);
    rows.push([`API mutating calls during creation, p50 / p99 (${during.mutating.length} calls; apiserver: ${maxMutating} mutating seats)`, `${median(during.mutating).toFixed(0)} / ${percentile(during.mutating, 99).toFixed(0)}`, 'ms', 'p99 ≤ 1000']);
    rows.push([`watch delivery lag during creation, p50 / p99 (${during.watchLag.length} events)`, `${median(during.watchLag).toFixed(0)} / ${percentile(during.watchLag, 99).toFixed(0)}`, 'ms', '']);

    // Soak: nothing changes; count nodes leaving Ready.
    const flapsBefore = flaps.length;
    if (soakMinutes > 0) {
      say(`soak: ${soakMinutes} min idle with ${total} pods; counting NotReady flaps`);
      const end = Date.now() + soakMinutes * 60_000;
      while (Date.now() < end) {
        await new Promise((r) => setTimeout(r, Math.min(60_000, end - Date.now())));
        say(`soak: ${Math.round((end - Date.now()) / 60_000)} min left, ${flaps.length - flapsBefore} flaps, load ${loadavg()[0]?.toFixed(1)}`);
      }
    }
    const soak = probe.take();
    const soakFlaps = flaps.slice(flapsBefore);
    rows.push([`false NotReady over the soak (${soakMinutes} min)`, soakFlaps.length, soakFlaps.slice(0, 5).map((f) => f.node).join(', ') || 'nodes', '0']);
    if (soak.mutating.length > 0) rows.push([`API mutating calls during the soak, p50 / p99 (${soak.mutating.length})`, `${median(soak.mutating).toFixed(0)} / ${percentile(soak.mutating, 99).toFixed(0)}`, 'ms', '']);
    rows.push(['false NotReady during creation', flapsBefore, flaps.slice(0, 5).map((f) => f.node).join(', ') || 'nodes', '0']);

    // Crash: --crash nodes of the first hollow-node process stop at once (their kubelets end: no more heartbeats).
    const victim = hollow[0];
    const lost = new Set(Array.from({ length: Math.min(crashNodes, perProc) }, (_, i) => `hollow-0-${i}`));
    const onLost = podInf.list().filter((p) => lost.has(p.spec?.nodeName ?? '')).length;
    say(`crash: ${lost.size} nodes of hollow-node process 0 stop at once (${onLost} pods on them)`);
    const tc = Date.now();
    victim?.send({ crash: lost.size });
    // A figure that is not reached is a row of the table too (the table must come out either way).
    const notReadyCount = (): number => nodeInf.list().filter((n) => lost.has(n.metadata?.name ?? '') && !isNodeReady(n)).length;
    lastLog = 0;
    const notReadyS = await waitFor(
      () => {
        if (Date.now() - lastLog > 10_000) {
          lastLog = Date.now();
          say(`crash: ${((Date.now() - tc) / 1000).toFixed(0)} s: ${notReadyCount()}/${lost.size} NotReady`);
        }
        return notReadyCount() === lost.size;
      },
      { timeoutMs: 300_000, intervalMs: 500, what: `the ${lost.size} crashed nodes NotReady` },
    ).then(
      () => (Date.now() - tc) / 1000,
      () => undefined,
    );
    if (notReadyS === undefined) {
      say(`crash: only ${notReadyCount()}/${lost.size} NotReady after 300 s (controller-manager log: ${join(logDir, 'controller-manager.log')})`);
      rows.push([`crash of ${lost.size} nodes at once (${onLost} pods): NotReady within 300 s`, notReadyCount(), `of ${lost.size} nodes`, 'grace 40 s − lease age']);
    } else {
      say(`crash: ${lost.size} nodes NotReady after ${notReadyS.toFixed(1)} s`);
      lastLog = 0;
      const replacedS = await waitFor(
        () => {
          const r = running(lost);
          if (Date.now() - lastLog > 10_000) {
            lastLog = Date.now();
            say(`crash: ${((Date.now() - tc) / 1000).toFixed(0)} s: ${r}/${total} Running off the crashed nodes`);
          }
          return r >= total;
        },
        { timeoutMs: 1_800_000, intervalMs: 1_000, what: `${total} pods Running off the crashed nodes` },
      ).then(
        () => (Date.now() - tc) / 1000,
        () => undefined,
      );
      rows.push([`crash of ${lost.size} nodes at once (${onLost} pods): all NotReady after`, notReadyS, 's', 'grace 40 s − lease age']);
      if (replacedS === undefined) rows.push([`  … every replica Running on the other nodes`, `only ${running(lost)} of ${total} after 1800 s`, '', `timers ≤ 40 + ${toleration} s`]);
      else {
        rows.push([`  … every replica Running on the other nodes after`, replacedS, 's', `timers ≤ 40 + ${toleration} s`]);
        rows.push(['  of which after the timers (eviction, ReplicaSets, scheduling, start)', replacedS - notReadyS - toleration, 's', '']);
      }
    }
    const crashProbe = probe.take();
    rows.push([`API mutating calls during the crash, p50 / p99 (${crashProbe.mutating.length})`, `${median(crashProbe.mutating).toFixed(0)} / ${percentile(crashProbe.mutating, 99).toFixed(0)}`, 'ms', '']);
    rows.push(['load average (1 min) at the end', loadavg()[0] ?? NaN, '', '']);
    rows.push(['component restarts (exited and started again)', Object.values(restarts).reduce((a, b) => a + b, 0), Object.entries(restarts).map(([k, n]) => `${k} ${n}`).join(', ') || '-', '0']);
    printTable(
      `Scale: ${nodes} hollow nodes in ${hollow.length} processes, ${deployments} × ${replicas} pods; Kubernetes-default timing, toleration ${toleration} s, eviction rate ${evictionRate}/s; etcd --unsafe-no-fsync; components' heap growth ${process.env.KUBELAB_HEAP_GROWING_PERCENT || DEFAULT_HEAP_GROWING_PERCENT} % (0: V8's own), NODE_OPTIONS ${env.NODE_OPTIONS}${process.env.KUBELAB_COMPONENT_NODE_FLAGS ? ` ${process.env.KUBELAB_COMPONENT_NODE_FLAGS}` : ''}`,
      ['what', 'value', 'unit', 'goal / note'],
      rows,
    );
  } finally {
    ctl.abort();
    client.close();
    for (const c of children) c.kill('SIGKILL');
    await etcd.stop();
  }
}

if (process.argv.includes('--hollow-child')) {
  hollowChild().catch((err: unknown) => {
    process.stderr.write(`hollow nodes: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`scale benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
