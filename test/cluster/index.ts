/**
 * `kubelab/testing`: a throwaway multi-node kubelab cluster in Docker for integration tests.
 *
 *   const cluster = await startCluster({ workers: 3 });
 *   try { ...cluster.client...; await cluster.crash('worker-2'); } finally { await cluster.stop(); }
 *
 * Each cluster is isolated: its own bridge network on a free random /16, containers named
 * `<name>-<component>`, and everything (also the kubelets' pod containers) labelled
 * `io.kubelab.cluster=<name>`, so two clusters can run side by side and `stop()` leaves nothing.
 * No Ryuk reaper is used (it cannot be pulled everywhere): call `stop()` in afterAll; it is also
 * called when the start fails halfway.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { ApiClient } from '../../client/api.js';
import { clientTlsFromPkiDir, type ClientTls } from '../../component-base/tls.js';
import { Lab, pickSubnet } from '../../cli/lab/lab.js';
import { waitForLab } from '../../cli/lab/ready.js';
import { freePort } from '../support/etcd.js';
import { hostPort } from '../../cli/lab/docker.js';
import { engine } from '../../cli/lab/hosts.js';
import { DEFAULT_HA, PORTS, addressPlan, composeLabSpec, ingressImageFor, kubeconfigYaml, workerName, type ComponentName, type HaShape, type LabSpec, type TimingPreset } from '../../cli/lab/spec.js';
import { waitFor } from '../../client/wait.js';

export type { ComponentName, HaShape, TimingPreset } from '../../cli/lab/spec.js';

export interface ClusterOptions {
  /** Worker nodes worker-1..N. Default 3. */
  workers?: number;
  /** Timing preset of every component. Default 'lab' (a lost node heals in seconds). */
  timing?: TimingPreset;
  /** Cluster name (label value and container-name prefix). Default `kl-<random>`. */
  name?: string;
  /** Component image. Default $KUBELAB_IMAGE, else kubelab/kubelab:latest (build with `npm run images`). */
  image?: string;
  /** Replicas of the scheduler and the controller-manager (leader-elected). Default 2. */
  controlPlaneReplicas?: number;
  /** How long to wait for every node to be Ready. Default 120 s. */
  startTimeoutMs?: number;
  /** Progress lines while starting (default: none). */
  onProgress?: (line: string) => void;
  /**
   * TLS everywhere with a cluster PKI made for this cluster (default true, as the lab). false: plain
   * HTTP/gRPC and no authentication — only for a throwaway cluster whose test is about something else.
   */
  secure?: boolean;
  /**
   * Also run the ingress controller (nginx), published on free host ports (`cluster.ingress`). Its image
   * defaults to $KUBELAB_INGRESS_IMAGE, else kubelab/ingress-nginx with the component image's tag.
   */
  ingress?: boolean;
  ingressImage?: string;
  /** Also start the dashboard container (docs/dashboard.md); its URL is `dashboardUrl`. Default false. */
  dashboard?: boolean;
  /**
   * A highly available control plane (docs/lab.md): true = 3 etcd members and 2 apiservers behind an HAProxy
   * load balancer (the shape of `kubelab lab up --ha`), or a shape of your own. Default: one of each.
   */
  ha?: boolean | HaShape;
  /**
   * The Docker engine of the control plane and the first workers (tcp://HOST:PORT, ssh://USER@HOST; default the
   * local one). The published ports are then reached at HOST (docs/multihost.md).
   */
  docker?: string;
  /**
   * The pod network is a Docker Swarm overlay network, so that `addNode(name, { host })` can place workers on
   * other Docker engines (docs/multihost.md). The control plane's engine becomes a swarm manager if it is none.
   */
  overlay?: boolean;
}

/** Where a test cluster's ingress controller answers. */
export interface ClusterIngress {
  /** http://127.0.0.1:<port> on the host. */
  readonly httpUrl: string;
  /** https://127.0.0.1:<port> on the host. */
  readonly httpsUrl: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  /** Its address on the cluster network (status.loadBalancer of the Ingresses it serves; pods reach it there). */
  readonly address: string;
}

