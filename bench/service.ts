/**
 * Services benchmark: requests/s and p50/p99 latency from a client pod to one backend through its
 * ClusterIP (kube-proxy DNAT + MASQUERADE in the node container) next to the same client hitting the
 * pod IP directly, in the same run. Every request opens a new TCP connection, so the DNAT/conntrack
 * cost is paid per request. Target: ClusterIP ≥ 0.8× direct throughput.
 * Run: npm run build && node dist/bench/service.js [--requests 3000] [--concurrency 8] [--rounds 3]
 */
import { KUBELAB_IMAGE, startServiceLab, type LabPod } from '../test/support/servicelab.js';
import { waitFor } from '../client/wait.js';
import { execIn } from '../test/support/docker.js';
import { LOADER, SERVER } from './loader.js';
import { flag, median, printTable } from './stats.js';


async function main(): Promise<void> {
  const requests = flag('requests', 3000);
  const concurrency = flag('concurrency', 8);
  const rounds = flag('rounds', 3);
  const lab = await startServiceLab({ suite: 'bench-service', octet: 232, nodes: 2, dns: false });
  try {
    const backend = await lab.clientPod('backend', { node: 1, image: KUBELAB_IMAGE, cmd: ['node', '-e', SERVER] });
    const client = await lab.clientPod('client', { node: 0, image: KUBELAB_IMAGE, cmd: ['sleep', 'infinity'] });
    await lab.cp.client.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bench', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
    await lab.cp.client.create('endpoints', {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'bench', namespace: 'default' },
      subsets: [{ addresses: [{ ip: backend.ip }], ports: [{ port: 8080 }] }],
    });
    const ip = (await lab.cp.client.get('services', 'bench', { namespace: 'default' })).spec?.clusterIP ?? '';
    const targets = { direct: `http://${backend.ip}:8080/`, clusterIP: `http://${ip}/` };
    await waitFor(async () => (await execLoader(client, targets.clusterIP, 5, 1)).fails === 0, {
      timeoutMs: 30_000,
      what: 'the ClusterIP to answer',
    });
    const results: Record<string, { rps: number[]; p50: number[]; p99: number[] }> = { direct: { rps: [], p50: [], p99: [] }, clusterIP: { rps: [], p50: [], p99: [] } };
    for (let r = 0; r < rounds; r++) {
      // Alternate the order so drift on a shared machine does not favour one path.
      const order = r % 2 === 0 ? (['direct', 'clusterIP'] as const) : (['clusterIP', 'direct'] as const);
      for (const k of order) {
        const out = await execLoader(client, targets[k], requests, concurrency);
        if (out.fails > 0) throw new Error(`${k}: ${out.fails} requests failed`);
        results[k]!.rps.push(out.rps);
        results[k]!.p50.push(out.p50);
        results[k]!.p99.push(out.p99);
      }
    }
    const d = results.direct!;
    const c = results.clusterIP!;
    printTable(`Service path vs direct pod IP (${requests} requests × ${rounds} rounds, ${concurrency} in flight, new connection per request; medians)`, ['path', 'req/s', 'p50 ms', 'p99 ms', 'vs direct'], [
      ['pod IP (direct)', median(d.rps), median(d.p50), median(d.p99), 1],
      ['ClusterIP (kube-proxy)', median(c.rps), median(c.p50), median(c.p99), median(c.rps) / median(d.rps)],
    ]);
  } finally {
    await lab.stop();
  }
}

async function execLoader(client: LabPod, url: string, n: number, c: number): Promise<{ rps: number; p50: number; p99: number; fails: number }> {
  const r = await execIn(client.app, ['node', '-e', LOADER, url, String(n), String(c)], { timeoutMs: 300_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as { rps: number; p50: number; p99: number; fails: number };
  } catch {
    throw new Error(`load client failed: ${r.stdout}${r.stderr}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
