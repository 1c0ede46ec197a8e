/**
 * The shape of a lab cluster as data: its address plan, names, labels and the Docker container
 * definition of every component. The compose lab (docker-compose.yml, `kubelab lab`), the
 * testcontainers helper (test/cluster) and `kubelab node add` all build containers from here, so a
 * worker added at runtime is started exactly like the ones compose started.
 */
import type Docker from 'dockerode';
import { ENCRYPTION_CONFIG_FILE, SERVICE_ACCOUNT_KEY_FILE, labPkiPlan, type PkiPlan } from '../../client/pki/pki.js';
import { TIMING, type TimingPreset } from '../../component-base/timing.js';

export type { TimingPreset } from '../../component-base/timing.js';

/** Control-plane components that run as containers next to the workers. */
export type ComponentName = 'etcd' | 'apiserver' | 'lb' | 'scheduler' | 'controller-manager' | 'dns' | 'ingress' | 'dashboard';

/** Set by compose on the containers it manages (services); pods and added workers lack it. */
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';
export const CLUSTER_LABEL = 'io.kubelab.cluster';
/** Which kubelab component a container runs (`node` for workers); pod containers do not carry it. */
export const COMPONENT_LABEL = 'io.kubelab.component';
/** Node name of a worker container. Pod containers carry `io.kubelab.node` instead (set by the kubelet). */
export const WORKER_LABEL = 'io.kubelab.worker';
export const POD_NODE_LABEL = 'io.kubelab.node';
export const POD_UID_LABEL = 'io.kubelab.pod.uid';
/** On the cluster's network: how its containers are named (`<prefix>worker-1`), so tools can find them. */
export const PREFIX_LABEL = 'io.kubelab.prefix';
export const TIMING_LABEL = 'io.kubelab.timing';
export const OWNER_LABEL = 'io.kubelab.owner';
/** On the control-plane network: its role. The pod network carries none. */
export const NETWORK_ROLE_LABEL = 'io.kubelab.network';

export const PORTS = {
  rest: 6443,
  grpc: 7443,
  apiserverAdmin: 10260,
  scheduler: 10259,
  controllerManager: 10257,
  kubeletAdmin: 10248,
  kubeProxyAdmin: 10256,
  dnsAdmin: 10253,
  /** The dashboard's HTTP + WebSocket port (compose lab: http://localhost:8080). */
  dashboard: 8080,
  etcd: 2379,
  etcdPeer: 2380,
  ingressHttp: 80,
  ingressHttps: 443,
  ingressAdmin: 10254,
} as const;

export interface LabSpec {
  /** Value of io.kubelab.cluster on everything the cluster creates. */
  cluster: string;
  /**
   * A highly available control plane (docs/lab.md, "HA control plane"): `etcdMembers` etcd members forming
   * one Raft cluster, `apiservers` apiservers each talking to every member, and an HAProxy load balancer
   * (`lb`) at the apiserver's address in front of them. Absent: one etcd and one apiserver, as before.
   */
  ha?: HaShape;
  /** Docker network (the flat pod network). */
  network: string;
  /**
   * The pod network is a Docker Swarm overlay network (attachable) instead of a bridge, so that workers on other
   * Docker engines join it (docs/multihost.md). The control-plane engine is (or becomes) the swarm manager.
   */
  overlay?: boolean;
  /**
   * Where clients reach the published ports when the control plane runs on another machine's engine (its
   * address): the ports are then published on every interface of that host, not on its loopback, and the
   * apiserver's certificate names this address. Absent: 127.0.0.1, loopback only.
   */
  apiHost?: string;
  /** A /16, e.g. 10.213.0.0/16. */
  subnet: string;
  /** Container names are `<prefix><component>`, e.g. `kubelab-worker-1`. */
  prefix: string;
  timing: TimingPreset;
  image: string;
  etcdImage: string;
  /** The HA control plane's load balancer (Debian's HAProxy): kubelab/haproxy. */
  lbImage: string;
  /** The ingress controller's image (nginx + the controller). */
  ingressImage: string;
  /** Host ports (on 127.0.0.1) of the ingress controller's HTTP and HTTPS; 0 = Docker picks. */
  ingressHostPorts: { http: number; https: number };
  /** Host ports (on 127.0.0.1) of the apiserver's REST and gRPC APIs and the dashboard; 0 = Docker picks. */
  hostPorts: { rest: number; grpc: number; dashboard?: number };
  /** Docker restart policy of the cluster's containers ('no' in tests: the test decides). */
  restartPolicy: 'no' | 'unless-stopped';
  /**
   * TLS, authentication, RBAC + Node authorization, ServiceAccount tokens and Pod Security (the default);
   * false only for a throwaway test cluster: plain HTTP/gRPC, every caller the admin, every pod allowed.
   */
  secure: boolean;
  /** Host directory of the cluster's PKI (ensurePki layout); containers get their own files from it. */
  pkiDir?: string;
  /**
   * The process that owns a throwaway cluster (`<pid>:<start time>`, label io.kubelab.owner on its networks):
   * `npm test` removes a test cluster whose owner is gone (a run killed mid-way). Labs have none.
   */
  owner?: string;
}