export interface TestCluster {
  readonly name: string;
  /** gRPC client of the cluster's apiserver (closed by stop()). */
  readonly client: ApiClient;
  /** kubeconfig file for kubectl (removed by stop()). */
  readonly kubeconfigPath: string;
  /** Kubernetes REST URL (https://127.0.0.1:<port>; http:// without TLS). */
  readonly restUrl: string;
  /** The admin's TLS material (CA, client certificate and key); undefined without TLS. */
  readonly adminTls?: ClientTls;
  /** The cluster's PKI directory (removed by stop()); undefined without TLS. */
  readonly pkiDir?: string;
  /** Environment that points the kubelab CLI at this cluster as the admin (KUBELAB_SERVER and the TLS files). */
  readonly cliEnv: Record<string, string>;
  /** gRPC address for `kubelab --server`. */
  readonly grpcAddress: string;
  /** The dashboard (http://127.0.0.1:<port>/) when started with `dashboard: true`. */
  readonly dashboardUrl?: string;
  /** Docker network of the cluster (the pod network). */
  readonly network: string;
  /** Worker node names (updated by addNode/removeNode). */
  readonly nodes: string[];
  /** The Lab underneath, for lower-level Docker access. */
  readonly lab: Lab;
  /** Set when started with `ingress: true`. */
  readonly ingress?: ClusterIngress;
  /** Power loss: the node container and its pod containers are SIGKILLed at once. */
  crash(node: string): Promise<void>;
  /** Cuts the node off from the control plane; its pods keep running. */
  partition(node: string): Promise<void>;
  heal(node: string): Promise<void>;
  /** Starts a crashed node container again. */
  restart(node: string): Promise<void>;
  /** A new worker joins (`host`: on another Docker engine, see ClusterOptions.overlay); resolves with its name once its Node is Ready. */
  addNode(name?: string, opts?: { host?: string }): Promise<string>;
  /** Removes the node container, its pods' containers and its Node object. */
  removeNode(node: string): Promise<void>;
  /** SIGKILLs a component ('leader' = the replica holding its Lease); returns the containers stopped. */
  stopComponent(component: ComponentName, which?: 'all' | 'leader'): Promise<string[]>;
  startComponent(component: ComponentName): Promise<string[]>;
  /** HA control plane: SIGKILLs one etcd member or apiserver (`etcd-2`, `apiserver-1` or its number); returns its container name. */
  crashMember(component: 'etcd' | 'apiserver', which: string): Promise<string>;
  /** Starts a crashed member again (an etcd member rejoins with its data). */
  restartMember(component: 'etcd' | 'apiserver', which: string): Promise<string>;
  /** Cuts one etcd member off its peers and the apiservers; healEtcd connects it again. */
  partitionEtcd(which: string): Promise<string>;
  healEtcd(which: string): Promise<string>;
  /** Removes every container (incl. pod containers), network and volume of the cluster. Safe to call twice. */
  stop(): Promise<void>;
}

function randomName(): string {
  return `kl-${randomBytes(3).toString('hex')}`;
}

function isPoolOverlap(err: unknown): boolean {
  return err instanceof Error && /overlap|already exists/i.test(err.message);
}

