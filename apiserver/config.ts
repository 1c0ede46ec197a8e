/** apiserver options (flags/env) → validated config with every default filled; durations in ms. */
import { readPem } from '../component-base/tls.js';
import { ADMISSION_PLUGINS, type AdmissionPluginName } from './auth/admission.js';
import { parseAuthorizationModes } from './auth/authorizer.js';
import type { SecurityConfig } from './auth/index.js';
import { LEVELS, type Level } from '../api/podsecurity.js';
import { TIMING, isTimingPreset } from '../component-base/timing.js';

export interface ApiserverOptions {
  etcdServers?: string;
  etcdPrefix?: string;
  grpcPort?: number;
  httpPort?: number;
  adminPort?: number;
  bindAddress?: string;
  serviceClusterIpRange?: string;
  serviceNodePortRange?: string;
  /** Timing preset (component-base/timing.ts): gives defaultTolerationSeconds unless that is set. */
  timing?: string;
  defaultTolerationSeconds?: number;
  compactionIntervalMs?: number;
  /** --event-ttl: how long an Event is kept (an etcd lease on its key, as kube-apiserver); default 1h. */
  eventTtlMs?: number;
  watchWindowSize?: number;
  bookmarkIntervalMs?: number;
  /**
   * --max-mutating-requests-inflight: clients' writes at once before they queue (0: no limit); default 50, where
   * kube-apiserver's is 200 for a many-core server: kubelab's apiserver is one Node.js thread (flowcontrol.ts).
   */
  maxMutatingRequestsInflight?: number;
  advertiseAddress?: string;
  /** How often the apiserver re-checks its `default/kubernetes` Service and Endpoints (besides watch events). */
  kubernetesServiceSyncMs?: number;
  /** Serving certificate and key of REST and gRPC (kube-apiserver's --tls-cert-file / --tls-private-key-file). */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** CA whose client certificates authenticate users (CN = user, O = groups). */
  clientCaFile?: string;
  /** Client TLS toward etcd (--etcd-cafile / --etcd-certfile / --etcd-keyfile). */
  etcdCaFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
  /** Client certificate the apiserver presents to kubelets, and the CA it verifies their serving certificates with. */
  kubeletClientCertificate?: string;
  kubeletClientKey?: string;
  kubeletCertificateAuthority?: string;
  /** Serve plain HTTP/gRPC with no authentication, every request acting as the lab admin: a throwaway test apiserver only. */
  insecure?: boolean;
  /** --authorization-mode: comma list of AlwaysAllow, AlwaysDeny, Node, RBAC (default Node,RBAC, as kubeadm). */
  authorizationMode?: string;
  /**
   * --anonymous-user: who a request without credentials is when the apiserver serves plain HTTP/gRPC —
   * `anonymous` (system:anonymous, Kubernetes) or `admin`; default `admin` with --insecure only, where
   * there is no authentication to speak of. With TLS no credentials is always system:anonymous.
   */
  anonymousUser?: string;
  /** --token-auth-file: CSV token,user,uid,"groups" (kube-apiserver's static token file). */
  tokenAuthFile?: string;
  /** --service-account-key-file: PKCS#8 PEM private key that signs ServiceAccount tokens (generated in memory when absent). */
  serviceAccountKeyFile?: string;
  /** --service-account-issuer. */
  serviceAccountIssuer?: string;
  /** --api-audiences: comma list; default the issuer. */
  apiAudiences?: string;
  /** --enable-admission-plugins: plugins on besides the defaults (every plugin is on by default). */
  enableAdmissionPlugins?: string;
  /** --disable-admission-plugins: default plugins turned off (ServiceAccount; NodeRestriction and PodSecurity always run). */
  disableAdmissionPlugins?: string;
  /** --pod-security-defaults: `enforce=baseline,warn=restricted,audit=restricted` (PodSecurityConfiguration defaults). */
  podSecurityDefaults?: string;
  /** --root-ca-file: the cluster CA published as the kube-root-ca.crt ConfigMap. */
  rootCaFile?: string;
  /** --encryption-provider-config: an EncryptionConfiguration file (aescbc/aesgcm/identity providers for secrets). */
  encryptionProviderConfig?: string;
  /** --audit-log-path: JSON lines of audit events (with --audit-policy-file). */
  auditLogPath?: string;
  /** --audit-policy-file: an audit.k8s.io/v1 Policy. */
  auditPolicyFile?: string;
  /** --audit-log-maxsize: megabytes before the log is rotated to `<path>.1` (0: never). */
  auditLogMaxSize?: number;
  /** --audit-log-maxbackup: rotated files kept (0: all). */
  auditLogMaxBackup?: number;
}

