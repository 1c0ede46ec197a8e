/**
 * Pod startup benchmark: created → Running (seen through a watch) for single pods and a 30-pod burst
 * over 3 Docker kubelets, next to the raw floor measured in the same run (dockerode create+start of a
 * pause container and one app container joined to it); then N hollow nodes in one process: memory and
 * whether any node lease expired over M minutes.
 * Run: npm run build && node dist/bench/pod-startup.js [--singles 7] [--burst 30] [--hollow 1000] [--minutes 5]
 *      (--hollow 0 skips the hollow part; --docker 0 skips the Docker part; --timeline 1 writes the
 *      kubelets' debug logs, including each sync's 'pod sync timeline', and the bench's own marks to stderr)
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { ApiClient } from '../client/api.js';
import { pino, destination, type Logger } from 'pino';
import { nullLogger } from '../component-base/log.js';
import type { core } from '../api/types.js';
import { compileKubeletConfig } from '../kubelet/config.js';
import { startHollowNodes } from '../kubelet/hollow.js';
import { startKubelet, type RunningKubelet } from '../kubelet/start.js';
import { freePort, startEtcd } from '../test/support/etcd.js';
import { flag, median, percentile, printTable } from './stats.js';

const CLUSTER = `bench-pod-startup-${process.pid}`;
const BUSYBOX = 'kubelab/busybox:latest';
const PAUSE = 'kubelab/pause:latest';

async function rawFloor(docker: Docker, i: number): Promise<number> {
  const t = performance.now();
  const remove = await rawPod(docker, String(i));
  const ms = performance.now() - t;
  await remove();
  return ms;
}

/**
 * The burst's floor: `n` raw pods created and started all at once, each timed from the start of the
 * burst (as the kubelet burst is); removed only after all ran, so removal does not compete with starts.
 */
async function rawBurstFloor(docker: Docker, n: number): Promise<{ lat: number[]; total: number }> {
  const t0 = performance.now();
  const lat: number[] = [];
  const removers = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const remove = await rawPod(docker, `burst-${i}`);
      lat.push(performance.now() - t0);
      return remove;
    }),
  );
  const total = performance.now() - t0;
  await Promise.all(removers.map((r) => r()));
  return { lat, total };
}

/** Creates and starts a pause container and an app container joined to it; resolves with their removal. */
async function rawPod(docker: Docker, i: string): Promise<() => Promise<void>> {
  const labels = { 'io.kubelab.cluster': CLUSTER };
  const pause = await docker.createContainer({ name: `${CLUSTER}-raw-pause-${i}`, Image: PAUSE, Labels: labels, HostConfig: { IpcMode: 'shareable' } });
  await pause.start();
  const app = await docker.createContainer({
    name: `${CLUSTER}-raw-app-${i}`,
    Image: BUSYBOX,
    Cmd: ['sleep', '3600'],
    Labels: labels,
    HostConfig: { NetworkMode: `container:${pause.id}`, IpcMode: `container:${pause.id}` },
  });
  await app.start();
  return async () => {
    await app.remove({ force: true });
    await pause.remove({ force: true });
  };
}

/** Watches pods in `ns` and resolves each name's promise when it is first seen Running. */
function runningWatcher(client: ApiClient, ns: string, signal: AbortSignal): { wait(name: string): Promise<number> } {
  const seen = new Map<string, number>();
  const waiters = new Map<string, (t: number) => void>();
  void (async () => {
    try {
      for await (const ev of client.watch('pods', { namespace: ns, signal })) {
        const p = ev.object as core.Pod;
        const name = p.metadata?.name ?? '';
        if (p.status?.phase === 'Running' && !seen.has(name)) {
          const t = performance.now();
          seen.set(name, t);
          waiters.get(name)?.(t);
        }
      }
    } catch {
      /* aborted */
    }
  })();
  return {
    wait: (name) => {
      const t = seen.get(name);
      if (t !== undefined) return Promise.resolve(t);
      return new Promise((resolve) => waiters.set(name, resolve));
    },
  };
}

function pod(name: string, ns: string, node: string): core.Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: BUSYBOX, imagePullPolicy: 'Never', command: ['sleep', '3600'] }] },
  };
}

async function cleanup(docker: Docker): Promise<void> {
  const cs = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`io.kubelab.cluster=${CLUSTER}`] }) });
  await Promise.all(cs.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  const vs = await docker.listVolumes({ filters: JSON.stringify({ label: [`io.kubelab.cluster=${CLUSTER}`] }) });
  await Promise.all((vs.Volumes ?? []).map((v) => docker.getVolume(v.Name).remove({ force: true }).catch(() => undefined)));
}

