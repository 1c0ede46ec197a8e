/**
 * Lab benchmark:
 * - self-healing time: `node crash` of a random worker (pods spread 2/2/2 before each round) →
 *   6 replicas of a Deployment Running again off that node; p50/p90 over --rounds (10), lab preset,
 *   with a timeline per round built from what the bench sees on its own watches (host clock, ms):
 *   the crashed node's last lease renewal, Ready=Unknown, the NoExecute taint, the pods' eviction,
 *   the ReplicaSet's replacements, their binding, their containers' start (Docker's StartedAt) and
 *   the kubelet's Running report. The same path under the Kubernetes-defaults preset is computed
 *   from its timers plus the measured tail, since waiting 5+ minutes per round measures only timers.
 * - false NotReady: Ready≠True transitions of nodes that were not crashed, over the whole run (goal 0).
 * - floor: a pause + busybox pod started with dockerode, no kubelab code, in the same run.
 * - lab start with images cached, and the idle cost of a 3-worker lab (docker stats).
 * Run: npm run build && node dist/bench/lab.js [--rounds 10] [--fault crash|partition] [--compose N] [--timing lab|default]
 *      (--rounds 0 --compose 3: only the compose lab's start, three times, against the floor;
 *       --rounds 0 --start 3: a test's startCluster({ workers: 1 }), three times, against the floor)
 *      node dist/bench/lab.js --ha [--window 20] [--rate 20] [--rounds 1] [--requests 2000] [--mh-rounds 3]
 *      [--no-multihost]: API availability while HA control-plane members fail (bench/ha.ts), then Service
 *      throughput across two Docker hosts ÷ on one (bench/multihost.ts)
 * (`--fault partition` cuts the node off instead: no Docker signal, so the lease path even in the lab preset.)
 */
import { execFile, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { isNodeReady, nodeCondition } from '../api/objects.js';
import type { core } from '../api/types.js';
import { TIMING, healTimers, isTimingPreset, type TimingPreset } from '../component-base/timing.js';
import { checkoutRoot, labDown, labUp, type UpResult } from '../cli/lab/compose.js';
import { waitForComponents } from '../cli/lab/ready.js';
import { startCluster, type TestCluster } from '../test/cluster/index.js';
import { waitFor } from '../client/wait.js';
import { flag, median, percentile, printTable } from './stats.js';
import { haBench } from './ha.js';

const run = promisify(execFile);
const NS = 'bench-lab';
const TAINTS = ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready'];

async function runningPods(c: TestCluster): Promise<core.Pod[]> {
  const pods = (await c.client.list('pods', { namespace: NS, labelSelector: 'app=web' })).items;
  return pods.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
}

async function deploy(c: TestCluster, replicas: number): Promise<void> {
  await c.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await c.client.create('deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{ name: 'httpd', image: 'kubelab/busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['httpd', '-f', '-p', '8080', '-h', '/'] }],
        },
      },
    },
  });
  await waitFor(async () => (await runningPods(c)).length === replicas, { timeoutMs: 300_000, intervalMs: 250, what: `${replicas} pods Running` });
}

interface Seen<T> {
  t: number;
  type: string;
  obj: T;
}

/** Everything the bench's watches saw, stamped with the host clock on arrival. */
class Recorder {
  readonly nodes: Seen<core.Node>[] = [];
  readonly pods: Seen<core.Pod>[] = [];
  readonly leases: Seen<{ metadata?: { name?: string }; spec?: { renewTime?: string } }>[] = [];
  private readonly ctl = new AbortController();

  constructor(private readonly c: TestCluster) {}

  start(): void {
    void this.follow('nodes', {}, this.nodes);
    void this.follow('pods', { namespace: NS }, this.pods);
    void this.follow('leases', { namespace: 'kube-node-lease' }, this.leases);
  }

  stop(): void {
    this.ctl.abort();
  }