/** How many etcd members and apiservers an HA control plane has. */
export interface HaShape {
  etcdMembers: number;
  apiservers: number;
}

/** `--ha`: three etcd members (one may fail and quorum holds) and two apiservers behind the load balancer. */
export const DEFAULT_HA: HaShape = { etcdMembers: 3, apiservers: 2 };
/** The most of each the address plan and the certificates have room for. */
export const MAX_HA: HaShape = { etcdMembers: 5, apiservers: 3 };

/** Rejects an HA shape the lab cannot build, naming the field and the reason. */
export function checkHa(ha: HaShape): void {
  if (!Number.isInteger(ha.etcdMembers) || ha.etcdMembers < 1 || ha.etcdMembers > MAX_HA.etcdMembers || ha.etcdMembers % 2 === 0)
    throw new Error(`ha.etcdMembers: ${ha.etcdMembers} must be an odd number from 1 to ${MAX_HA.etcdMembers} (an even count tolerates no more failures than the odd one below it)`);
  if (!Number.isInteger(ha.apiservers) || ha.apiservers < 1 || ha.apiservers > MAX_HA.apiservers)
    throw new Error(`ha.apiservers: ${ha.apiservers} must be a whole number from 1 to ${MAX_HA.apiservers}`);
}

/** The apiserver container's audit log (kubeadm's usual place); `kubelab audit` reads it. */
export const AUDIT_LOG_PATH = '/var/log/kubernetes/audit/audit.log';

/** Where every container finds its certificates (kubeadm's path). */
export const PKI_PATH = '/etc/kubernetes/pki';
/** etcd's plain /health on loopback only (kubeadm probes etcd the same way): the healthcheck needs no client certificate. */
export const ETCD_METRICS_PORT = 2381;

/** The compose lab: what docker-compose.yml describes (keep the two in step). */
export function composeLabSpec(): LabSpec {
  return {
    cluster: 'kubelab',
    network: 'kubelab',
    subnet: '10.213.0.0/16',
    prefix: 'kubelab-',
    timing: 'lab',
    image: 'kubelab/kubelab:latest',
    etcdImage: 'kubelab/etcd:latest',
    lbImage: 'kubelab/haproxy:latest',
    ingressImage: 'kubelab/ingress-nginx:latest',
    ingressHostPorts: { http: 8081, https: 8444 },
    hostPorts: { rest: 6443, grpc: 7443, dashboard: PORTS.dashboard },
    restartPolicy: 'unless-stopped',
    secure: true,
  };
}

/** The ClusterIP of the `kubernetes` Service: the first address of the Service range. */
export function kubernetesServiceIp(spec: Pick<LabSpec, 'subnet'>): string {
  return `${octets(spec)}.128.1`;
}

/** Every certificate the lab needs, for these worker nodes (name → lab address). */
export function labPki(spec: LabSpec, nodes: { name: string; ip: string }[]): PkiPlan {
  const plan = addressPlan(spec);
  // The HA names and addresses are always in the certificates, so switching a lab to --ha and back
  // reissues nothing.
  const apiservers = Array.from({ length: MAX_HA.apiservers }, (_, i) => i + 1);
  const members = Array.from({ length: MAX_HA.etcdMembers }, (_, i) => i + 1);
  return labPkiPlan({
    apiserverHosts: [
      plan.apiserver,
      containerName(spec, 'apiserver'),
      containerName(spec, 'lb'),
      kubernetesServiceIp(spec),
      ...apiservers.flatMap((n) => [containerName(spec, `apiserver-${n}`), apiserverReplicaIp(spec, n)]),
      ...(spec.apiHost ? [spec.apiHost] : []),
    ],
    etcdHosts: [containerName(spec, 'etcd'), ...members.map((n) => containerName(spec, `etcd-${n}`))],
    nodes: nodes.map((n) => ({ name: n.name, hosts: [n.ip] })),
  });
}

