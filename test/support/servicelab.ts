/**
 * A hand-built Service lab in Docker for the services tests and bench/service.ts: one labelled bridge
 * network, an in-process apiserver reachable from it via the gateway, "node" containers running the
 * current kube-proxy (NET_ADMIN, ip_forward, no redirects), a dns container, and pods made of a pause
 * container (Service route via its node) plus busybox containers joined to it.
 *
 * The kube-proxy and dns code is bundled from this checkout with esbuild and copied into
 * kubelab/kubelab:latest containers, so the test exercises the code under test, not the image's dist.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import tar from 'tar-stream';
import type Docker from 'dockerode';
import { docker, execIn, removeByLabel, requireImages, startContainer, TEST_LABEL } from './docker.js';
import { startControlPlane, type TestControlPlane } from './apiserver.js';

export const KUBELAB_IMAGE = process.env.KUBELAB_IMAGE ?? 'kubelab/kubelab:latest';
export const PAUSE_IMAGE = 'kubelab/pause:latest';
export const BUSYBOX_IMAGE = 'kubelab/busybox:latest';

export interface ServiceLabOptions {
  suite: string;
  /** Second octet of the lab's 10.x.0.0/16. */
  octet: number;
  nodes?: number;
  dns?: boolean;
}

export interface LabPod {
  readonly name: string;
  readonly ip: string;
  readonly pause: Docker.Container;
  /** The first joined container (app or client). */
  readonly app: Docker.Container;
}