/** The apiserver's TLS: serving, client authentication, and toward etcd and kubelets. Absent: --insecure. */
export interface ApiserverTls {
  cert: Buffer;
  key: Buffer;
  clientCa: Buffer;
  etcd?: { ca: Buffer; cert: Buffer; key: Buffer };
  kubelet?: { ca: Buffer; cert: Buffer; key: Buffer };
}

export interface ApiserverConfig {
  etcdServers: string[];
  etcdPrefix: string;
  grpcPort: number;
  httpPort: number;
  adminPort: number;
  bindAddress: string;
  serviceCidr: string;
  nodePortRange: [number, number];
  defaultTolerationSeconds: number;
  compactionIntervalMs: number;
  eventTtlMs: number;
  watchWindowSize: number;
  bookmarkIntervalMs: number;
  maxMutatingInflight: number;
  advertiseAddress: string;
  kubernetesServiceSyncMs: number;
  /** undefined only with --insecure. */
  tls?: ApiserverTls;
  security: SecurityConfig;
  encryptionProviderConfig?: string;
  audit?: { logPath: string; policyFile: string; maxSizeBytes: number; maxBackups: number };
}

/** Thrown for an invalid option; the message names the flag. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Seats for clients' mutating requests by default. kube-apiserver's 200 assume a server with many cores; one
 * Node.js thread is saturated well before, and seats past that only lengthen every write: at 1000 nodes and 30,000
 * pods created, 200 seats gave the API's mutating calls a p99 of 1.1–1.9 s, 50 seats 0.65–1.03 s (the SLO: 1 s)
 * with no fewer pods started a second (docs/benchmarks.md).
 */
export const DEFAULT_MAX_MUTATING_INFLIGHT = 50;

export function compileApiserverConfig(o: ApiserverOptions): ApiserverConfig {
  const etcdServers = (o.etcdServers ?? 'http://127.0.0.1:2379').split(',').map((s) => s.trim()).filter(Boolean);
  if (etcdServers.length === 0) throw new ConfigError('--etcd-servers: at least one etcd endpoint is required');
  const range = o.serviceNodePortRange ?? '30000-32767';
  const m = range.match(/^(\d+)-(\d+)$/);
  if (!m || Number(m[1]) >= Number(m[2])) throw new ConfigError(`--service-node-port-range: "${range}" is not a port range like 30000-32767`);
  const cidr = o.serviceClusterIpRange ?? '10.96.0.0/16';
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(cidr)) throw new ConfigError(`--service-cluster-ip-range: "${cidr}" is not an IPv4 CIDR`);
  const timing = o.timing ?? 'default';
  const maxMutating = o.maxMutatingRequestsInflight ?? DEFAULT_MAX_MUTATING_INFLIGHT;
  if (!Number.isInteger(maxMutating) || maxMutating < 0) throw new ConfigError(`--max-mutating-requests-inflight: ${maxMutating} must be a whole number, 0 or more (0: no limit)`);
  if (!isTimingPreset(timing)) throw new ConfigError(`--timing: "${timing}" is not a preset (lab, default)`);
  const kubernetesServiceSyncMs = o.kubernetesServiceSyncMs ?? 10_000;
  if (!(kubernetesServiceSyncMs > 0)) throw new ConfigError(`kubernetesServiceSyncMs: ${kubernetesServiceSyncMs} must be a positive number of milliseconds`);
  const tls = compileTls(o);
  if (!tls && !o.insecure)
    throw new ConfigError('--tls-cert-file, --tls-private-key-file and --client-ca-file are required (the cluster PKI: see docs/security.md); pass --insecure only for a throwaway test apiserver');
  if (tls && o.insecure) throw new ConfigError('--insecure cannot be combined with --tls-cert-file: choose one');
  const security = compileSecurityConfig(o);
  return {
    tls,
    security,
    ...(o.encryptionProviderConfig ? { encryptionProviderConfig: o.encryptionProviderConfig } : {}),
    ...audit(o),
    etcdServers,
    etcdPrefix: o.etcdPrefix ?? '/registry',
    grpcPort: o.grpcPort ?? 7443,
    httpPort: o.httpPort ?? 6443,
    adminPort: o.adminPort ?? 10260,
    bindAddress: o.bindAddress ?? '0.0.0.0',
    serviceCidr: cidr,
    nodePortRange: [Number(m[1]), Number(m[2])],
    defaultTolerationSeconds: o.defaultTolerationSeconds ?? TIMING[timing].apiserver.defaultTolerationSeconds,
    compactionIntervalMs: o.compactionIntervalMs ?? 5 * 60_000,
    eventTtlMs: eventTtl(o.eventTtlMs),
    watchWindowSize: o.watchWindowSize ?? 10_000,
    bookmarkIntervalMs: o.bookmarkIntervalMs ?? 5_000,
    maxMutatingInflight: maxMutating,
    advertiseAddress: o.advertiseAddress ?? '127.0.0.1',
    // kube-apiserver's endpoint reconciler interval.
    kubernetesServiceSyncMs,
  };
}