/** The PKI files (relative to the PKI directory) a container needs; never the CA key. */
export function pkiFilesOf(component: ComponentName | 'node', nodeName?: string): string[] {
  const pair = (f: string): string[] => [`${f}.crt`, `${f}.key`];
  switch (component) {
    case 'etcd':
      return ['ca.crt', ...pair('etcd-server')];
    case 'apiserver':
      return ['ca.crt', ...pair('apiserver'), ...pair('apiserver-etcd-client'), ...pair('apiserver-kubelet-client'), SERVICE_ACCOUNT_KEY_FILE, ENCRYPTION_CONFIG_FILE];
    case 'lb':
      // TCP passthrough: TLS ends at the apiservers, the load balancer holds no key.
      return [];
    case 'scheduler':
    case 'controller-manager':
    case 'dns':
    case 'ingress':
    case 'dashboard':
      return ['ca.crt', ...pair(component)];
    case 'node':
      if (!nodeName) throw new Error('node needs a name');
      return ['ca.crt', ...pair(`nodes/${nodeName}/kubelet`), ...pair(`nodes/${nodeName}/kubelet-server`), ...pair('kube-proxy')];
  }
}

/**
 * The throwaway cluster (`secure: false`): plain HTTP/gRPC with every caller the admin, no ServiceAccount
 * tokens in pods, every pod allowed. Never the default (docs/security.md, "Turning it off").
 */
const INSECURE_APISERVER_ARGS = ['--insecure', '--authorization-mode', 'AlwaysAllow', '--disable-admission-plugins', 'ServiceAccount', '--pod-security-defaults', 'enforce=privileged'];

/** `--certificate-authority/--client-certificate/--client-key` for identity `file`. */
function clientTlsArgs(file: string): string[] {
  return ['--certificate-authority', `${PKI_PATH}/ca.crt`, '--client-certificate', `${PKI_PATH}/${file}.crt`, '--client-key', `${PKI_PATH}/${file}.key`];
}

/** The first two octets of the cluster's /16 ("10.213"). */
export function octets(spec: Pick<LabSpec, 'subnet'>): string {
  const m = spec.subnet.match(/^(\d+)\.(\d+)\.0\.0\/16$/);
  if (!m) throw new Error(`lab subnet "${spec.subnet}" is not a /16 like 10.213.0.0/16`);
  return `${m[1]}.${m[2]}`;
}

/** kubelab/ingress-nginx with the tag of the component image (kubelab/kubelab:x → kubelab/ingress-nginx:x), as build-images.sh names it. */
export function ingressImageFor(image: string): string {
  const colon = image.lastIndexOf(':');
  const tag = colon > image.lastIndexOf('/') ? image.slice(colon + 1) : 'latest';
  return `kubelab/ingress-nginx:${tag}`;
}

/** The address plan (docs/architecture.md, "Lab network"). */
export function addressPlan(spec: Pick<LabSpec, 'subnet'>): {
  gateway: string;
  apiserver: string;
  dns: string;
  ingress: string;
  podRange: string;
  serviceCidr: string;
  clusterDns: string;
  loadBalancerRange: string;
} {
  const p = octets(spec);
  return {
    gateway: `${p}.0.1`,
    // .0.2 was etcd's before it moved to the control-plane network (controlPlaneNetwork): left unused.
    apiserver: `${p}.0.3`,
    dns: `${p}.0.10`,
    ingress: `${p}.0.11`,
    podRange: `${p}.64.0/18`,
    serviceCidr: `${p}.128.0/17`,
    // The dns container's own address: pods resolve through it directly, with no dependency on
    // Service plumbing (kube-proxy) being up on their node.
    clusterDns: `${p}.0.10`,
    // LoadBalancer ingress IPs (docs/services.md): inside the /16, outside the other ranges.
    loadBalancerRange: `${p}.32.0/24`,
  };
}

/**
 * Address of apiserver replica n (1-based) of an HA control plane: .4, .5, .6. The load balancer holds
 * the apiserver's usual address (.3), so every component, kubeconfig and certificate stays as it is.
 */
export function apiserverReplicaIp(spec: Pick<LabSpec, 'subnet'>, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_HA.apiservers) throw new Error(`apiserver replica ${n} is out of range (1-${MAX_HA.apiservers})`);
  return `${octets(spec)}.0.${3 + n}`;
}

/** Fixed address of worker number n (1-based): .21, .22, ... up to .250. */
export function workerIp(spec: Pick<LabSpec, 'subnet'>, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 230) throw new Error(`worker number ${n} is out of range (1-230)`);
  return `${octets(spec)}.0.${20 + n}`;
}

/** worker-7 → 7; undefined for names that are not `worker-<n>`. */
export function workerNumber(name: string): number | undefined {
  const m = name.match(/^worker-(\d+)$/);
  return m ? Number(m[1]) : undefined;
}

export function workerName(n: number): string {
  return `worker-${n}`;
}

export function containerName(spec: Pick<LabSpec, 'prefix'>, what: string): string {
  return `${spec.prefix}${what}`;
}

const NS = 1_000_000;

/**
 * How often Docker runs a container's healthcheck. Every check is a `runc exec` (~0.12 s of CPU in dockerd,
 * containerd and runc); a dozen containers checked every 1–2 s kept one of a 2-core machine's cores busy.
 * Nothing waits on Docker's verdict: waitForLab runs a check itself while Docker still says "starting".
 */
