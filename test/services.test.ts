/**
 * Services end to end on real Docker: kube-proxy in two node containers programs iptables, pods reach
 * Services through their node, the cluster DNS answers names. Backends are hand-made pods (pause +
 * busybox httpd answering with the pod name) behind hand-made Endpoints (Services without selectors).
 * Needs the images: `npm run images`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { core } from '../api/types.js';
import { startServiceLab, type LabPod, type ServiceLab } from './support/servicelab.js';
import { containerLogs } from './support/docker.js';
import { waitFor } from './support/wait.js';

const SUITE = 'services';
let lab: ServiceLab;
let client: LabPod;
const web: LabPod[] = [];

const service = (name: string, spec: core.ServiceSpec, namespace = 'default'): core.Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec });
const endpoints = (name: string, ready: LabPod[], notReady: LabPod[] = [], port = 8080, extra: Partial<core.EndpointPort> = {}, hostnames = false): core.Endpoints => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { name, namespace: 'default' },
  subsets: [
    {
      addresses: ready.map((p) => ({ ip: p.ip, ...(hostnames ? { hostname: p.name } : {}) })),
      notReadyAddresses: notReady.map((p) => ({ ip: p.ip })),
      ports: [{ port, protocol: 'TCP', ...extra }],
    },
  ],
});

/** Runs n sequential GETs from the client pod; returns how often each body came back. */
async function spread(url: string, n: number): Promise<Record<string, number>> {
  const r = await lab.sh(client, `for i in $(seq 1 ${n}); do timeout 3 wget -qO- ${url} || echo FAIL; done`);
  const counts: Record<string, number> = {};
  for (const line of r.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) counts[line] = (counts[line] ?? 0) + 1;
  return counts;
}

async function clusterIP(name: string, namespace = 'default'): Promise<string> {
  const s = await lab.cp.client.get('services', name, { namespace });
  return s.spec?.clusterIP ?? '';
}

async function dumpLogs(): Promise<void> {
  for (const n of lab.nodes) process.stderr.write(`${(await containerLogs(n)).stdout.slice(-3000)}\n`);
}

beforeAll(async () => {
  lab = await startServiceLab({ suite: SUITE, octet: 231, nodes: 2 });
  const pods = await Promise.all([
    lab.webPod('web-a', { node: 0 }),
    lab.webPod('web-b', { node: 1 }),
    lab.webPod('web-c', { node: 0 }),
    lab.webPod('web-d', { node: 1 }),
  ]);
  web.push(...pods);
  client = await lab.clientPod('client', { node: 1 });
  // Every node's kube-proxy has synced once its admin endpoint is ready.
  await waitFor(
    async () => {
      for (const n of lab.nodeIps) {
        const r = await lab.sh(client, `timeout 2 wget -qO- http://${n}:10256/readyz`);
        if (r.stdout.trim() !== 'ok') return false;
      }
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 300, what: 'kube-proxy on every node to be ready' },
  ).catch(async (err: unknown) => {
    await dumpLogs();
    throw err;
  });
});

afterAll(async () => {
  await lab?.stop();
});

describe('kube-proxy', () => {
  it('spreads 100 requests to a ClusterIP over every ready backend and none to a not-ready one', async () => {
    await lab.cp.client.create('services', service('web', { ports: [{ name: 'http', port: 80, targetPort: 'http' }] }));
    await lab.cp.client.create('endpoints', endpoints('web', web.slice(0, 3), [web[3]!], 8080, { name: 'http' }));
    const ip = await clusterIP('web');
    await waitFor(async () => (await spread(`http://${ip}/`, 3)).FAIL === undefined, {
      timeoutMs: 5_000,
      what: 'the ClusterIP to answer',
    });
    const counts = await spread(`http://${ip}/`, 100);
    expect(counts.FAIL).toBeUndefined();
    expect(Object.keys(counts).sort()).toEqual(['web-a', 'web-b', 'web-c']);
    for (const n of ['web-a', 'web-b', 'web-c']) expect(counts[n]).toBeGreaterThanOrEqual(10);
  });

  it('takes a removed endpoint out of rotation within 2 s', async () => {
    const ip = await clusterIP('web');
    const cur = await lab.cp.client.get('endpoints', 'web', { namespace: 'default' });
    const next = structuredClone(cur);
    next.subsets = endpoints('web', web.slice(0, 2), [], 8080, { name: 'http' }).subsets;
    const t0 = Date.now();
    await lab.cp.client.update('endpoints', next);
    await waitFor(async () => (await spread(`http://${ip}/`, 10))['web-c'] === undefined, {
      timeoutMs: 2_000,
      intervalMs: 50,
      what: 'web-c to leave the rotation',
    });
    const took = Date.now() - t0;
    expect(took).toBeLessThan(2_000);
    const counts = await spread(`http://${ip}/`, 30);
    expect(Object.keys(counts).sort()).toEqual(['web-a', 'web-b']);
  });

  it('refuses a Service with no endpoints at once', async () => {
    await lab.cp.client.create('services', service('empty', { ports: [{ port: 80 }] }));
    const ip = await clusterIP('empty');
    await waitFor(async () => (await lab.sh(client, `timeout 3 wget -qO- http://${ip}/ 2>&1`)).stdout.includes('refused'), { timeoutMs: 3_000, what: 'the empty Service to refuse' });
    // Timed from the host, so the figure includes the docker exec round trip: the refusal itself is faster.
    const t0 = Date.now();
    const r = await lab.sh(client, `timeout 5 wget -qO- http://${ip}/ 2>&1`);
    const ms = Date.now() - t0;
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).toMatch(/refused/i);
    expect(ms).toBeLessThan(1_000);
  });

  it('answers a NodePort on every node address and keeps a ClientIP-affine client on one backend', async () => {
    const s = await lab.cp.client.create('services', service('np', { type: 'NodePort', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }));
    await lab.cp.client.create('endpoints', endpoints('np', web.slice(0, 2)));
    const nodePort = s.spec?.ports?.[0]?.nodePort;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    for (const nodeIp of lab.nodeIps) {
      const counts = await waitFor(async () => {
        const c = await spread(`http://${nodeIp}:${nodePort}/`, 10);
        return c.FAIL === undefined ? c : undefined;
      }, { timeoutMs: 5_000, what: `NodePort on ${nodeIp}` });
      // Affinity: all ten requests from this client land on the same backend.
      expect(Object.keys(counts)).toHaveLength(1);
      expect(['web-a', 'web-b']).toContain(Object.keys(counts)[0]);
    }
  });
});