function compileTls(o: ApiserverOptions): ApiserverTls | undefined {
  const serving = [o.tlsCertFile, o.tlsPrivateKeyFile, o.clientCaFile];
  if (serving.every((f) => !f)) {
    if (o.etcdCaFile || o.kubeletClientCertificate) throw new ConfigError('--etcd-cafile/--kubelet-client-certificate need --tls-cert-file, --tls-private-key-file and --client-ca-file too');
    return undefined;
  }
  if (!o.tlsCertFile || !o.tlsPrivateKeyFile || !o.clientCaFile) throw new ConfigError('--tls-cert-file, --tls-private-key-file and --client-ca-file go together: give all three');
  const trio = (names: [string, string, string], files: (string | undefined)[]): { ca: Buffer; cert: Buffer; key: Buffer } | undefined => {
    if (files.every((f) => !f)) return undefined;
    if (files.some((f) => !f)) throw new ConfigError(`${names.join(', ')} go together: give all three`);
    return {
      ca: readPem(names[0], files[0] as string, 'CERTIFICATE'),
      cert: readPem(names[1], files[1] as string, 'CERTIFICATE'),
      key: readPem(names[2], files[2] as string, 'PRIVATE KEY'),
    };
  };
  return {
    cert: readPem('--tls-cert-file', o.tlsCertFile, 'CERTIFICATE'),
    key: readPem('--tls-private-key-file', o.tlsPrivateKeyFile, 'PRIVATE KEY'),
    clientCa: readPem('--client-ca-file', o.clientCaFile, 'CERTIFICATE'),
    etcd: trio(['--etcd-cafile', '--etcd-certfile', '--etcd-keyfile'], [o.etcdCaFile, o.etcdCertFile, o.etcdKeyFile]),
    kubelet: trio(['--kubelet-certificate-authority', '--kubelet-client-certificate', '--kubelet-client-key'], [o.kubeletCertificateAuthority, o.kubeletClientCertificate, o.kubeletClientKey]),
  };
}
/** The admission plugins on unless --disable-admission-plugins names them (kube-apiserver's default set, of those kubelab has). */
export const DEFAULT_ADMISSION_PLUGINS: readonly AdmissionPluginName[] = ['ServiceAccount', 'NodeRestriction', 'PodSecurity'];
/** Plugins that cannot be turned off: PodSecurity is relaxed with --pod-security-defaults and namespace labels instead. */
const REQUIRED_ADMISSION_PLUGINS: readonly AdmissionPluginName[] = ['NodeRestriction', 'PodSecurity'];

function pluginList(flag: string, value: string | undefined): AdmissionPluginName[] {
  const plugins = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of plugins) if (!(ADMISSION_PLUGINS as readonly string[]).includes(p)) throw new ConfigError(`${flag}: "${p}" is not one of ${ADMISSION_PLUGINS.join(', ')}`);
  return plugins as AdmissionPluginName[];
}