export const HEALTHCHECK_INTERVAL_MS = 30_000;

/**
 * A Docker healthcheck that GETs an admin /healthz with bash's /dev/tcp (the image has no curl). Not
 * `node -e fetch(…)`: starting node costs ~0.3 s of CPU per check.
 */
export function httpHealthcheck(port: number): Docker.ContainerCreateOptions['Healthcheck'] {
  return {
    Test: ['CMD', 'bash', '-c', healthScript(port)],
    Interval: HEALTHCHECK_INTERVAL_MS * NS,
    Timeout: 2_000 * NS,
    Retries: 2,
    StartPeriod: 30_000 * NS,
  };
}

export function healthScript(port: number, path = '/healthz'): string {
  return `exec 3<>/dev/tcp/127.0.0.1/${port} && printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' >&3 && head -c 12 <&3 | grep -q ' 200'`;
}

function labels(spec: LabSpec, component: string, extra: Record<string, string> = {}): Record<string, string> {
  return { [CLUSTER_LABEL]: spec.cluster, [COMPONENT_LABEL]: component, ...extra };
}

function hostConfig(spec: LabSpec, extra: Docker.HostConfig = {}): Docker.HostConfig {
  return { NetworkMode: spec.network, RestartPolicy: { Name: spec.restartPolicy }, Init: false, ...extra };
}

function endpoint(spec: LabSpec, ip?: string): Docker.ContainerCreateOptions['NetworkingConfig'] {
  return { EndpointsConfig: { [spec.network]: ip ? { IPAMConfig: { IPv4Address: ip } } : {} } };
}

/**
 * A published port on the host's loopback; 0 = Docker picks. With `apiHost` (a control plane on another
 * machine's engine) on every interface of that host, or nobody but that host could reach it.
 */
function loopback(hostPort: number | undefined, spec?: LabSpec): { HostIp: string; HostPort: string }[] {
  return [{ HostIp: spec?.apiHost ? '' : '127.0.0.1', HostPort: hostPort ? String(hostPort) : '' }];
}

/** The API's REST and gRPC ports on the host's loopback: the apiserver's, or the HA load balancer's. */
function apiPortBindings(spec: LabSpec): Docker.HostConfig['PortBindings'] {
  return { [`${PORTS.rest}/tcp`]: loopback(spec.hostPorts.rest, spec), [`${PORTS.grpc}/tcp`]: loopback(spec.hostPorts.grpc, spec) };
}

/**
 * etcd's own network, as kubeadm keeps etcd on the control-plane hosts: only etcd and the apiserver are on
 * it, and it is `internal` (no route out). Pods and nodes are on the pod network; Docker isolates bridge
 * networks from each other, so nothing there reaches etcd at all (docs/security.md). Docker picks its
 * subnet; the apiserver finds etcd by container name (Docker's DNS on user-defined networks).
 */
export function controlPlaneNetwork(spec: Pick<LabSpec, 'network'>): string {
  return `${spec.network}-control-plane`;
}

export function controlPlaneNetworkLabels(spec: Pick<LabSpec, 'cluster'>): Record<string, string> {
  return { [CLUSTER_LABEL]: spec.cluster, [NETWORK_ROLE_LABEL]: 'control-plane' };
}

/** The etcd members' names: `etcd` alone, or etcd-1..N in an HA control plane (also their container names after the prefix). */
export function etcdMembers(spec: Pick<LabSpec, 'ha'>): string[] {
  return spec.ha ? Array.from({ length: spec.ha.etcdMembers }, (_, i) => `etcd-${i + 1}`) : ['etcd'];
}

/** The apiservers' container names (after the prefix): `apiserver`, or apiserver-1..N behind the load balancer. */
export function apiserverReplicas(spec: Pick<LabSpec, 'ha'>): string[] {
  return spec.ha ? Array.from({ length: spec.ha.apiservers }, (_, i) => `apiserver-${i + 1}`) : ['apiserver'];
}

/** Where the apiserver reaches etcd member `member`: its container name on the control-plane network. */
export function etcdUrl(spec: Pick<LabSpec, 'prefix' | 'secure'>, member = 'etcd'): string {
  return `${spec.secure ? 'https' : 'http'}://${containerName(spec, member)}:${PORTS.etcd}`;
}

/** Every member's client URL: what each apiserver's --etcd-servers lists. */
export function etcdUrls(spec: Pick<LabSpec, 'prefix' | 'secure' | 'ha'>): string[] {
  return etcdMembers(spec).map((m) => etcdUrl(spec, m));
}

/**
 * The flags of one etcd member. Alone: peers on loopback only, as before. In an HA control plane the members
 * find each other by container name on the control-plane network (initial-cluster from the spec), with
 * peer TLS in a secure lab: each member presents etcd-server (serverAuth + clientAuth) and asks its peers
 * for a certificate of the cluster CA.
 */