  private async follow<T>(resource: 'nodes' | 'pods' | 'leases', opts: { namespace?: string }, into: Seen<T>[]): Promise<void> {
    while (!this.ctl.signal.aborted) {
      try {
        const list = await this.c.client.list(resource, opts);
        for await (const ev of this.c.client.watch(resource, { ...opts, resourceVersion: list.metadata?.resourceVersion, signal: this.ctl.signal })) {
          if (ev.type !== 'BOOKMARK') into.push({ t: Date.now(), type: ev.type, obj: ev.object as T });
        }
      } catch {
        if (this.ctl.signal.aborted) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

/** Milestones of one round, in ms after the crash (NaN where not seen). */
interface Timeline {
  node: string;
  lastRenew: number;
  unknown: number;
  tainted: number;
  evicted: number;
  created: number;
  bound: number;
  started: number;
  running: number;
}

const STAGES: { name: string; from: keyof Timeline | 'crash'; to: keyof Timeline; what: string }[] = [
  { name: 'lease age at crash', from: 'lastRenew', to: 'crash' as keyof Timeline, what: 'last renewal seen → crash (part of the grace already spent)' },
  { name: 'detection', from: 'crash', to: 'unknown', what: 'fault → Node Ready=Unknown (crash: Docker signal; partition: grace − lease age)' },
  { name: 'taint', from: 'unknown', to: 'tainted', what: 'Unknown → NoExecute taint (pods marked NotReady in between)' },
  { name: 'toleration + eviction', from: 'tainted', to: 'evicted', what: 'taint → last lost pod deleted (tolerationSeconds)' },
  { name: 'ReplicaSet create', from: 'evicted', to: 'created', what: 'eviction → last replacement created' },
  { name: 'scheduling', from: 'created', to: 'bound', what: 'created → last replacement bound' },
  { name: 'kubelet + Docker start', from: 'bound', to: 'started', what: 'bound → last app container started (Docker StartedAt)' },
  { name: 'status report', from: 'started', to: 'running', what: 'container started → kubelet reports Running' },
];

function stageMs(tl: Timeline, s: (typeof STAGES)[number]): number {
  const at = (k: keyof Timeline | 'crash'): number => (k === 'crash' ? 0 : (tl[k] as number));
  return s.name === 'lease age at crash' ? -tl.lastRenew : at(s.to) - at(s.from);
}

async function containerStartedAt(docker: Docker, cluster: string, uids: string[]): Promise<number> {
  let last = NaN;
  for (const uid of uids) {
    const list = await docker.listContainers({ all: true, filters: { label: [`io.kubelab.cluster=${cluster}`, `io.kubelab.pod.uid=${uid}`] } });
    for (const info of list) {
      if (info.Labels['io.kubelab.container'] === 'POD') continue;
      const started = Date.parse((await docker.getContainer(info.Id).inspect()).State.StartedAt);
      if (Number.isFinite(started) && !(started <= last)) last = started;
    }
  }
  return last;
}

/** Moves pods off crowded nodes until every worker runs the same number (so each crash loses as many). */
async function rebalance(c: TestCluster, replicas: number): Promise<void> {
  for (let i = 0; i < replicas; i++) {
    const pods = await runningPods(c);
    const by = new Map<string, core.Pod[]>(c.nodes.map((n) => [n, []]));
    for (const p of pods) by.get(p.spec?.nodeName ?? '')?.push(p);
    const sorted = [...by.entries()].sort((a, b) => b[1].length - a[1].length);
    const [most, least] = [sorted[0], sorted[sorted.length - 1]];
    if (!most || !least || most[1].length - least[1].length <= 1) return;
    const victim = most[1][0];
    await c.client.delete('pods', victim.metadata?.name ?? '', { namespace: NS, gracePeriodSeconds: 0 });
    await waitFor(async () => (await runningPods(c)).length === replicas, { timeoutMs: 180_000, intervalMs: 100, what: `${replicas} pods Running after a rebalance` });
  }
}

/** One crash → heal round on `node`; restores the node afterwards. */
async function healRound(c: TestCluster, rec: Recorder, docker: Docker, node: string, replicas: number, fault: 'crash' | 'partition'): Promise<Timeline> {
  const lost = new Set((await runningPods(c)).filter((p) => p.spec?.nodeName === node).map((p) => p.metadata?.uid ?? ''));
  const before = new Set((await c.client.list('pods', { namespace: NS })).items.map((p) => p.metadata?.uid ?? ''));
  const t0 = Date.now();
  if (fault === 'crash') await c.crash(node);
  else await c.partition(node);
  await waitFor(
    async () => {
      const r = await runningPods(c);
      return r.length === replicas && r.every((p) => p.spec?.nodeName !== node);
    },
    { timeoutMs: 600_000, intervalMs: 100, what: `${replicas} replicas Running off ${node}` },
  );
  const end = Date.now();
  const rel = (t: number | undefined): number => (t === undefined ? NaN : t - t0);
  const first = <T>(xs: Seen<T>[], ok: (s: Seen<T>) => boolean): number | undefined => xs.find((s) => s.t >= t0 && ok(s))?.t;
  const lastOf = (ts: (number | undefined)[]): number => (ts.some((t) => t === undefined) || ts.length === 0 ? NaN : Math.max(...(ts as number[])));
  const renewals = rec.leases.filter((s) => s.t < t0 && s.obj.metadata?.name === node);
  const fresh = rec.pods.filter((s) => s.t >= t0 && !before.has(s.obj.metadata?.uid ?? ''));
  const newUids = [...new Set(fresh.map((s) => s.obj.metadata?.uid ?? ''))];
  const firstFresh = (uid: string, ok: (p: core.Pod) => boolean): number | undefined => fresh.find((s) => s.obj.metadata?.uid === uid && ok(s.obj))?.t;
  const started = await containerStartedAt(docker, c.name, newUids);
  const tl: Timeline = {
    node,
    lastRenew: rel(renewals[renewals.length - 1]?.t),
    unknown: rel(first(rec.nodes, (s) => s.obj.metadata?.name === node && nodeCondition(s.obj, 'Ready')?.status !== 'True')),
    tainted: rel(first(rec.nodes, (s) => s.obj.metadata?.name === node && (s.obj.spec?.taints ?? []).some((t) => t.effect === 'NoExecute' && TAINTS.includes(t.key)))),
    evicted: rel(lastOf([...lost].map((uid) => first(rec.pods, (s) => s.obj.metadata?.uid === uid && (s.type === 'DELETED' || !!s.obj.metadata?.deletionTimestamp))))),
    created: rel(lastOf(newUids.map((uid) => firstFresh(uid, () => true)))),
    bound: rel(lastOf(newUids.map((uid) => firstFresh(uid, (p) => !!p.spec?.nodeName)))),
    started: Number.isFinite(started) ? started - t0 : NaN,
    running: end - t0,
  };
  return tl;
}

/** Brings the faulted node back: Ready, its stale containers gone, untainted. */
async function restore(c: TestCluster, node: string, fault: 'crash' | 'partition'): Promise<void> {
  if (fault === 'crash') await c.restart(node);
  else await c.heal(node);
  await waitFor(async () => isNodeReady(await c.client.get('nodes', node)), { timeoutMs: 300_000, intervalMs: 250, what: `${node} Ready` });
  // Let the restarted kubelet clean up before the next round measures anything.
  await waitFor(async () => (await c.lab.podContainers(node)).every((x) => x.State === 'running'), { timeoutMs: 300_000, intervalMs: 500, what: `${node} stale containers removed` });
  await waitFor(async () => !((await c.client.get('nodes', node)).spec?.taints ?? []).some((t) => TAINTS.includes(t.key)), { timeoutMs: 300_000, intervalMs: 200, what: `${node} untainted` });
}

/** Ready≠True transitions of nodes that were not crashed at the time (false alarms). */
function falseNotReady(rec: Recorder, crashed: { node: string; from: number; to: number }[]): string[] {
  const out: string[] = [];
  const last = new Map<string, string>();
  for (const s of rec.nodes) {
    const name = s.obj.metadata?.name ?? '';
    const status = nodeCondition(s.obj, 'Ready')?.status ?? 'None';
    const prev = last.get(name);
    last.set(name, status);
    if (prev === 'True' && status !== 'True' && !crashed.some((x) => x.node === name && s.t >= x.from && s.t <= x.to)) out.push(`${name} at ${new Date(s.t).toISOString()}`);
  }
  return out;
}

/** A pause + busybox pod started with dockerode and no kubelab code: what any pod start costs here. */
async function dockerFloor(docker: Docker, cluster: string, i: number): Promise<number> {
  const labels = { 'io.kubelab.cluster': cluster };
  const t = performance.now();
  const pause = await docker.createContainer({ name: `${cluster}-floor-pause-${i}`, Image: 'kubelab/pause:latest', Labels: labels, HostConfig: { IpcMode: 'shareable' } });
  await pause.start();
  const app = await docker.createContainer({
    name: `${cluster}-floor-app-${i}`,
    Image: 'kubelab/busybox:latest',
    Cmd: ['sleep', '3600'],
    Labels: labels,
    HostConfig: { NetworkMode: `container:${pause.id}`, IpcMode: `container:${pause.id}` },
  });
  await app.start();
  const ms = performance.now() - t;
  await Promise.all([app.remove({ force: true }), pause.remove({ force: true })].map((p) => p.catch(() => undefined)));
  return ms;
}

/**
 * `npm run lab` as a person runs it (npm, the build check, the CLI's start, lab up): seconds from the spawn to the
 * line saying the nodes are Ready and the kubeconfig written, and to the command's exit (add-ons healthy too).
 */
async function npmRunLab(): Promise<{ readyS: number; exitS: number }> {
  const t0 = performance.now();
  let readyS = NaN;
  const p = spawn('npm', ['run', 'lab'], { cwd: checkoutRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (chunk: Buffer): void => {
    out += chunk.toString();
    if (Number.isNaN(readyS) && /nodes Ready and .* written/.test(out)) readyS = (performance.now() - t0) / 1000;
  };
  p.stdout.on('data', onData);
  p.stderr.on('data', onData);
  const code = await new Promise<number | null>((resolve, reject) => {
    p.once('error', reject);
    p.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`npm run lab exited with ${code}:\n${out.slice(-2000)}`);
  return { readyS, exitS: (performance.now() - t0) / 1000 };
}

/**
 * The floor of `lab up`: as many containers as the compose lab has (kubelab/busybox sleeping, no kubelab code)
 * created and started at once with dockerode on a fresh bridge network with fixed addresses; time until the last
 * one runs. Removed afterwards.
 */
async function labStartFloor(docker: Docker, containers: number): Promise<number> {
  const labels = { 'io.kubelab.cluster': 'kubelab-bench-floor' };
  const t = performance.now();
  const net = await docker.createNetwork({ Name: 'kubelab-bench-floor', Driver: 'bridge', Labels: labels, IPAM: { Config: [{ Subnet: '10.251.0.0/16', Gateway: '10.251.0.1' }] } });
  const made: Docker.Container[] = [];
  try {
    await Promise.all(
      Array.from({ length: containers }, async (_, i) => {
        const c = await docker.createContainer({
          name: `kubelab-bench-floor-${i}`,
          Image: 'kubelab/busybox:latest',
          Cmd: ['sleep', '3600'],
          Labels: labels,
          HostConfig: { NetworkMode: 'kubelab-bench-floor' },
          NetworkingConfig: { EndpointsConfig: { 'kubelab-bench-floor': { IPAMConfig: { IPv4Address: `10.251.0.${10 + i}` } } } },
        });
        made.push(c);
        await c.start();
      }),
    );
    return (performance.now() - t) / 1000;
  } finally {
    await Promise.all(made.map((c) => c.remove({ force: true }).catch(() => undefined)));
    await net.remove().catch(() => undefined);
  }
}

interface Usage {
  cpuPercent: number;
  memMiB: number;
  containers: number;
}

function mib(s: string): number {
  const m = s.trim().match(/^([\d.]+)\s*([KMG]i?B|B)$/);
  if (!m) return 0;
  const n = Number(m[1]);
  const unit = m[2] ?? 'B';
  return n * ({ B: 1 / 1048576, KiB: 1 / 1024, KB: 1 / 1024, MiB: 1, MB: 1, GiB: 1024, GB: 1024 }[unit] ?? 0);
}

/** docker stats of every container of the cluster (components and pods), summed. */
async function idleUsage(cluster: string): Promise<Usage> {
  const ids = (await run('docker', ['ps', '-q', '--filter', `label=io.kubelab.cluster=${cluster}`])).stdout.split('\n').filter(Boolean);
  const out = (await run('docker', ['stats', '--no-stream', '--format', '{{.CPUPerc}}\t{{.MemUsage}}', ...ids])).stdout;
  let cpu = 0;
  let mem = 0;
  for (const line of out.split('\n').filter(Boolean)) {
    const [c, m] = line.split('\t');
    cpu += Number((c ?? '0').replace('%', '')) || 0;
    mem += mib((m ?? '').split('/')[0] ?? '');
  }
  return { cpuPercent: cpu, memMiB: mem, containers: ids.length };
}

async function main(): Promise<void> {
  const rounds = flag('rounds', 10);
  const timingArg = process.argv[process.argv.indexOf('--timing') + 1];
  const timing: TimingPreset = process.argv.includes('--timing') && isTimingPreset(timingArg) ? timingArg : 'lab';
  const replicas = 6;
  // partition: no Docker signal, so the lease path (what a real machine would see) even in the lab preset.
  const fault = process.argv.includes('--fault') && process.argv[process.argv.indexOf('--fault') + 1] === 'partition' ? 'partition' : 'crash';
  const rows: (string | number)[][] = [];
  const docker = new Docker();
  const loads: number[] = [loadavg()[0] ?? NaN];

  // --rounds 0 --compose N: only the lab start-up.
  if (rounds > 0) {
    const t0 = Date.now();
    const c = await startCluster({ workers: 3, name: `bench-lab-${process.pid}`, timing, startTimeoutMs: 300_000 });
    const startS = (Date.now() - t0) / 1000;
    rows.push(['test cluster start → 3 nodes Ready (images cached)', startS, 's', '']);
    const rec = new Recorder(c);
    const timelines: Timeline[] = [];
    const crashed: { node: string; from: number; to: number }[] = [];
    process.stderr.write(`[bench] cluster ${c.name} up in ${startS.toFixed(1)} s; ${rounds} × ${fault}, ${timing} preset\n`);
    try {
      rec.start();
      await deploy(c, replicas);
      // Idle: the deployment's pods run, nothing changes; let start-up work settle first.
      await waitFor(async () => (await idleUsage(c.name)).cpuPercent < 50, { timeoutMs: 60_000, intervalMs: 3_000, what: 'the lab to settle' }).catch(() => undefined);
      const idle = await idleUsage(c.name);
      rows.push([`idle CPU, ${idle.containers} containers (3 workers, ${replicas} pods)`, idle.cpuPercent, '% of one core', '']);
      rows.push(['idle memory, all containers', idle.memMiB, 'MiB', '']);
      const floor: number[] = [];
      for (let i = 0; i < 5; i++) floor.push(await dockerFloor(docker, c.name, i));

      for (let i = 0; i < rounds; i++) {
        await rebalance(c, replicas);
        const node = c.nodes[Math.floor(Math.random() * c.nodes.length)] ?? 'worker-1';
        const from = Date.now();
        const tl = await healRound(c, rec, docker, node, replicas, fault);
        timelines.push(tl);
        loads.push(loadavg()[0] ?? NaN);
        const parts = STAGES.map((s) => `${s.name} ${(stageMs(tl, s) / 1000).toFixed(2)}`).join(', ');
        process.stderr.write(`[bench] round ${i + 1}: ${fault} ${node} → ${replicas} Running in ${(tl.running / 1000).toFixed(1)} s (${parts}); load ${loadavg()[0]?.toFixed(1)}\n`);
        await restore(c, node, fault);
        crashed.push({ node, from, to: Date.now() });
      }
      const heal = timelines.map((t) => t.running / 1000);
      rows.push([`self-healing, ${timing} preset, ${fault} → ${replicas} Running: p50 of ${rounds} (min ${Math.min(...heal).toFixed(1)}, max ${Math.max(...heal).toFixed(1)})`, median(heal), 's', '']);
      rows.push([`self-healing, ${timing} preset, ${fault}: p90 of ${rounds}`, percentile(heal, 90), 's', timing === 'lab' ? '≤ 10 s' : '']);
      const tail = median(timelines.map((t) => (t.running - t.evicted) / 1000).filter(Number.isFinite));
      const def = healTimers(TIMING.default);
      rows.push([`self-healing, Kubernetes defaults (computed: ${def.upToS} s of timers at most + ${tail.toFixed(1)} s measured tail)`, def.upToS + tail, 's', '']);
      const falses = falseNotReady(rec, crashed);
      rows.push(['false NotReady: nodes not crashed that left Ready during the run', falses.length, falses.join('; ') || 'nodes', '0']);
      rows.push(['floor: pause + busybox started with dockerode, no kubelab (median of 5)', median(floor), 'ms', '']);
      rows.push(['load average (1 min) at start / median over rounds / max', `${loads[0]?.toFixed(1)} / ${median(loads.slice(1)).toFixed(1)} / ${Math.max(...loads).toFixed(1)}`, '', '']);

      const expected = healTimers(TIMING[timing]);
      const stageRows = STAGES.map((s) => {
        const v = timelines.map((t) => stageMs(t, s) / 1000).filter(Number.isFinite);
        return [s.name, s.what, median(v), percentile(v, 90), Math.max(...v)];
      });
      stageRows.push(['total', 'crash → all replicas Running', median(heal), percentile(heal, 90), Math.max(...heal)]);
      printTable(`Where the time goes (${timing} preset, ${rounds} × ${fault}; timers: grace ${expected.graceS} s, lease renewed every ${expected.renewS} s, toleration ${expected.tolerationS} s)`, ['stage', 'what', 'p50 s', 'p90 s', 'max s'], stageRows);
    } finally {
      rec.stop();
      await c.stop();
    }
  }

  const composeRounds = flag('compose', 0);
  if (composeRounds > 0) {
    const floorDocker = new Docker();
    const floors: number[] = [];
    const ups: UpResult[] = [];
    const npm: { readyS: number; exitS: number }[] = [];
    for (let i = 0; i < composeRounds; i++) {
      process.stderr.write(`[bench] lab start ${i + 1}/${composeRounds}: floor (14 containers started at once with dockerode) ...\n`);
      floors.push(await labStartFloor(floorDocker, 14));
      process.stderr.write(`[bench] lab start ${i + 1}/${composeRounds}: kubelab lab up (compose, 3 workers) ...\n`);
      const up = await labUp({ workers: 3, say: () => undefined });
      ups.push(up);
      process.stderr.write(`[bench] lab start ${i + 1}/${composeRounds}: lab up ${up.readySeconds.toFixed(1)} s to nodes Ready, ${up.seconds.toFixed(1)} s in all, floor ${floors[i]?.toFixed(1)} s; lab down ...\n`);
      await labDown(() => undefined);
      process.stderr.write(`[bench] lab start ${i + 1}/${composeRounds}: npm run lab ...\n`);
      npm.push(await npmRunLab());
      process.stderr.write(`[bench] lab start ${i + 1}/${composeRounds}: npm run lab ${npm[i]?.readyS.toFixed(1)} s to nodes Ready, ${npm[i]?.exitS.toFixed(1)} s to its exit; lab down ...\n`);
      await labDown(() => undefined);
    }
    const list = (v: number[]): string => v.map((x) => x.toFixed(1)).join(', ');
    const readyS = ups.map((u) => u.readySeconds);
    const upS = ups.map((u) => u.seconds);
    const npmReady = npm.map((n) => n.readyS);
    const npmExit = npm.map((n) => n.exitS);
    rows.push([`floor: 14 containers (busybox) created and started at once with dockerode, fixed addresses, no kubelab (median of ${composeRounds})`, median(floors), 's', '']);
    rows.push([`\`npm run lab\` (images cached) → every node Ready, kubeconfig written (median of ${composeRounds}: ${list(npmReady)})`, median(npmReady), 's', '≤ 10 s']);
    rows.push([`\`npm run lab\` → its exit: scheduler, controller-managers, add-ons healthy too (median: ${list(npmExit)})`, median(npmExit), 's', '']);
    rows.push([`\`lab up\` in-process → every node Ready, kubeconfig written (median: ${list(readyS)})`, median(readyS), 's', '']);
    rows.push([`\`lab up\` in-process → components healthy (median: ${list(upS)})`, median(upS), 's', '']);
    for (const [i, p] of (ups[0]?.phases ?? []).entries()) rows.push([`  lab up phase: ${p.phase} (median)`, median(ups.map((u) => u.phases[i]?.seconds ?? NaN)), 's', '']);
    rows.push(['`npm run lab` to nodes Ready ÷ floor (medians)', median(npmReady) / median(floors), '×', '']);
  }
  const startRounds = flag('start', 0);
  if (startRounds > 0) {
    // startCluster({ workers: 1 }) as a test starts it, against the floor of the same number of containers.
    const starts: number[] = [];
    const healthy: number[] = [];
    const floors: number[] = [];
    let containers = 0;
    for (let i = 0; i < startRounds; i++) {
      const t0 = performance.now();
      const c = await startCluster({ workers: 1, controlPlaneReplicas: 1, name: `bench-start-${process.pid}-${i}`, timing, startTimeoutMs: 300_000 });
      starts.push((performance.now() - t0) / 1000);
      // startCluster resolves at node Ready; the scheduler, controller-manager and DNS finish starting after it.
      await waitForComponents(c.lab, c.client, { timeoutMs: 120_000 });
      healthy.push((performance.now() - t0) / 1000);
      containers = (await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`io.kubelab.cluster=${c.name}`] }) })).length;
      await c.stop();
      floors.push(await labStartFloor(docker, containers));
      process.stderr.write(`[bench] start ${i + 1}/${startRounds}: startCluster ${starts[i]?.toFixed(1)} s, floor (${containers} containers) ${floors[i]?.toFixed(1)} s\n`);
    }
    rows.push([`floor: ${containers} containers (busybox) created and started at once with dockerode, no kubelab (median of ${startRounds})`, median(floors), 's', '']);
    rows.push([`startCluster({ workers: 1 }) → node Ready (median of ${startRounds}: ${starts.map((v) => v.toFixed(1)).join(', ')})`, median(starts), 's', '≤ 5 s']);
    rows.push(['startCluster ÷ floor (medians)', median(starts) / median(floors), '×', '']);
    rows.push([`  then scheduler, controller-manager, DNS healthy too (median: ${healthy.map((v) => v.toFixed(1)).join(', ')})`, median(healthy), 's', '']);
  }
  printTable('Lab', ['what', 'value', 'unit', 'target'], rows);
}

(process.argv.includes('--ha') ? haBench() : main()).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
