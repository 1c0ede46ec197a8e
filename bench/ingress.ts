/**
 * Ingress benchmark: requests/s and p50/p99 latency from a client pod through the ingress controller
 * (nginx → pod IPs) next to the same client hitting the backend pods directly, in the same run, over
 * several alternating rounds (medians). Goal: Ingress ≥ 0.7× direct throughput. Also reports what the
 * metrics scraping costs: the CPU of each node container and of the controller-manager leader over an
 * idle window (Docker's stats: cumulative CPU time / wall time).
 * Run: npm run build && node dist/bench/ingress.js [--requests 3000] [--concurrency 8] [--rounds 5] [--keepalive 0|1]
 */
import Docker from 'dockerode';
import { waitFor } from '../client/wait.js';
import type { apps, core } from '../api/types.js';
import { execIn } from '../test/support/docker.js';
import { startCluster, type TestCluster } from '../test/cluster/index.js';
import { flag, median, printTable } from './stats.js';

const IMAGE = process.env.KUBELAB_IMAGE ?? 'kubelab/kubelab:latest';
const SERVER = `require('http').createServer((q, s) => s.end('ok')).listen(8080)`;

// A bounded load client: n requests, c in flight, with a Host header; a new connection each unless keep-alive.
const LOADER = `
const http = require('http');
const [url, n, c, host, ka] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), process.argv[4], process.argv[5] === '1'];
const agent = ka ? new http.Agent({ keepAlive: true, maxSockets: c }) : false;
const lat = []; let next = 0, fails = 0; const codes = {};
const one = () => new Promise((res) => { const t = process.hrtime.bigint();
  http.get(url, { agent, headers: host ? { host } : {} }, (r) => { codes[r.statusCode] = (codes[r.statusCode] || 0) + 1; r.resume(); r.on('end', () => { lat.push(Number(process.hrtime.bigint() - t) / 1e6); res(); }); })
    .on('error', () => { fails++; res(); }); });
(async () => { const t0 = Date.now();
  await Promise.all(Array.from({ length: c }, async () => { while (next++ < n) await one(); }));
  const ms = Date.now() - t0; lat.sort((a, b) => a - b);
  const p = (q) => lat[Math.min(lat.length - 1, Math.ceil(q * lat.length) - 1)];
  console.log(JSON.stringify({ rps: (lat.length / ms) * 1000, p50: p(0.5), p99: p(0.99), fails, codes }));
})();`;

interface Out {
  rps: number;
  p50: number;
  p99: number;
  fails: number;
  codes: Record<string, number>;
}

async function podContainer(cluster: TestCluster, pod: string): Promise<Docker.Container> {
  const docker = new Docker();
  const list = await docker.listContainers({ filters: JSON.stringify({ label: [`io.kubelab.cluster=${cluster.name}`, `io.kubelab.pod.name=${pod}`] }) });
  const c = list.find((x) => x.Labels['io.kubelab.container'] !== 'POD');
  if (!c) throw new Error(`no app container of pod ${pod}`);
  return docker.getContainer(c.Id);
}

async function load(client: Docker.Container, url: string, n: number, c: number, host: string, keepAlive: boolean): Promise<Out> {
  const r = await execIn(client, ['node', '-e', LOADER, url, String(n), String(c), host, keepAlive ? '1' : '0'], { timeoutMs: 300_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Out;
  } catch {
    throw new Error(`load client failed: ${r.stdout}${r.stderr}`);
  }
}

/** CPU used by each container over `ms` (cores), from Docker's cumulative counters. */
async function cpuOver(names: string[], ms: number): Promise<Map<string, number>> {
  const docker = new Docker();
  const read = async (): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const n of names) {
      const s = (await docker.getContainer(n).stats({ stream: false })) as { cpu_stats: { cpu_usage: { total_usage: number } } };
      out.set(n, s.cpu_stats.cpu_usage.total_usage);
    }
    return out;
  };
  const a = await read();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  const b = await read();
  const wall = (Date.now() - t0) * 1e6;
  return new Map(names.map((n) => [n, ((b.get(n) ?? 0) - (a.get(n) ?? 0)) / wall]));
}