export function etcdArgs(spec: LabSpec, member = 'etcd'): string[] {
  const scheme = spec.secure ? 'https' : 'http';
  const members = etcdMembers(spec);
  // Alone: peers on loopback only. HA: by container name on the control-plane network, TLS when secure.
  const peer = (m: string): string => (spec.ha ? `${scheme}://${containerName(spec, m)}:${PORTS.etcdPeer}` : `http://127.0.0.1:${PORTS.etcdPeer}`);
  return [
    '--name', member,
    '--data-dir', '/var/lib/etcd/data',
    '--listen-client-urls', `${scheme}://0.0.0.0:${PORTS.etcd}`,
    '--advertise-client-urls', etcdUrl(spec, member),
    '--listen-peer-urls', spec.ha ? `${scheme}://0.0.0.0:${PORTS.etcdPeer}` : peer(member),
    '--initial-advertise-peer-urls', peer(member),
    '--initial-cluster', members.map((m) => `${m}=${peer(m)}`).join(','),
    ...(spec.ha
      ? [
          '--initial-cluster-state', 'new',
          '--initial-cluster-token', spec.cluster,
          // A member back from a partition asks before it campaigns (the default from etcd 3.5 on): its higher
          // term does not depose the leader the others kept meanwhile.
          '--pre-vote',
        ]
      : []),
    '--log-level', 'warn',
    // As kubeadm's etcd: a snapshot every 10,000 writes, not etcd 3.4's 100,000 — etcd keeps the Raft entries since
    // its last snapshot in memory (30,000 pods written four times held ~400 MiB more in bench/scale.ts).
    '--snapshot-count', '10000',
    // The apiserver pings its etcd connections every 3 s while calls are open, to find a partitioned member
    // within seconds (apiserver/etcdwire.ts); etcd's default (5 s) would answer such pings with GOAWAY.
    '--grpc-keepalive-min-time', '1s',
    // Only clients with a certificate of the cluster CA get in: the apiserver is the only one that has one.
    ...(spec.secure
      ? [
          '--cert-file', `${PKI_PATH}/etcd-server.crt`,
          '--key-file', `${PKI_PATH}/etcd-server.key`,
          '--client-cert-auth',
          '--trusted-ca-file', `${PKI_PATH}/ca.crt`,
          '--listen-metrics-urls', `http://127.0.0.1:${ETCD_METRICS_PORT}`,
        ]
      : []),
    ...(spec.secure && spec.ha
      ? [
          '--peer-cert-file', `${PKI_PATH}/etcd-server.crt`,
          '--peer-key-file', `${PKI_PATH}/etcd-server.key`,
          '--peer-client-cert-auth',
          '--peer-trusted-ca-file', `${PKI_PATH}/ca.crt`,
          // A peer still needs a certificate of the cluster CA; etcd only skips resolving every DNS name of
          // that certificate to match the peer's address. Those lookups include the members that are down
          // (and, on the internal network, a name Docker does not know takes seconds to fail): with them,
          // each peer handshake outlasted the election timeout and a leader's crash left the two survivors
          // without a leader for 10 s and more.
          '--experimental-peer-skip-client-san-verification',
        ]
      : []),
  ];
}

/**
 * HAProxy's configuration for the load balancer of an HA control plane: TCP passthrough of the REST and
 * gRPC ports (TLS ends at the apiservers) to every apiserver, each checked by a TCP connect every second.
 * A server marked down has its sessions shut, so watch streams through it end at once and their clients
 * reconnect to a live apiserver instead of waiting on a dead peer. A connection that fails between two
 * checks marks its server down at once (observe layer4) and is sent to another one (redispatch): a client
 * connecting right after a crash is not refused. Long timeouts: watches are long-lived.
 */
export function haproxyConfig(spec: LabSpec): string {
  const servers = (port: number): string[] =>
    apiserverReplicas(spec).map(
      (name, i) =>
        `  server ${name} ${apiserverReplicaIp(spec, i + 1)}:${port} check inter 1s fall 2 rise 2 on-marked-down shutdown-sessions observe layer4 error-limit 1 on-error mark-down`,
    );
  return [
    'global',
    '  log stdout format raw local0 notice',
    '  maxconn 4096',
    'defaults',
    '  mode tcp',
    '  log global',
    '  option dontlognull',
    // A connection to an apiserver that just died (not yet marked down) is retried on another one.
    '  retries 3',
    '  option redispatch 1',
    '  timeout connect 1s',
    '  timeout client 24h',
    '  timeout server 24h',
    '  timeout tunnel 24h',
    `frontend rest`,
    `  bind :${PORTS.rest}`,
    '  default_backend apiservers-rest',
    `frontend grpc`,
    `  bind :${PORTS.grpc}`,
    '  default_backend apiservers-grpc',
    'backend apiservers-rest',
    '  balance roundrobin',
    ...servers(PORTS.rest),
    'backend apiservers-grpc',
    '  balance roundrobin',
    ...servers(PORTS.grpc),
    '',
  ].join('\n');
}

