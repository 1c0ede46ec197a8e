/**
 * Cross-host Service throughput (issue 20, docs/multihost.md), part of `node dist/bench/lab.js --ha`: a lab on two
 * Docker hosts (Docker-in-Docker containers on one machine, one swarm, the overlay pod network), a client pod on
 * worker-1 (host A) and two backends, one on worker-1 and one on worker-2 (host B), each behind its own Service.
 * The client sends `--requests` requests (`--concurrency` in flight, a new connection each) through each Service,
 * alternating, `--rounds` times. Reported: req/s and p50/p99 per path, and cross-host ÷ same-host — plus the
 * cross-host pod IP with no Service, the floor of the overlay itself (VXLAN between the hosts), in the same run.
 */
import Docker from 'dockerode';
import type { core } from '../api/types.js';
import { copyImages } from '../cli/lab/hosts.js';
import { waitFor } from '../client/wait.js';
import { startCluster, type TestCluster } from '../test/cluster/index.js';
import { execIn } from '../test/support/docker.js';
import { startDockerHosts, type DockerHosts } from '../test/support/dockerhosts.js';
import { LOADER, SERVER } from './loader.js';
import { flag, median, printTable } from './stats.js';

const IMAGE = process.env.KUBELAB_IMAGE ?? 'kubelab/kubelab:latest';

function pod(name: string, node: string, cmd: string[]): core.Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: cmd }] },
  };
}

export async function crossHostBench(): Promise<void> {
  const requests = flag('requests', 2000);
  const concurrency = flag('concurrency', 8);
  const rounds = flag('mh-rounds', 3);
  const say = (l: string): void => void process.stderr.write(`[bench] ${l}\n`);
  let hosts: DockerHosts | undefined;
  let c: TestCluster | undefined;
  try {
    const t0 = Date.now();
    hosts = await startDockerHosts(2, { 'io.kubelab.test': 'bench-multihost' }, [], say);
    const [a, b] = hosts.hosts;
    await copyImages(new Docker(), a.docker, [IMAGE, 'kubelab/etcd:latest', 'kubelab/pause:latest', 'kubelab/busybox:latest'], say);
    c = await startCluster({ docker: a.url, overlay: true, workers: 1, controlPlaneReplicas: 1, startTimeoutMs: 300_000 });
    await c.addNode('worker-2', { host: b.url });
    say(`two hosts, one lab (worker-1 on A, worker-2 on B) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const cluster = c;
    for (const [name, node] of [['near', 'worker-1'], ['far', 'worker-2']] as const) {
      await cluster.client.create('pods', pod(name, node, ['node', '-e', SERVER]));
      await cluster.client.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] } });
    }
    await cluster.client.create('pods', pod('client', 'worker-1', ['sleep', 'infinity']));
    const running = async (name: string): Promise<core.Pod> =>
      waitFor(async () => {
        const p = await cluster.client.get('pods', name, { namespace: 'default' });
        return p.status?.phase === 'Running' ? p : undefined;
      }, { timeoutMs: 120_000, what: `pod ${name} to run` });
    const [, far] = await Promise.all([running('near'), running('far'), running('client')]);
    const ip = async (svc: string): Promise<string> => (await cluster.client.get('services', svc, { namespace: 'default' })).spec?.clusterIP ?? '';
    const paths: [string, string][] = [
      ['Service → backend on the same host (A)', `http://${await ip('near')}/`],
      ['Service → backend on the other host (B)', `http://${await ip('far')}/`],
      ['pod IP on the other host (B), no Service: the overlay floor', `http://${far.status?.podIP}:8080/`],
    ];
    const [clientContainer] = await a.docker.listContainers({ filters: JSON.stringify({ label: ['io.kubelab.pod.name=client', 'io.kubelab.container=c'] }) });
    if (!clientContainer) throw new Error('the client pod has no container on host A');
    const client = a.docker.getContainer(clientContainer.Id);
    const load = async (url: string, n: number): Promise<{ rps: number; p50: number; p99: number; fails: number }> => {
      const r = await execIn(client, ['node', '-e', LOADER, url, String(n), String(concurrency)], { timeoutMs: 300_000 });
      try {
        return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { rps: number; p50: number; p99: number; fails: number };
      } catch {
        throw new Error(`load client failed: ${r.stdout}${r.stderr}`);
      }
    };
    // Both Services answer (kube-proxy on worker-1 has their rules) before anything is timed.
    for (const [, url] of paths) await waitFor(async () => (await load(url, 5)).fails === 0, { timeoutMs: 60_000, intervalMs: 1000, what: `${url} to answer` });
    const results = paths.map(() => ({ rps: [] as number[], p50: [] as number[], p99: [] as number[], fails: 0 }));
    for (let r = 0; r < rounds; r++) {
      for (const [i, [, url]] of paths.entries()) {
        const out = await load(url, requests);
        results[i].rps.push(out.rps);
        results[i].p50.push(out.p50);
        results[i].p99.push(out.p99);
        results[i].fails += out.fails;
      }
      say(`cross-host round ${r + 1}/${rounds}: ${results.map((x) => x.rps.at(-1)?.toFixed(0)).join(' / ')} req/s`);
    }
    const same = median(results[0].rps);
    printTable(
      `Service throughput across Docker hosts (swarm overlay between two Docker-in-Docker hosts; ${requests} requests × ${rounds} rounds, ${concurrency} in flight, a new connection each; medians)`,
      ['path', 'req/s', 'p50 ms', 'p99 ms', 'failed', '÷ same-host Service'],
      paths.map(([name], i) => [name, median(results[i].rps), median(results[i].p50), median(results[i].p99), results[i].fails, median(results[i].rps) / same]),
    );
  } finally {
    await c?.stop().catch(() => undefined);
    await hosts?.remove();
  }
}
