/** apiserver options (flags/env) → validated config with every default filled; durations in ms. */
import { ADMISSION_PLUGINS, type AdmissionPluginName } from './auth/admission.js';
import { parseAuthorizationModes } from './auth/authorizer.js';
import type { SecurityConfig } from './auth/index.js';
import { LEVELS, type Level } from '../client/podsecurity.js';
import { TIMING, isTimingPreset } from '../client/timing.js';

export interface ApiserverOptions {
  etcdServers?: string;
  etcdPrefix?: string;
  grpcPort?: number;
  httpPort?: number;
  adminPort?: number;
  bindAddress?: string;
  serviceClusterIpRange?: string;
  serviceNodePortRange?: string;
  /** Timing preset (client/timing.ts): gives defaultTolerationSeconds unless that is set. */
  timing?: string;
  defaultTolerationSeconds?: number;
  compactionIntervalMs?: number;
  watchWindowSize?: number;
  bookmarkIntervalMs?: number;
  advertiseAddress?: string;
  /** How often the apiserver re-checks its `default/kubernetes` Service and Endpoints (besides watch events). */
  kubernetesServiceSyncMs?: number;
  /** --authorization-mode: comma list of AlwaysAllow, AlwaysDeny, Node, RBAC (default AlwaysAllow until TLS lands). */
  authorizationMode?: string;
  /** --anonymous-user: who a request without credentials is — `admin` (today's lab) or `anonymous` (Kubernetes). */
  anonymousUser?: string;
  /** --token-auth-file: CSV token,user,uid,"groups" (kube-apiserver's static token file). */
  tokenAuthFile?: string;
  /** --service-account-key-file: PKCS#8 PEM private key that signs ServiceAccount tokens (generated in memory when absent). */
  serviceAccountKeyFile?: string;
  /** --service-account-issuer. */
  serviceAccountIssuer?: string;
  /** --api-audiences: comma list; default the issuer. */
  apiAudiences?: string;
  /** --enable-admission-plugins: extra plugins (ServiceAccount). */
  enableAdmissionPlugins?: string;
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
  watchWindowSize: number;
  bookmarkIntervalMs: number;
  advertiseAddress: string;
  kubernetesServiceSyncMs: number;
  security: SecurityConfig;
  encryptionProviderConfig?: string;
  audit?: { logPath: string; policyFile: string };
}

/** Thrown for an invalid option; the message names the flag. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function compileApiserverConfig(o: ApiserverOptions): ApiserverConfig {
  const etcdServers = (o.etcdServers ?? 'http://127.0.0.1:2379').split(',').map((s) => s.trim()).filter(Boolean);
  if (etcdServers.length === 0) throw new ConfigError('--etcd-servers: at least one etcd endpoint is required');
  const range = o.serviceNodePortRange ?? '30000-32767';
  const m = range.match(/^(\d+)-(\d+)$/);
  if (!m || Number(m[1]) >= Number(m[2])) throw new ConfigError(`--service-node-port-range: "${range}" is not a port range like 30000-32767`);
  const cidr = o.serviceClusterIpRange ?? '10.96.0.0/16';
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(cidr)) throw new ConfigError(`--service-cluster-ip-range: "${cidr}" is not an IPv4 CIDR`);
  const timing = o.timing ?? 'default';
  if (!isTimingPreset(timing)) throw new ConfigError(`--timing: "${timing}" is not a preset (lab, default)`);
  const kubernetesServiceSyncMs = o.kubernetesServiceSyncMs ?? 10_000;
  if (!(kubernetesServiceSyncMs > 0)) throw new ConfigError(`kubernetesServiceSyncMs: ${kubernetesServiceSyncMs} must be a positive number of milliseconds`);
  const security = compileSecurityConfig(o);
  return {
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
    watchWindowSize: o.watchWindowSize ?? 10_000,
    bookmarkIntervalMs: o.bookmarkIntervalMs ?? 5_000,
    advertiseAddress: o.advertiseAddress ?? '127.0.0.1',
    // kube-apiserver's endpoint reconciler interval.
    kubernetesServiceSyncMs,
  };
}

function compileSecurityConfig(o: ApiserverOptions): SecurityConfig {
  const modes = parseAuthorizationModes(o.authorizationMode ?? 'AlwaysAllow');
  if (typeof modes === 'string') throw new ConfigError(`--authorization-mode: ${modes}`);
  const anonymous = o.anonymousUser ?? 'admin';
  if (anonymous !== 'admin' && anonymous !== 'anonymous') throw new ConfigError(`--anonymous-user: "${anonymous}" is not one of admin, anonymous`);
  const plugins = (o.enableAdmissionPlugins ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of plugins) if (!(ADMISSION_PLUGINS as readonly string[]).includes(p)) throw new ConfigError(`--enable-admission-plugins: "${p}" is not one of ${ADMISSION_PLUGINS.join(', ')}`);
  // Until the lab's own pods run in a namespace labelled privileged, the cluster default stays privileged.
  const defaults: SecurityConfig['podSecurityDefaults'] = { enforce: 'privileged', warn: 'privileged', audit: 'privileged' };
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
    admissionPlugins: plugins as AdmissionPluginName[],
    podSecurityDefaults: defaults,
    ...(o.rootCaFile ? { rootCaFile: o.rootCaFile } : {}),
  };
}

function audit(o: ApiserverOptions): { audit?: { logPath: string; policyFile: string } } {
  if (!o.auditLogPath && !o.auditPolicyFile) return {};
  if (!o.auditLogPath || !o.auditPolicyFile) throw new ConfigError('--audit-log-path and --audit-policy-file: give both, or neither');
  return { audit: { logPath: o.auditLogPath, policyFile: o.auditPolicyFile } };
}
