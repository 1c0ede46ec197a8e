/**
 * Nodes on several Docker hosts (issue 20, docs/multihost.md), on one machine: two "hosts" are containers of
 * kubelab/dockerhost (Debian's docker.io, Docker in Docker) on a bridge network that plays the LAN. The lab's
 * control plane and worker-1 run on host A, which becomes a Docker Swarm manager; `addNode('worker-2', { host })`
 * makes host B join the swarm, copies the node images to it and starts worker-2 there. The pod network is the
 * swarm's attachable overlay network, so pod-to-pod, Service and DNS traffic crosses hosts unchanged; a crashed
 * node's pods move to the other host, and when host B is lost as a whole, worker-2 goes NotReady and its pods are
 * replaced on host A.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNodeReady } from '../api/objects.js';
import type { core } from '../api/types.js';
import { copyImages, engine } from '../cli/lab/hosts.js';
import { startCluster, type TestCluster } from './cluster/index.js';
import { requireImages, testLabels } from './support/docker.js';
import { HOST_IMAGE, startDockerHosts, type DockerHosts } from './support/dockerhosts.js';
import { waitFor } from './support/wait.js';

const run = promisify(execFile);
const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const IMAGE = process.env.KUBELAB_IMAGE ?? 'kubelab/kubelab:latest';
/** No registry: host A gets the control plane's images from this engine; addNode copies what host B needs from A. */
const CONTROL_PLANE_IMAGES = [IMAGE, 'kubelab/etcd:latest', 'kubelab/pause:latest', 'kubelab/busybox:latest'];
let hosts: DockerHosts | undefined;
const urls = { a: '', b: '' };
let cluster: TestCluster | undefined;

const log = (l: string): void => void (process.env.KUBELAB_TEST_LOG && process.stderr.write(`[multihost] ${l}\n`));

function kubectl(...args: string[]): Promise<string> {
  if (!cluster) throw new Error('no cluster');
  return run(KUBECTL, ['--kubeconfig', cluster.kubeconfigPath, ...args], { timeout: 60_000 }).then((r) => r.stdout);
}

async function webPods(): Promise<core.Pod[]> {
  const pods = (await cluster?.client.list('pods', { namespace: 'default', labelSelector: 'app=web' }))?.items ?? [];
  return pods.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
}

beforeAll(async () => {
  await requireImages(HOST_IMAGE, ...CONTROL_PLANE_IMAGES);
  hosts = await startDockerHosts(2, testLabels('multihost'), [], log);
  const [a, b] = hosts.hosts;
  [urls.a, urls.b] = [a.url, b.url];
  log(`hosts: a ${urls.a}, b ${urls.b}`);
  await copyImages(new Docker(), a.docker, CONTROL_PLANE_IMAGES, log);
  cluster = await startCluster({ docker: urls.a, overlay: true, workers: 1, controlPlaneReplicas: 1, startTimeoutMs: 240_000, onProgress: log });
  expect(await cluster.addNode('worker-2', { host: urls.b })).toBe('worker-2');
}, 600_000);

afterAll(async () => {
  await cluster?.stop().catch(() => undefined);
  await hosts?.remove();
}, 180_000);