async function main(): Promise<void> {
  const requests = flag('requests', 3000);
  const concurrency = flag('concurrency', 8);
  const rounds = flag('rounds', 5);
  const keepAlive = flag('keepalive', 0) === 1;
  const cluster = await startCluster({ workers: 2, ingress: true, name: `bench-ing-${process.pid.toString(36)}`, startTimeoutMs: 300_000 });
  try {
    const ns = 'default';
    const dep: apps.Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'backend', namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'backend' } },
        template: {
          metadata: { labels: { app: 'backend' } },
          spec: { nodeName: 'worker-2', containers: [{ name: 'node', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['node', '-e', SERVER], ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }] },
        },
      },
    };
    const svc: core.Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend', namespace: ns }, spec: { selector: { app: 'backend' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } };
    await cluster.client.create('deployments', dep);
    await cluster.client.create('services', svc);
    await cluster.client.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'client', namespace: ns },
      spec: { nodeName: 'worker-1', terminationGracePeriodSeconds: 0, containers: [{ name: 'node', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', 'infinity'] }] },
    });
    await cluster.client.create('ingresses', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'backend', namespace: ns },
      spec: { rules: [{ host: 'bench.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'backend', port: { number: 80 } } } }] } }] },
    });
    const podIp = await waitFor(
      async () => {
        const pods = (await cluster.client.list('pods', { namespace: ns, labelSelector: 'app=backend' })).items;
        const p = pods.find((x) => x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return p?.status?.podIP;
      },
      { timeoutMs: 120_000, what: 'the backend pod to be Ready' },
    );
    await waitFor(async () => (await cluster.client.get('pods', 'client', { namespace: ns })).status?.phase === 'Running', { timeoutMs: 120_000, what: 'the client pod to run' });
    const client = await podContainer(cluster, 'client');
    const ingressIp = cluster.ingress?.address ?? '';
    const targets = { direct: { url: `http://${podIp}:8080/`, host: '' }, ingress: { url: `http://${ingressIp}/`, host: 'bench.example' } };
    await waitFor(async () => (await load(client, targets.ingress.url, 5, 1, targets.ingress.host, keepAlive)).codes['200'] === 5, { timeoutMs: 30_000, what: 'the Ingress to answer' });
    const results: Record<'direct' | 'ingress', { rps: number[]; p50: number[]; p99: number[] }> = { direct: { rps: [], p50: [], p99: [] }, ingress: { rps: [], p50: [], p99: [] } };
    for (let r = 0; r < rounds; r++) {
      // Alternate the order so drift on a shared machine does not favour one path.
      const order = r % 2 === 0 ? (['direct', 'ingress'] as const) : (['ingress', 'direct'] as const);
      for (const k of order) {
        const out = await load(client, targets[k].url, requests, concurrency, targets[k].host, keepAlive);
        if (out.fails > 0 || (out.codes['200'] ?? 0) !== requests) throw new Error(`${k}: not every request answered 200: ${JSON.stringify(out)}`);
        results[k].rps.push(out.rps);
        results[k].p50.push(out.p50);
        results[k].p99.push(out.p99);
      }
    }
    const d = results.direct;
    const i = results.ingress;
    printTable(
      `Ingress (nginx) vs direct pod IP (${requests} requests × ${rounds} rounds, ${concurrency} in flight, ${keepAlive ? 'keep-alive' : 'new connection per request'}; medians)`,
      ['path', 'req/s', 'p50 ms', 'p99 ms', 'vs direct'],
      [
        ['pod IP (direct)', median(d.rps), median(d.p50), median(d.p99), 1],
        ['Ingress (nginx → pod IP)', median(i.rps), median(i.p50), median(i.p99), median(i.rps) / median(d.rps)],
      ],
    );

    // What scraping costs while nothing else happens (lab preset: every node every 5 s).
    const nodes = cluster.nodes.map((n) => `${cluster.name}-${n}`);
    const cms = [`${cluster.name}-controller-manager-1`, `${cluster.name}-controller-manager-2`];
    const cpu = await cpuOver([...nodes, ...cms], 30_000);
    printTable('Idle CPU over 30 s with metrics scraping every 5 s (cores; the kubelet serves /stats/summary from Docker stats in a lab node)', ['container', 'CPU (millicores)'], [...cpu].map(([n, c]) => [n, c * 1000]));
    // The same nodes with nobody scraping them (the controller-managers stopped): the difference is what
    // serving /stats/summary every 5 s costs a node.
    await cluster.stopComponent('controller-manager', 'all');
    const quiet = await cpuOver(nodes, 30_000);
    printTable(
      'Node CPU with and without scraping (30 s each, same run; millicores)',
      ['node', 'scraped every 5 s', 'not scraped', 'scrape cost'],
      nodes.map((n) => [n, (cpu.get(n) ?? 0) * 1000, (quiet.get(n) ?? 0) * 1000, ((cpu.get(n) ?? 0) - (quiet.get(n) ?? 0)) * 1000]),
    );
  } finally {
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