/**
 * Component flags as docker-compose.yml passes them (the container definitions below use these). Timing
 * is only the preset's name: every component reads its values from component-base/timing.ts.
 */
export function componentArgs(spec: LabSpec, component: ComponentName | 'node', nodeName?: string, nodeIp?: string): string[] {
  const plan = addressPlan(spec);
  const api = `${plan.apiserver}:${PORTS.grpc}`;
  const scheme = spec.secure ? 'https' : 'http';
  const tls = (file: string): string[] => (spec.secure ? clientTlsArgs(file) : []);
  switch (component) {
    case 'etcd':
      return etcdArgs(spec, nodeName);
    case 'lb':
      return ['haproxy', '-W', '-db', '-f', '/usr/local/etc/haproxy/haproxy.cfg'];
    case 'apiserver':
      return [
        'apiserver',
        // Every member: the apiserver's etcd clients move to another one when theirs fails.
        '--etcd-servers', etcdUrls(spec).join(','),
        '--service-cluster-ip-range', plan.serviceCidr,
        '--advertise-address', plan.apiserver,
        '--timing', spec.timing,
        ...(spec.secure
          ? [
              '--tls-cert-file', `${PKI_PATH}/apiserver.crt`,
              '--tls-private-key-file', `${PKI_PATH}/apiserver.key`,
              '--client-ca-file', `${PKI_PATH}/ca.crt`,
              '--etcd-cafile', `${PKI_PATH}/ca.crt`,
              '--etcd-certfile', `${PKI_PATH}/apiserver-etcd-client.crt`,
              '--etcd-keyfile', `${PKI_PATH}/apiserver-etcd-client.key`,
              '--kubelet-certificate-authority', `${PKI_PATH}/ca.crt`,
              '--kubelet-client-certificate', `${PKI_PATH}/apiserver-kubelet-client.crt`,
              '--kubelet-client-key', `${PKI_PATH}/apiserver-kubelet-client.key`,
              // Published as the kube-root-ca.crt ConfigMap: what in-cluster clients verify the apiserver with.
              '--root-ca-file', `${PKI_PATH}/ca.crt`,
              // Signs ServiceAccount tokens; kept in the PKI so pods' tokens outlive an apiserver restart.
              '--service-account-key-file', `${PKI_PATH}/${SERVICE_ACCOUNT_KEY_FILE}`,
              // The apiserver's defaults, written out as kubeadm does: RBAC plus the Node authorizer.
              '--authorization-mode', 'Node,RBAC',
              // Secrets at rest: AES-GCM with the lab's own key (made with the PKI, kept with it).
              '--encryption-provider-config', `${PKI_PATH}/${ENCRYPTION_CONFIG_FILE}`,
              // Who did what (deploy/audit-policy.yaml, in the image): `kubelab audit` reads it.
              '--audit-log-path', AUDIT_LOG_PATH,
              '--audit-policy-file', '/app/deploy/audit-policy.yaml',
              '--audit-log-maxsize', '10',
              '--audit-log-maxbackup', '1',
            ]
          : INSECURE_APISERVER_ARGS),
      ];
    case 'scheduler':
      return ['scheduler', '--apiserver', api, '--timing', spec.timing, ...tls('scheduler')];
    case 'controller-manager':
      return ['controller-manager', '--apiserver', api, '--timing', spec.timing, '--cluster-name', spec.cluster, ...tls('controller-manager')];
    case 'dns':
      return [
        'dns',
        '--apiserver', api,
        '--service-cluster-ip-range', plan.serviceCidr,
        '--advertise-address', plan.dns,
        '--load-balancer-ip-range', plan.loadBalancerRange,
        ...tls('dns'),
      ];
    case 'ingress':
      // The image's entrypoint is `component ingress`: only flags here. Its IngressClass `nginx` is the
      // lab's default, so an Ingress without a class is served (as on a cluster with one default class).
      return ['--apiserver', api, '--publish-status-address', plan.ingress, '--default-class', ...tls('ingress')];
    case 'dashboard':
      // --cluster: its crash/partition/heal/restart buttons act on this lab's containers (Docker socket).
      return ['dashboard', '--apiserver', api, '--cluster', spec.cluster, ...tls('dashboard')];
    case 'node':
      if (!nodeName || !nodeIp) throw new Error('node needs a name and an address');
      return [
        'node',
        '--apiserver', api,
        '--node-name', nodeName,
        '--node-ip', nodeIp,
        '--node-container', containerName(spec, nodeName),
        '--pod-network', spec.network,
        '--service-cidr', plan.serviceCidr,
        '--cluster-dns', plan.clusterDns,
        '--cluster-name', spec.cluster,
        '--timing', spec.timing,
        '--load-balancer-ip-range', plan.loadBalancerRange,
        ...(spec.secure
          ? [
              ...clientTlsArgs(`nodes/${nodeName}/kubelet`),
              '--tls-cert-file', `${PKI_PATH}/nodes/${nodeName}/kubelet-server.crt`,
              '--tls-private-key-file', `${PKI_PATH}/nodes/${nodeName}/kubelet-server.key`,
              '--client-ca-file', `${PKI_PATH}/ca.crt`,
              '--proxy-client-certificate', `${PKI_PATH}/kube-proxy.crt`,
              '--proxy-client-key', `${PKI_PATH}/kube-proxy.key`,
            ]
          : ['--enforce-pod-security', 'false']),
      ];
  }
}