describe('a lab on two Docker hosts (Docker in Docker, one swarm, an overlay pod network)', () => {
  it('runs worker-1 on host A and worker-2 on host B, both Ready; the CLI finds host B from the swarm (lab status, partition, heal)', async () => {
    const c = cluster as TestCluster;
    const nodes = (await c.client.list('nodes')).items;
    expect(nodes.filter(isNodeReady).map((n) => n.metadata?.name).sort()).toEqual(['worker-1', 'worker-2']);
    expect(c.lab.hosts()).toEqual([urls.b]);
    // Each node container is on its own host's engine.
    const onB = await engine(urls.b).listContainers({ filters: JSON.stringify({ label: ['io.kubelab.worker=worker-2'] }) });
    expect(onB).toHaveLength(1);
    expect((await engine(urls.a).info()).Swarm.ControlAvailable).toBe(true);
    expect((await engine(urls.b).info()).Swarm.LocalNodeState).toBe('active');
    // The CLI finds host B again from the swarm (no state file): `lab status` lists its worker, and a fault
    // command acts on B's engine.
    const cli = async (...args: string[]): Promise<string> =>
      (await run('node', ['bin/kubelab.js', ...args, '--cluster', c.name], { env: { ...process.env, ...c.cliEnv, DOCKER_HOST: urls.a }, timeout: 60_000 })).stdout;
    expect(await cli('lab', 'status')).toMatch(new RegExp(`worker-2\\s+${urls.b.replace(/\./g, '\\.')}\\s+running`));
    expect(await cli('node', 'partition', 'worker-2')).toContain('node/worker-2 partitioned');
    await waitFor(async () => !isNodeReady(await c.client.get('nodes', 'worker-2')), { timeoutMs: 60_000, intervalMs: 500, what: 'the partitioned worker-2 NotReady' });
    expect(await cli('node', 'heal', 'worker-2')).toContain('node/worker-2 healed');
    await waitFor(async () => isNodeReady(await c.client.get('nodes', 'worker-2')), { timeoutMs: 60_000, intervalMs: 500, what: 'worker-2 Ready again' });
  }, 180_000);

  it('carries pod-to-pod, Service and DNS traffic across the hosts', async () => {
    await kubectl('apply', '-f', 'docs/examples/web.yaml');
    // One web pod per node: spread by hostname, as a user would ask for it. A tainted node (unreachable) does not
    // count as a domain (nodeTaintsPolicy Honor), so a lost host's pods can be replaced on the other one.
    const spread = { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { app: 'web' } } };
    await kubectl('patch', 'deployment', 'web', '--type', 'merge', '-p', JSON.stringify({ spec: { replicas: 2, template: { spec: { topologySpreadConstraints: [spread] } } } }));
    await kubectl('rollout', 'status', 'deployment/web', '--timeout=120s');
    const pods = await waitFor(
      async () => {
        const p = await webPods();
        return p.length === 2 && new Set(p.map((x) => x.spec?.nodeName)).size === 2 && p.every((x) => x.status?.podIP) ? p : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'one Running web pod on each host' },
    );
    const onA = pods.find((p) => p.spec?.nodeName === 'worker-1') as core.Pod;
    const onB = pods.find((p) => p.spec?.nodeName === 'worker-2') as core.Pod;
    // Pod to pod: from host A's pod to host B's pod address, over the overlay (VXLAN between the hosts).
    expect((await kubectl('exec', onA.metadata?.name ?? '', '--', 'wget', '-qO-', `http://${onB.status?.podIP}:8080/`)).trim()).toBe(`hello from ${onB.metadata?.name}`);
    // DNS from host B's pod: kube-dns runs on host A.
    const svcIp = (await (cluster as TestCluster).client.get('services', 'web', { namespace: 'default' })).spec?.clusterIP ?? '';
    expect(svcIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await kubectl('exec', onB.metadata?.name ?? '', '--', 'nslookup', 'web.default.svc.cluster.local')).toContain(svcIp);
    // The Service from host B's pod reaches both pods (kube-proxy's rules in worker-2's node container).
    const seen = new Set<string>();
    await waitFor(
      async () => {
        // (busybox's own -T timeout crashes this static busybox: the timeout applet bounds the request instead.)
        const out = await kubectl('exec', onB.metadata?.name ?? '', '--', 'timeout', '5', 'wget', '-qO-', 'http://web.default.svc.cluster.local/').catch(() => '');
        if (out.startsWith('hello from ')) seen.add(out.trim().slice('hello from '.length));
        return seen.size === 2;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the web Service to answer from both pods' },
    );
    expect([...seen].sort()).toEqual([onA.metadata?.name, onB.metadata?.name].sort());
  }, 240_000);

  it('heals a crashed node across hosts: `kubelab node crash worker-1` moves its pod to host B, `node restart` brings it back', async () => {
    const c = cluster as TestCluster;
    const onA = (await webPods()).filter((p) => p.spec?.nodeName === 'worker-1').map((p) => p.metadata?.uid);
    expect(onA).toHaveLength(1);
    const env = { ...process.env, ...c.cliEnv, DOCKER_HOST: urls.a };
    const cli = async (...args: string[]): Promise<string> => (await run('node', ['bin/kubelab.js', ...args, '--cluster', c.name], { env, timeout: 60_000 })).stdout;
    expect(await cli('node', 'crash', 'worker-1')).toContain('node/worker-1 crashed');
    await waitFor(async () => !isNodeReady(await c.client.get('nodes', 'worker-1')), { timeoutMs: 60_000, intervalMs: 500, what: 'worker-1 NotReady after its crash' });
    // worker-1 is tainted: it no longer counts for the spread, and the replacement runs on host B.
    await waitFor(
      async () => {
        const p = await webPods();
        return p.length === 2 && p.every((x) => x.spec?.nodeName === 'worker-2' && !onA.includes(x.metadata?.uid));
      },
      { timeoutMs: 120_000, intervalMs: 500, what: '2 web pods Running on worker-2 (host B)' },
    );
    expect(await cli('node', 'restart', 'worker-1')).toContain('node/worker-1 restarted');
    await waitFor(async () => isNodeReady(await c.client.get('nodes', 'worker-1')), { timeoutMs: 60_000, intervalMs: 500, what: 'worker-1 Ready again' });
  }, 300_000);

  it('loses host B as a whole: worker-2 goes NotReady and its web pods are replaced on host A', async () => {
    const c = cluster as TestCluster;
    const onB = (await webPods()).filter((p) => p.spec?.nodeName === 'worker-2').map((p) => p.metadata?.uid);
    expect(onB.length).toBeGreaterThan(0);
    await hosts?.hosts[1].kill();
    await waitFor(async () => !isNodeReady(await c.client.get('nodes', 'worker-2')), { timeoutMs: 60_000, intervalMs: 500, what: 'worker-2 NotReady after its host died' });
    await waitFor(
      async () => {
        const p = await webPods();
        return p.length === 2 && p.every((x) => x.spec?.nodeName === 'worker-1' && !onB.includes(x.metadata?.uid));
      },
      { timeoutMs: 120_000, intervalMs: 500, what: '2 web pods Running on worker-1' },
    );
    // The lab still answers for the hosts it can reach.
    expect([...(await c.lab.workerContainers()).keys()]).toEqual(['worker-1']);
  }, 300_000);
});