/**
 * Starts a throwaway cluster on the local Docker engine (or `opts.docker`). Resolves when the API answers and every
 * node is Ready, as `lab up` writes its kubeconfig then; the scheduler, controller-managers and DNS (started when the
 * apiserver answered) finish starting meanwhile, so wait for what a test needs — a pod Running — not for the call.
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const docker = opts.docker ? engine(opts.docker) : new Docker();
  // A control plane on another engine publishes its ports on that host's interfaces.
  const apiHost = opts.docker ? new URL(opts.docker).hostname : undefined;
  const name = opts.name ?? randomName();
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(name)) throw new Error(`cluster name "${name}" must be lower-case letters, digits and '-' (at most 31)`);
  const workers = opts.workers ?? 3;
  const base = composeLabSpec();
  const secure = opts.secure ?? true;
  const dir = mkdtempSync(join(tmpdir(), `kubelab-${name}-`));
  const pkiDir = secure ? join(dir, 'pki') : undefined;
  let lab: Lab | undefined;
  let startRest = (): Promise<void> => Promise.resolve(); // starts the scheduler, controller-managers and add-ons
  let restStarting: Promise<void> | undefined; // their start, once begun
  const beginRest = (): Promise<void> => (restStarting ??= startRest());
  // Two clusters starting at once may pick the same /16; the loser picks again.
  for (let attempt = 0; ; attempt++) {
    const spec: LabSpec = {
      ...base,
      cluster: name,
      network: `kubelab-${name}`,
      subnet: await pickSubnet(docker),
      prefix: `${name}-`,
      timing: opts.timing ?? 'lab',
      image: opts.image ?? process.env.KUBELAB_IMAGE ?? base.image,
      ingressImage: opts.ingressImage ?? process.env.KUBELAB_INGRESS_IMAGE ?? ingressImageFor(opts.image ?? process.env.KUBELAB_IMAGE ?? base.image),
      ingressHostPorts: opts.ingress ? { http: await freePort(), https: await freePort() } : { http: 0, https: 0 },
      // Fixed (free) host ports: a random binding would change when the apiserver container restarts.
      hostPorts: { rest: await freePort(), grpc: await freePort(), ...(opts.dashboard ? { dashboard: await freePort() } : {}) },
      // As in the lab: a component that exits (lost leadership, a crash handler) is restarted by Docker,
      // as the kubelet or systemd restarts control-plane processes. `docker kill` (a node crash) and
      // `docker stop` are manual stops, which Docker does not undo.
      restartPolicy: 'unless-stopped',
      secure,
      pkiDir,
      owner: ownerOfThisProcess(),
      ...(opts.ha ? { ha: opts.ha === true ? DEFAULT_HA : opts.ha } : {}),
      ...(opts.overlay ? { overlay: true } : {}),
      ...(apiHost ? { apiHost } : {}),
    };
    const candidate = new Lab(spec, docker);
    try {
      ({ startRest } = await candidate.create({ workers, schedulers: opts.controlPlaneReplicas ?? 2, controllerManagers: opts.controlPlaneReplicas ?? 2, ingress: opts.ingress ?? false, dashboard: opts.dashboard }));
      lab = candidate;
      break;
    } catch (err) {
      if (attempt < 3 && isPoolOverlap(err)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  let client: ApiClient | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    client?.close();
    await restStarting?.catch(() => undefined); // not removed while Docker starts them (and not started to be removed)
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const api = await lab.apiserver();
    const grpcPort = hostPort(api, PORTS.grpc);
    const restPort = hostPort(api, PORTS.rest);
    if (!grpcPort || !restPort) throw new Error('the apiserver container has no published ports');
    const host = apiHost ?? '127.0.0.1';
    const grpcAddress = `${host}:${grpcPort}`;
    const restUrl = `${secure ? 'https' : 'http'}://${host}:${restPort}`;
    const adminTls = pkiDir ? clientTlsFromPkiDir(pkiDir, 'admin') : undefined;
    client = new ApiClient(grpcAddress, { tls: adminTls, maxReconnectBackoffMs: 500 });
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml(name, restUrl, adminTls as Required<ClientTls> | undefined), { mode: 0o600 });
    const cliEnv: Record<string, string> = {
      KUBELAB_SERVER: grpcAddress,
      ...(pkiDir
        ? {
            KUBELAB_CERTIFICATE_AUTHORITY: join(pkiDir, 'ca.crt'),
            KUBELAB_CLIENT_CERTIFICATE: join(pkiDir, 'admin.crt'),
            KUBELAB_CLIENT_KEY: join(pkiDir, 'admin.key'),
          }
        : {}),
    };
    const nodes = Array.from({ length: workers }, (_, i) => workerName(i + 1));
    // Ready as the lab is for `lab up` (issue 18): the API answers and every node is Ready. The scheduler,
    // controller-managers and add-ons start when the apiserver answers (Lab.create) and finish starting meanwhile — a
    // test waits for what it needs anyway (a pod Running); stop() and stopComponent/startComponent wait for their start.
    await waitForLab(lab, client, { nodes, timeoutMs: opts.startTimeoutMs ?? 120_000, onProgress: opts.onProgress, onApiserverAnswering: () => void beginRest().catch(() => undefined) });
    beginRest().catch((err: unknown) => opts.onProgress?.(`starting the scheduler, controller-managers and add-ons failed: ${err instanceof Error ? err.message : String(err)}`));
    let ingress: ClusterIngress | undefined;
    if (opts.ingress) {
      const { http, https } = lab.spec.ingressHostPorts;
      ingress = { httpUrl: `http://${host}:${http}`, httpsUrl: `https://${host}:${https}`, httpPort: http, httpsPort: https, address: addressPlan(lab.spec).ingress };
      // nginx answers (the default backend's 404) once the controller has configured and started it.
      const url = ingress.httpUrl;
      await waitFor(async () => (await fetch(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.status === 404, {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: 'the ingress controller to serve its default backend',
      });
      opts.onProgress?.('ingress controller serving');
    }
    const c = client;
    const l = lab;
    const cluster: TestCluster = {
      name,
      client: c,
      kubeconfigPath,
      restUrl,
      adminTls,
      pkiDir,
      cliEnv,
      grpcAddress,
      dashboardUrl: l.spec.hostPorts.dashboard ? `http://${host}:${l.spec.hostPorts.dashboard}/` : undefined,
      network: l.spec.network,
      nodes,
      lab: l,
      ...(ingress ? { ingress } : {}),
      crash: (node) => l.crash(node),
      partition: (node) => l.partition(node),
      heal: (node) => l.heal(node),
      restart: (node) => l.restart(node),
      addNode: async (node, o = {}) => {
        const added = await l.addNode(node, { host: o.host, say: opts.onProgress });
        nodes.push(added);
        await waitForLab(l, c, { nodes: [added], timeoutMs: opts.startTimeoutMs ?? 120_000 });
        return added;
      },
      removeNode: async (node) => {
        await l.removeNode(node, c);
        const i = nodes.indexOf(node);
        if (i >= 0) nodes.splice(i, 1);
      },
      stopComponent: async (component, which = 'all') => {
        await beginRest().catch(() => undefined);
        return l.stopComponent(component, which, c);
      },
      startComponent: async (component) => {
        await beginRest().catch(() => undefined);
        return l.startComponent(component);
      },
      crashMember: (component, which) => l.crashMember(component, which),
      restartMember: (component, which) => l.restartMember(component, which),
      partitionEtcd: (which) => l.partitionEtcd(which),
      healEtcd: (which) => l.healEtcd(which),
      stop,
    };
    return cluster;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/**
 * `<pid>:<start time in clock ticks>` of this process (field 22 of /proc/self/stat): with the start time, a
 * later process that reuses the pid is not mistaken for the owner. `npm test` (deploy/test.sh) removes the
 * clusters whose owner is gone: a run killed mid-way leaves them, and Docker restarts them with itself.
 */
export function ownerOfThisProcess(): string | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${process.pid}:${fields[19]}`;
  } catch {
    return undefined;
  }
}