/**
 * Lab preset: the controller-manager reads the node containers' deaths from Docker (docs/timing.md),
 * so it gets the Docker socket; under `default` it does not.
 */
export function watchesDocker(spec: Pick<LabSpec, 'timing'>): boolean {
  return TIMING[spec.timing].controllerManager.dockerDeathConfirmMs !== undefined;
}

/** The container of one control-plane component (`replica` names the 2nd scheduler etc.). */
export function componentContainer(spec: LabSpec, component: ComponentName, replica = 1): Docker.ContainerCreateOptions {
  const plan = addressPlan(spec);
  const replicated = component === 'scheduler' || component === 'controller-manager' || (spec.ha !== undefined && (component === 'etcd' || component === 'apiserver'));
  const name = containerName(spec, replicated ? `${component}-${replica}` : component);
  const base = {
    name,
    // Leader-election identities start with $HOSTNAME: the container name says who leads.
    Hostname: name,
    Labels: labels(spec, component),
  };
  switch (component) {
    case 'etcd':
      return {
        ...base,
        Image: spec.etcdImage,
        Cmd: etcdArgs(spec, spec.ha ? `etcd-${replica}` : 'etcd'),
        Healthcheck: {
          Test: spec.secure
            ? ['CMD', 'bash', '-c', healthScript(ETCD_METRICS_PORT, '/health')]
            : ['CMD', 'etcdctl', '--endpoints', `http://127.0.0.1:${PORTS.etcd}`, 'endpoint', 'health'],
          Interval: HEALTHCHECK_INTERVAL_MS * NS,
          Timeout: 2_000 * NS,
          Retries: 2,
          StartPeriod: 10_000 * NS,
        },
        HostConfig: { ...hostConfig(spec), NetworkMode: controlPlaneNetwork(spec) },
        NetworkingConfig: { EndpointsConfig: { [controlPlaneNetwork(spec)]: {} } },
      };
    case 'apiserver':
      return {
        ...base,
        Image: spec.image,
        Cmd: componentArgs(spec, 'apiserver'),
        ExposedPorts: { [`${PORTS.rest}/tcp`]: {}, [`${PORTS.grpc}/tcp`]: {} },
        Healthcheck: httpHealthcheck(PORTS.apiserverAdmin),
        // Behind the load balancer: the replica's own address, no host ports (the load balancer has them).
        HostConfig: spec.ha ? hostConfig(spec) : hostConfig(spec, { PortBindings: apiPortBindings(spec) }),
        NetworkingConfig: endpoint(spec, spec.ha ? apiserverReplicaIp(spec, replica) : plan.apiserver),
      };
    case 'lb':
      return {
        ...base,
        Image: spec.lbImage,
        Cmd: componentArgs(spec, 'lb'),
        Env: [`KUBELAB_HAPROXY_CFG=${haproxyConfig(spec)}`],
        ExposedPorts: { [`${PORTS.rest}/tcp`]: {}, [`${PORTS.grpc}/tcp`]: {} },
        Healthcheck: {
          Test: ['CMD', 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${PORTS.grpc}`],
          Interval: HEALTHCHECK_INTERVAL_MS * NS,
          Timeout: 2_000 * NS,
          Retries: 2,
          StartPeriod: 10_000 * NS,
        },
        HostConfig: hostConfig(spec, { PortBindings: apiPortBindings(spec) }),
        NetworkingConfig: endpoint(spec, plan.apiserver),
      };
    case 'scheduler':
    case 'controller-manager':
      return {
        ...base,
        Image: spec.image,
        Cmd: componentArgs(spec, component),
        Healthcheck: httpHealthcheck(component === 'scheduler' ? PORTS.scheduler : PORTS.controllerManager),
        HostConfig: hostConfig(spec, component === 'controller-manager' && watchesDocker(spec) ? { Binds: ['/var/run/docker.sock:/var/run/docker.sock'] } : {}),
        NetworkingConfig: endpoint(spec),
      };
    case 'dns':
      return {
        ...base,
        Image: spec.image,
        Cmd: componentArgs(spec, 'dns'),
        Healthcheck: httpHealthcheck(PORTS.dnsAdmin),
        HostConfig: hostConfig(spec),
        NetworkingConfig: endpoint(spec, plan.dns),
      };
    case 'ingress': {
      return {
        ...base,
        Image: spec.ingressImage,
        Cmd: componentArgs(spec, 'ingress'),
        ExposedPorts: { [`${PORTS.ingressHttp}/tcp`]: {}, [`${PORTS.ingressHttps}/tcp`]: {} },
        Healthcheck: httpHealthcheck(PORTS.ingressAdmin),
        HostConfig: hostConfig(spec, {
          PortBindings: {
            [`${PORTS.ingressHttp}/tcp`]: loopback(spec.ingressHostPorts.http, spec),
            [`${PORTS.ingressHttps}/tcp`]: loopback(spec.ingressHostPorts.https, spec),
          },
        }),
        NetworkingConfig: endpoint(spec, plan.ingress),
      };
    }
    case 'dashboard':
      return {
        ...base,
        Image: spec.image,
        Cmd: componentArgs(spec, 'dashboard'),
        ExposedPorts: { [`${PORTS.dashboard}/tcp`]: {} },
        Healthcheck: httpHealthcheck(PORTS.dashboard),
        HostConfig: hostConfig(spec, {
          PortBindings: { [`${PORTS.dashboard}/tcp`]: loopback(spec.hostPorts.dashboard, spec) },
          // Node faults from its buttons are Docker operations, as `kubelab node crash` does them.
          Binds: ['/var/run/docker.sock:/var/run/docker.sock'],
        }),
        NetworkingConfig: endpoint(spec),
      };
  }
}

/**
 * A worker: kubelet + kube-proxy in one container. It drives the host's Docker (pods are its
 * siblings on the cluster network) and programs iptables in its own network namespace only.
 */
export function workerContainer(spec: LabSpec, node: string, ip: string): Docker.ContainerCreateOptions {
  const name = containerName(spec, node);
  return {
    name,
    Hostname: node,
    Image: spec.image,
    Cmd: componentArgs(spec, 'node', node, ip),
    Labels: labels(spec, 'node', { [WORKER_LABEL]: node }),
    Healthcheck: httpHealthcheck(PORTS.kubeletAdmin),
    HostConfig: hostConfig(spec, {
      CapAdd: ['NET_ADMIN', 'NET_RAW'],
      // hostIPC pods join this container's IPC namespace.
      IpcMode: 'shareable',
      Sysctls: {
        'net.ipv4.ip_forward': '1',
        'net.ipv4.conf.all.send_redirects': '0',
        'net.ipv4.conf.default.send_redirects': '0',
      },
      Binds: ['/var/run/docker.sock:/var/run/docker.sock'],
    }),
    NetworkingConfig: endpoint(spec, ip),
  };
}

/** Labels of the cluster's network: enough for `kubelab node` to rebuild the LabSpec from Docker. */
export function networkLabels(spec: LabSpec): Record<string, string> {
  return { [CLUSTER_LABEL]: spec.cluster, [PREFIX_LABEL]: spec.prefix, [TIMING_LABEL]: spec.timing, ...(spec.owner ? { [OWNER_LABEL]: spec.owner } : {}) };
}

/**
 * Kubeconfig for kubectl, one context named after the cluster: with `tls` the cluster CA (kubectl verifies
 * the server) and the admin's client certificate inline, so kubectl needs no flag; without, plain HTTP.
 */
export function kubeconfigYaml(cluster: string, restUrl: string, tls?: { ca: Buffer; cert: Buffer; key: Buffer }): string {
  const b64 = (b: Buffer): string => b.toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${cluster}`,
    '  cluster:',
    `    server: ${restUrl}`,
    // The lab serves plain HTTP; @kubernetes/client-node ≥ 1.0 refuses an http:// server unless this is set
    // (kubectl ignores it for http).
    ...(restUrl.startsWith('http://') ? ['    insecure-skip-tls-verify: true'] : []),
    ...(tls ? [`    certificate-authority-data: ${b64(tls.ca)}`] : []),
    'users:',
    `- name: ${cluster}`,
    ...(tls ? ['  user:', `    client-certificate-data: ${b64(tls.cert)}`, `    client-key-data: ${b64(tls.key)}`] : ['  user: {}']),
    'contexts:',
    `- name: ${cluster}`,
    '  context:',
    `    cluster: ${cluster}`,
    `    user: ${cluster}`,
    '    namespace: default',
    `current-context: ${cluster}`,
    'preferences: {}',
    '',
  ].join('\n');
}