function compileSecurityConfig(o: ApiserverOptions): SecurityConfig {
  // Secure by default, as kubeadm's kube-apiserver: Node,RBAC; a plain --insecure apiserver treats no credentials as the admin.
  const modes = parseAuthorizationModes(o.authorizationMode ?? 'Node,RBAC');
  if (typeof modes === 'string') throw new ConfigError(`--authorization-mode: ${modes}`);
  const anonymous = o.anonymousUser ?? (o.insecure ? 'admin' : 'anonymous');
  if (anonymous !== 'admin' && anonymous !== 'anonymous') throw new ConfigError(`--anonymous-user: "${anonymous}" is not one of admin, anonymous`);
  const enabled = pluginList('--enable-admission-plugins', o.enableAdmissionPlugins);
  const disabled = pluginList('--disable-admission-plugins', o.disableAdmissionPlugins);
  const required = disabled.find((p) => REQUIRED_ADMISSION_PLUGINS.includes(p));
  if (required) throw new ConfigError(`--disable-admission-plugins: ${required} cannot be turned off${required === 'PodSecurity' ? ' (relax it with --pod-security-defaults enforce=privileged or namespace labels)' : ''}`);
  const both = enabled.find((p) => disabled.includes(p));
  if (both) throw new ConfigError(`--enable-admission-plugins and --disable-admission-plugins both name ${both}`);
  const plugins = [...new Set([...DEFAULT_ADMISSION_PLUGINS, ...enabled])].filter((p) => !disabled.includes(p));
  // Kubernetes' levels; the cluster default for namespaces without labels is baseline (kubelab's choice:
  // upstream's built-in default is privileged, most distributions configure baseline or restricted).
  const defaults: SecurityConfig['podSecurityDefaults'] = { enforce: 'baseline', warn: 'privileged', audit: 'privileged' };
  for (const part of (o.podSecurityDefaults ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [mode, level] = part.split('=');
    if (!['enforce', 'warn', 'audit'].includes(mode) || !(LEVELS as readonly string[]).includes(level ?? ''))
      throw new ConfigError(`--pod-security-defaults: "${part}" is not <enforce|warn|audit>=<privileged|baseline|restricted>`);
    defaults[mode as 'enforce' | 'warn' | 'audit'] = level as Level;
  }
  const issuer = o.serviceAccountIssuer ?? 'https://kubernetes.default.svc.cluster.local';
  const audiences = (o.apiAudiences ?? issuer).split(',').map((s) => s.trim()).filter(Boolean);
  return {
    authorizationModes: modes,
    anonymousUser: anonymous,
    ...(o.tokenAuthFile ? { tokenAuthFile: o.tokenAuthFile } : {}),
    ...(o.serviceAccountKeyFile ? { serviceAccountKeyFile: o.serviceAccountKeyFile } : {}),
    serviceAccountIssuer: issuer,
    apiAudiences: audiences,
    admissionPlugins: plugins,
    podSecurityDefaults: defaults,
    ...(o.rootCaFile ? { rootCaFile: o.rootCaFile } : {}),
  };
}

/** --event-ttl: whole seconds, at least 1 (an etcd lease's minimum). */
function eventTtl(ms: number | undefined): number {
  if (ms === undefined) return 60 * 60_000;
  if (!(ms >= 1000)) throw new ConfigError(`--event-ttl: ${ms / 1000}s is shorter than an etcd lease can be (at least 1s)`);
  return ms;
}

function audit(o: ApiserverOptions): Pick<ApiserverConfig, 'audit'> {
  if (!o.auditLogPath && !o.auditPolicyFile) return {};
  if (!o.auditLogPath || !o.auditPolicyFile) throw new ConfigError('--audit-log-path and --audit-policy-file: give both, or neither');
  const maxSize = o.auditLogMaxSize ?? 0;
  const maxBackup = o.auditLogMaxBackup ?? 0;
  if (!Number.isInteger(maxSize) || maxSize < 0) throw new ConfigError(`--audit-log-maxsize: must be a whole number of megabytes, 0 or more, got ${maxSize}`);
  if (!Number.isInteger(maxBackup) || maxBackup < 0) throw new ConfigError(`--audit-log-maxbackup: must be a whole number, 0 or more, got ${maxBackup}`);
  return { audit: { logPath: o.auditLogPath, policyFile: o.auditPolicyFile, maxSizeBytes: maxSize * 1024 * 1024, maxBackups: maxBackup } };
}