describe('cluster DNS', () => {
  it('registers kube-dns at the well-known ClusterIP, and resolves a Service by short name (wget http://web)', async () => {
    const dns = await waitFor(() => lab.cp.client.get('endpoints', 'kube-dns', { namespace: 'kube-system' }), { timeoutMs: 10_000, what: 'kube-dns endpoints' });
    expect(dns.subsets?.[0]?.addresses?.map((a) => a.ip)).toEqual([lab.dnsIp]);
    expect(await clusterIP('kube-dns', 'kube-system')).toBe(lab.serviceCidr.replace(/\.0\/17$/, '.10'));
    const out = await waitFor(async () => {
      const r = await lab.sh(client, 'timeout 5 wget -qO- http://web/');
      return r.exitCode === 0 ? r.stdout.trim() : undefined;
    }, { timeoutMs: 10_000, what: 'wget http://web to work' });
    expect(['web-a', 'web-b']).toContain(out);
  });

  it('resolves a headless Service to pod IPs and a StatefulSet pod by hostname, also through the kube-dns ClusterIP', async () => {
    await lab.cp.client.create('services', service('nginx', { clusterIP: 'None', ports: [{ name: 'web', port: 8080 }] }));
    await lab.cp.client.create('endpoints', endpoints('nginx', web.slice(0, 2), [], 8080, { name: 'web' }, true));
    // Name the pods as a StatefulSet would: hostname web-a / web-b under subdomain nginx.
    const r = await waitFor(async () => {
      const x = await lab.sh(client, 'nslookup nginx.default.svc.cluster.local');
      return x.stdout.includes(web[1]!.ip) ? x : undefined;
    }, { timeoutMs: 5_000, what: 'headless lookup' });
    expect(r.stdout).toContain(web[0]!.ip);
    expect(r.stdout).not.toContain(web[2]!.ip);
    const kubeDnsIp = await clusterIP('kube-dns', 'kube-system');
    const pod = await lab.sh(client, `nslookup web-a.nginx.default.svc.cluster.local ${kubeDnsIp}`);
    expect(pod.stdout).toContain(web[0]!.ip);
    const short = await lab.sh(client, 'timeout 5 wget -qO- http://web-b.nginx:8080/');
    expect(short.stdout.trim()).toBe('web-b');
  });
});

describe('LoadBalancer', () => {
  it('gets an ingress IP from the lab network that the Docker host reaches on the Service port', async () => {
    await lab.cp.client.create('services', service('lb', { type: 'LoadBalancer', ports: [{ port: 80 }] }));
    await lab.cp.client.create('endpoints', endpoints('lb', web.slice(0, 2)));
    const ip = await waitFor(async () => (await lab.cp.client.get('services', 'lb', { namespace: 'default' })).status?.loadBalancer?.ingress?.[0]?.ip, {
      timeoutMs: 5_000,
      what: 'an ingress IP',
    });
    expect(ip.startsWith(lab.lbCidr.split('.').slice(0, 3).join('.'))).toBe(true);
    const body = await waitFor(async () => {
      const res = await fetch(`http://${ip}/`, { signal: AbortSignal.timeout(2_000) });
      return res.ok ? (await res.text()).trim() : undefined;
    }, { timeoutMs: 10_000, what: `http://${ip}/ from the host` });
    expect(['web-a', 'web-b']).toContain(body);
  });
});