async function dockerPart(address: string, client: ApiClient): Promise<void> {
  const singles = flag('singles', 7);
  const burst = flag('burst', 30);
  const docker = new Docker();
  const ctl = new AbortController();
  const kubelets: RunningKubelet[] = [];
  // Debug logs go to stderr, so the tables on stdout stay readable.
  const log: Logger = flag('timeline', 0) !== 0 ? pino({ level: 'debug', base: { component: 'bench' } }, destination(2)) : nullLogger();
  try {
    for (let i = 0; i < 3; i++) {
      const cfg = compileKubeletConfig({ apiserver: address, nodeName: `bench-node-${i}`, nodeIp: '127.0.0.1', port: 0, adminPort: 0, clusterName: CLUSTER, timing: 'lab' });
      kubelets.push(await startKubelet(cfg, ctl.signal, { logger: log.child({ component: 'kubelet' }) }));
    }
    // Warm-up: the first container start pays for image layers and cgroup setup.
    await rawFloor(docker, -1);
    const floor: number[] = [];
    for (let i = 0; i < singles; i++) floor.push(await rawFloor(docker, i));

    await client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-single' } });
    const w1 = runningWatcher(client, 'bench-single', ctl.signal);
    const single: number[] = [];
    for (let i = -1; i < singles; i++) {
      const name = `single-${i + 1}`;
      const t = performance.now();
      const wall = Date.now();
      await client.create('pods', pod(name, 'bench-single', 'bench-node-0'));
      const created = performance.now();
      const done = await w1.wait(name);
      log.debug({ pod: `bench-single/${name}`, createStartedAt: wall, createdMs: Math.round(created - t), runningSeenMs: Math.round(done - t) }, 'bench pod timeline');
      if (i >= 0) single.push(done - t);
    }

    const rawBurst = burst > 0 ? await rawBurstFloor(docker, burst) : { lat: [], total: 0 };
    await client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-burst' } });
    const w2 = runningWatcher(client, 'bench-burst', ctl.signal);
    const lat: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: burst }, async (_, i) => {
        const name = `burst-${i}`;
        const t = performance.now();
        await client.create('pods', pod(name, 'bench-burst', `bench-node-${i % 3}`));
        lat.push((await w2.wait(name)) - t);
      }),
    );
    const total = performance.now() - t0;
    printTable(
      'Pod startup (created → Running via watch), 3 Docker kubelets in one process',
      ['case', 'n', 'p50 ms', 'p99 ms', 'floor p50 ms', 'p50 / floor', 'p99 / raw burst p99', 'target'],
      [
        ['raw floor (dockerode pause + app)', floor.length, median(floor), percentile(floor, 99), median(floor), 1, '-', '-'],
        [`raw burst floor (${burst} dockerode pods at once, all running in ${Math.round(rawBurst.total)} ms)`, rawBurst.lat.length, median(rawBurst.lat), percentile(rawBurst.lat, 99), median(floor), median(rawBurst.lat) / median(floor), 1, '-'],
        ['single pod', single.length, median(single), percentile(single, 99), median(floor), median(single) / median(floor), '-', 'p50 ≤ 1.5× floor'],
        [`burst of ${burst} over 3 nodes (all Running in ${Math.round(total)} ms)`, lat.length, median(lat), percentile(lat, 99), median(floor), median(lat) / median(floor), percentile(lat, 99) / percentile(rawBurst.lat, 99), 'p99 ≤ 5000 ms'],
      ],
    );
  } finally {
    ctl.abort();
    await Promise.all(kubelets.map((k) => k.stop()));
    await cleanup(docker);
  }
}

async function hollowPart(address: string, client: ApiClient): Promise<void> {
  const count = flag('hollow', 1000);
  const minutes = flag('minutes', 5);
  if (count <= 0) return;
  const ctl = new AbortController();
  const rssBefore = process.memoryUsage().rss;
  const t = performance.now();
  const hollow = await startHollowNodes({ apiserver: address, count, namePrefix: 'hollow-bench-', timing: 'default' }, ctl.signal);
  const startMs = performance.now() - t;
  let expired = 0;
  let missing = 0;
  let checks = 0;
  // Every node's first renewal is spread over one renew interval: start checking after it.
  await new Promise((r) => setTimeout(r, 10_000));
  let maxRss = process.memoryUsage().rss;
  let minSlackMs = Infinity;
  const end = Date.now() + minutes * 60_000;
  try {
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 5_000));
      const leases = await client.list('leases', { namespace: 'kube-node-lease' });
      const now = Date.now();
      const mine = leases.items.filter((l) => l.metadata?.name?.startsWith('hollow-bench-'));
      checks++;
      for (const l of mine) {
        const renew = Date.parse(l.spec?.renewTime ?? '');
        const slack = renew + (l.spec?.leaseDurationSeconds ?? 40) * 1000 - now;
        minSlackMs = Math.min(minSlackMs, slack);
        if (slack < 0) expired++;
      }
      missing = Math.max(missing, count - mine.length);
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }
  } finally {
    await hollow.stop();
    ctl.abort();
  }
  printTable(
    `Hollow nodes: ${count} in one process for ${minutes} min (default timing: lease 40 s renewed every 10 s)`,
    ['nodes', 'start ms', 'RSS before MiB', 'max RSS MiB', 'RSS per node KiB', 'lease checks', 'expired lease sightings', 'missing leases', 'min slack s'],
    [[count, startMs, rssBefore / 2 ** 20, maxRss / 2 ** 20, (maxRss - rssBefore) / 1024 / count, checks, expired, missing, minSlackMs / 1000]],
  );
}

async function main(): Promise<void> {
  // The apiserver runs in its own process, as in the lab, so the kubelets do not share its event loop.
  const etcd = await startEtcd();
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const component = join(dirname(fileURLToPath(import.meta.url)), '..', 'cmd', 'component.js');
  const child = spawn(
    process.execPath,
    [component, 'apiserver', '--etcd-servers', etcd.endpoint, '--grpc-port', String(grpcPort), '--http-port', String(httpPort), '--admin-port', '0', '--bind-address', '127.0.0.1'],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, KUBELAB_LOG_LEVEL: 'warn' } },
  );
  const address = `127.0.0.1:${grpcPort}`;
  const client = new ApiClient(address);
  try {
    await client.list('namespaces');
    if (flag('docker', 1) !== 0) await dockerPart(address, client);
    await hollowPart(address, client);
  } finally {
    client.close();
    child.kill('SIGKILL');
    await etcd.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