export interface ServiceLab {
  readonly cp: TestControlPlane;
  readonly network: string;
  readonly subnet: string;
  readonly serviceCidr: string;
  readonly lbCidr: string;
  readonly nodeIps: string[];
  readonly nodes: Docker.Container[];
  readonly dnsIp: string;
  /** A pod whose app serves `GET /` with its name on `port` (busybox httpd). */
  webPod(name: string, opts?: { node?: number; port?: number; namespace?: string }): Promise<LabPod>;
  /** A pod that sleeps; run commands in it with `sh`. */
  clientPod(name: string, opts?: { node?: number; namespace?: string; image?: string; cmd?: string[] }): Promise<LabPod>;
  sh(pod: LabPod, script: string, timeoutMs?: number): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

/** The checkout's root (this file also runs compiled from dist/, e.g. for bench/service.ts). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
const root = repoRoot();

/** Bundles kube-proxy and dns entries (node_modules stay external: the image has them in /app). */
export async function bundleComponents(): Promise<Buffer> {
  const pack = tar.pack();
  for (const [file, entry] of [
    ['kube-proxy.mjs', 'kube-proxy/main.ts'],
    ['dns.mjs', 'kube-proxy/dns-main.ts'],
  ] as const) {
    const res = await build({
      stdin: { contents: `import { main } from './${entry}';\nawait main(process.argv.slice(2));\n`, resolveDir: root, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      write: false,
      logLevel: 'silent',
    });
    const out = res.outputFiles[0];
    if (!out) throw new Error(`esbuild produced nothing for ${entry}`);
    pack.entry({ name: file }, Buffer.from(out.contents));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

export async function startServiceLab(o: ServiceLabOptions): Promise<ServiceLab> {
  await requireImages(KUBELAB_IMAGE, PAUSE_IMAGE, BUSYBOX_IMAGE);
  await removeByLabel(TEST_LABEL, o.suite);
  const p = `10.${o.octet}`;
  const subnet = `${p}.0.0/16`;
  const gateway = `${p}.0.1`;
  const serviceCidr = `${p}.128.0/17`;
  const lbCidr = `${p}.32.0/24`;
  const labels = { [TEST_LABEL]: o.suite };
  const run = Math.random().toString(16).slice(2, 8);
  const network = `kubelab-test-${o.suite}-${run}`;
  const [bundle] = await Promise.all([
    bundleComponents(),
    docker().createNetwork({ Name: network, Driver: 'bridge', Labels: labels, IPAM: { Config: [{ Subnet: subnet, IPRange: `${p}.64.0/18`, Gateway: gateway }] } }),
  ]);
  const cp = await startControlPlane({ bindAddress: '0.0.0.0', serviceClusterIpRange: serviceCidr });
  const apiserver = `${gateway}:${cp.address.split(':')[1]}`;
  const created: Docker.Container[] = [];
  const component = async (name: string, ip: string, cmd: string[], extra: Partial<Docker.HostConfig> = {}): Promise<Docker.Container> => {
    const c = await docker().createContainer({
      Image: KUBELAB_IMAGE,
      name: `${network}-${name}`,
      Hostname: name,
      Labels: labels,
      Entrypoint: ['node'],
      Cmd: cmd,
      Env: ['KUBELAB_LOG_FORMAT=json', 'KUBELAB_LOG_LEVEL=info'],
      HostConfig: { NetworkMode: network, ...extra },
      NetworkingConfig: { EndpointsConfig: { [network]: { IPAMConfig: { IPv4Address: ip } } } },
    });
    created.push(c);
    await c.putArchive(bundle, { path: '/app' });
    await c.start();
    return c;
  };
  const nodeIps = Array.from({ length: o.nodes ?? 2 }, (_, i) => `${p}.0.${21 + i}`);
  const dnsIp = `${p}.0.10`;
  const nodes = await Promise.all(
    nodeIps.map((ip, i) =>
      component(`node-${i + 1}`, ip, ['/app/kube-proxy.mjs', '--apiserver', apiserver, '--hostname-override', `node-${i + 1}`, '--service-cluster-ip-range', serviceCidr, '--load-balancer-ip-range', lbCidr], {
        CapAdd: ['NET_ADMIN'],
        Sysctls: { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.all.send_redirects': '0', 'net.ipv4.conf.default.send_redirects': '0' },
      }),
    ),
  );
  if (o.dns !== false)
    await component('dns', dnsIp, ['/app/dns.mjs', '--apiserver', apiserver, '--service-cluster-ip-range', serviceCidr, '--load-balancer-ip-range', lbCidr, '--advertise-address', dnsIp]);

  let nextPod = 10;
  const pod = async (name: string, node: number, namespace: string, app: Docker.ContainerCreateOptions): Promise<LabPod> => {
    const ip = `${p}.64.${nextPod++}`;
    const pause = await startContainer({
      Image: PAUSE_IMAGE,
      name: `${network}-${name}`,
      Hostname: name,
      Labels: labels,
      Env: [`KUBELAB_SERVICE_CIDR=${serviceCidr}`, `KUBELAB_NODE_IP=${nodeIps[node] ?? nodeIps[0]}`],
      HostConfig: {
        NetworkMode: network,
        CapAdd: ['NET_ADMIN'],
        Dns: [dnsIp],
        DnsSearch: [`${namespace}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'],
        DnsOptions: ['ndots:5'],
      },
      NetworkingConfig: { EndpointsConfig: { [network]: { IPAMConfig: { IPv4Address: ip } } } },
    });
    const c = await startContainer({ ...app, name: `${network}-${name}-app`, Labels: labels, HostConfig: { NetworkMode: `container:${pause.id}` } });
    return { name, ip, pause, app: c };
  };
  const sh = (pd: LabPod, script: string, timeoutMs = 60_000) => execIn(pd.app, ['sh', '-c', script], { timeoutMs });
  return {
    cp,
    network,
    subnet,
    serviceCidr,
    lbCidr,
    nodeIps,
    nodes,
    dnsIp,
    webPod: (name, opts = {}) =>
      pod(name, opts.node ?? 0, opts.namespace ?? 'default', {
        Image: BUSYBOX_IMAGE,
        Cmd: ['sh', '-c', `mkdir -p /www && echo ${name} > /www/index.html && exec httpd -f -p ${opts.port ?? 8080} -h /www`],
      }),
    clientPod: (name, opts = {}) =>
      pod(name, opts.node ?? 0, opts.namespace ?? 'default', { Image: opts.image ?? BUSYBOX_IMAGE, Cmd: opts.cmd ?? ['sleep', '3600'], ...(opts.image ? { Entrypoint: [] } : {}) }),
    sh,
    stop: async () => {
      try {
        await removeByLabel(TEST_LABEL, o.suite);
      } finally {
        await cp.stop();
      }
    },
  };
}
