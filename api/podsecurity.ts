/**
 * Pod Security Standards as the pod-security-admission library checks them
 * (staging/src/k8s.io/pod-security-admission/policy/check_*.go), for the `latest` version: pure
 * functions from a pod spec (and metadata) to the failed checks, each with Kubernetes' reason and detail,
 * so a refusal reads as kube-apiserver's: `violates PodSecurity "baseline:latest": privileged (container
 * "c" must not set securityContext.privileged=true)`.
 */
export type Level = 'privileged' | 'baseline' | 'restricted';
export const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];

export interface CheckFailure {
  readonly reason: string;
  readonly detail: string;
}

interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  procMount?: string;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
  seLinuxOptions?: { type?: string; user?: string; role?: string; level?: string };
  appArmorProfile?: { type?: string };
  windowsOptions?: { hostProcess?: boolean };
  sysctls?: { name?: string }[];
}
interface Container {
  name?: string;
  ports?: { hostPort?: number }[];
  securityContext?: SecurityContext;
}
export interface PodSpecLike {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext;
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: ({ name?: string } & Record<string, unknown>)[];
  os?: { name?: string };
}
export interface PodMetaLike {
  annotations?: Record<string, string>;
}

const pluralize = (one: string, many: string, n: number): string => (n === 1 ? one : many);
const joinQuote = (l: readonly string[]): string => l.map((s) => JSON.stringify(s)).join(', ');

function allContainers(spec: PodSpecLike): Container[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}

const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const RESTRICTED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
]);

type Check = (spec: PodSpecLike, meta: PodMetaLike) => CheckFailure | undefined;

const allowPrivilegeEscalation: Check = (spec) => {
  const bad = allContainers(spec)
    .filter((c) => c.securityContext?.allowPrivilegeEscalation !== false)
    .map((c) => c.name ?? '');
  if (!bad.length) return undefined;
  return { reason: 'allowPrivilegeEscalation != false', detail: `${pluralize('container', 'containers', bad.length)} ${joinQuote(bad)} must set securityContext.allowPrivilegeEscalation=false` };
};

const appArmorProfile: Check = (spec, meta) => {
  const bad: string[] = [];
  const okType = (t: string | undefined): boolean => t === undefined || t === 'RuntimeDefault' || t === 'Localhost';
  if (!okType(spec.securityContext?.appArmorProfile?.type)) bad.push(`pod must not set securityContext.appArmorProfile.type to ${JSON.stringify(spec.securityContext?.appArmorProfile?.type)}`);
  for (const c of allContainers(spec))
    if (!okType(c.securityContext?.appArmorProfile?.type))
      bad.push(`container ${JSON.stringify(c.name ?? '')} must not set securityContext.appArmorProfile.type to ${JSON.stringify(c.securityContext?.appArmorProfile?.type)}`);
  const badAnnotations: string[] = [];
  for (const [k, v] of Object.entries(meta.annotations ?? {}))
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && v !== 'runtime/default' && !v.startsWith('localhost/')) badAnnotations.push(`${k}="${v}"`);
  if (badAnnotations.length) bad.unshift(`${pluralize('annotation', 'annotations', badAnnotations.length)} ${badAnnotations.sort().join(', ')}`);
  if (!bad.length) return undefined;
  return { reason: 'forbidden AppArmor profile', detail: bad.join('; ') };
};

const capabilitiesBaseline: Check = (spec) => {
  const bad: string[] = [];
  const caps = new Set<string>();
  for (const c of allContainers(spec)) {
    const extra = (c.securityContext?.capabilities?.add ?? []).filter((cap) => !BASELINE_CAPABILITIES.has(cap));
    if (extra.length) {
      bad.push(c.name ?? '');
      for (const cap of extra) caps.add(cap);
    }
  }
  if (!bad.length) return undefined;
  return {
    reason: 'non-default capabilities',
    detail: `${pluralize('container', 'containers', bad.length)} ${joinQuote(bad)} must not include ${joinQuote([...caps].sort())} in securityContext.capabilities.add`,
  };
};

const capabilitiesRestricted: Check = (spec) => {
  const noDrop: string[] = [];
  const badAdd: string[] = [];
  const caps = new Set<string>();
  for (const c of allContainers(spec)) {
    if (!(c.securityContext?.capabilities?.drop ?? []).includes('ALL')) noDrop.push(c.name ?? '');
    const extra = (c.securityContext?.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (extra.length) {
      badAdd.push(c.name ?? '');
      for (const cap of extra) caps.add(cap);
    }
  }
  const parts: string[] = [];
  if (noDrop.length) parts.push(`${pluralize('container', 'containers', noDrop.length)} ${joinQuote(noDrop)} must set securityContext.capabilities.drop=["ALL"]`);
  if (badAdd.length) parts.push(`${pluralize('container', 'containers', badAdd.length)} ${joinQuote(badAdd)} must not include ${joinQuote([...caps].sort())} in securityContext.capabilities.add`);
  if (!parts.length) return undefined;
  return { reason: 'unrestricted capabilities', detail: parts.join('; ') };
};

const hostNamespaces: Check = (spec) => {
  const bad: string[] = [];
  if (spec.hostNetwork) bad.push('hostNetwork=true');
  if (spec.hostPID) bad.push('hostPID=true');
  if (spec.hostIPC) bad.push('hostIPC=true');
  if (!bad.length) return undefined;
  return { reason: 'host namespaces', detail: bad.join(', ') };
};

const hostPathVolumes: Check = (spec) => {
  const bad = (spec.volumes ?? []).filter((v) => v.hostPath !== undefined && v.hostPath !== null).map((v) => v.name ?? '');
  if (!bad.length) return undefined;
  return { reason: 'hostPath volumes', detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)}` };
};

const hostPorts: Check = (spec) => {
  const bad: string[] = [];
  const ports: string[] = [];
  for (const c of allContainers(spec)) {
    const hp = (c.ports ?? []).map((p) => p.hostPort ?? 0).filter((p) => p !== 0);
    if (hp.length) {
      bad.push(c.name ?? '');
      for (const p of hp) if (!ports.includes(String(p))) ports.push(String(p));
    }
  }
  if (!bad.length) return undefined;
  return { reason: 'hostPort', detail: `${pluralize('container', 'containers', bad.length)} ${joinQuote(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', ports.length)} ${ports.join(', ')}` };
};

const hostProcess: Check = (spec) => {
  const bad = allContainers(spec)
    .filter((c) => c.securityContext?.windowsOptions?.hostProcess === true)
    .map((c) => c.name ?? '');
  if (!bad.length && spec.securityContext?.windowsOptions?.hostProcess !== true) return undefined;
  const parts: string[] = [];
  if (spec.securityContext?.windowsOptions?.hostProcess === true) parts.push('pod must not set securityContext.windowsOptions.hostProcess=true');
  if (bad.length) parts.push(`${pluralize('container', 'containers', bad.length)} ${joinQuote(bad)} must not set securityContext.windowsOptions.hostProcess=true`);
  return { reason: 'hostProcess', detail: parts.join('; ') };
};

const privileged: Check = (spec) => {
  const bad = allContainers(spec)
    .filter((c) => c.securityContext?.privileged === true)
    .map((c) => c.name ?? '');
  if (!bad.length) return undefined;
  return { reason: 'privileged', detail: `${pluralize('container', 'containers', bad.length)} ${joinQuote(bad)} must not set securityContext.privileged=true` };
};

const procMount: Check = (spec) => {
  const bad = allContainers(spec).filter((c) => c.securityContext?.procMount !== undefined && c.securityContext.procMount !== 'Default');
  if (!bad.length) return undefined;
  const mounts = [...new Set(bad.map((c) => c.securityContext?.procMount ?? ''))];
  return {
    reason: 'procMount',
    detail: `${pluralize('container', 'containers', bad.length)} ${joinQuote(bad.map((c) => c.name ?? ''))} must not set securityContext.procMount to ${joinQuote(mounts)}`,
  };
};

const restrictedVolumes: Check = (spec) => {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== 'name' && v[k] !== undefined && v[k] !== null);
    if (type && !RESTRICTED_VOLUME_TYPES.has(type)) {
      bad.push(v.name ?? '');
      types.add(type);
    }
  }
  if (!bad.length) return undefined;
  return {
    reason: 'restricted volume types',
    detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('restricted volume type', 'restricted volume types', types.size)} ${joinQuote([...types].sort())}`,
  };
};

const runAsNonRoot: Check = (spec) => {
  const podSet = spec.securityContext?.runAsNonRoot;
  const parts: string[] = [];
  if (podSet === false) parts.push('pod must not set securityContext.runAsNonRoot=false');
  const explicitFalse: string[] = [];
  const implicit: string[] = [];
  for (const c of allContainers(spec)) {
    const v = c.securityContext?.runAsNonRoot;
    if (v === false) explicitFalse.push(c.name ?? '');
    else if (v === undefined && podSet !== true) implicit.push(c.name ?? '');
  }
  if (explicitFalse.length) parts.push(`${pluralize('container', 'containers', explicitFalse.length)} ${joinQuote(explicitFalse)} must not set securityContext.runAsNonRoot=false`);
  if (implicit.length && podSet !== false) parts.push(`pod or ${pluralize('container', 'containers', implicit.length)} ${joinQuote(implicit)} must set securityContext.runAsNonRoot=true`);
  if (!parts.length) return undefined;
  return { reason: 'runAsNonRoot != true', detail: parts.join('; ') };
};

const runAsUser: Check = (spec) => {
  const parts: string[] = [];
  if (spec.securityContext?.runAsUser === 0) parts.push('pod must not set runAsUser=0');
  const bad = allContainers(spec)
    .filter((c) => c.securityContext?.runAsUser === 0)
    .map((c) => c.name ?? '');
  if (bad.length) parts.push(`${pluralize('container', 'containers', bad.length)} ${joinQuote(bad)} must not set runAsUser=0`);
  if (!parts.length) return undefined;
  return { reason: 'runAsUser=0', detail: parts.join('; ') };
};

const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const seLinuxOptions: Check = (spec) => {
  const bad = (o: SecurityContext['seLinuxOptions']): string[] => {
    const out: string[] = [];
    if (!o) return out;
    if (!SELINUX_TYPES.has(o.type ?? '')) out.push(`type=${JSON.stringify(o.type)}`);
    if (o.user) out.push(`user=${JSON.stringify(o.user)}`);
    if (o.role) out.push(`role=${JSON.stringify(o.role)}`);
    return out;
  };
  const parts: string[] = [];
  const p = bad(spec.securityContext?.seLinuxOptions);
  if (p.length) parts.push(`pod set forbidden securityContext.seLinuxOptions: ${p.join(', ')}`);
  for (const c of allContainers(spec)) {
    const b = bad(c.securityContext?.seLinuxOptions);
    if (b.length) parts.push(`container ${JSON.stringify(c.name ?? '')} set forbidden securityContext.seLinuxOptions: ${b.join(', ')}`);
  }
  if (!parts.length) return undefined;
  return { reason: 'seLinuxOptions', detail: parts.join('; ') };
};

const seccompBaseline: Check = (spec) => {
  const parts: string[] = [];
  if (spec.securityContext?.seccompProfile?.type === 'Unconfined') parts.push('pod must not set securityContext.seccompProfile.type to "Unconfined"');
  const bad = allContainers(spec)
    .filter((c) => c.securityContext?.seccompProfile?.type === 'Unconfined')
    .map((c) => c.name ?? '');
  if (bad.length) parts.push(`${pluralize('container', 'containers', bad.length)} ${joinQuote(bad)} must not set securityContext.seccompProfile.type to "Unconfined"`);
  if (!parts.length) return undefined;
  return { reason: 'seccompProfile', detail: parts.join('; ') };
};

const seccompRestricted: Check = (spec) => {
  const ok = (t: string | undefined): boolean => t === 'RuntimeDefault' || t === 'Localhost';
  const podType = spec.securityContext?.seccompProfile?.type;
  const parts: string[] = [];
  if (podType !== undefined && !ok(podType)) parts.push(`pod must not set securityContext.seccompProfile.type to ${JSON.stringify(podType)}`);
  const explicitBad: string[] = [];
  const unset: string[] = [];
  for (const c of allContainers(spec)) {
    const t = c.securityContext?.seccompProfile?.type;
    if (t !== undefined && !ok(t)) explicitBad.push(c.name ?? '');
    else if (t === undefined && !ok(podType)) unset.push(c.name ?? '');
  }
  if (explicitBad.length) parts.push(`${pluralize('container', 'containers', explicitBad.length)} ${joinQuote(explicitBad)} must not set securityContext.seccompProfile.type to "Unconfined"`);
  if (unset.length && podType === undefined) parts.push(`pod or ${pluralize('container', 'containers', unset.length)} ${joinQuote(unset)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`);
  if (!parts.length) return undefined;
  return { reason: 'seccompProfile', detail: parts.join('; ') };
};

const sysctls: Check = (spec) => {
  const bad = (spec.securityContext?.sysctls ?? []).map((s) => s.name ?? '').filter((n) => !SAFE_SYSCTLS.has(n));
  if (!bad.length) return undefined;
  return { reason: 'forbidden sysctls', detail: bad.join(', ') };
};

/** The checks of each level, in Kubernetes' order (by check ID); restricted replaces three baseline checks with stricter ones. */
const BASELINE: Check[] = [appArmorProfile, capabilitiesBaseline, hostNamespaces, hostPathVolumes, hostPorts, hostProcess, privileged, procMount, seLinuxOptions, seccompBaseline, sysctls];
const RESTRICTED: Check[] = [
  allowPrivilegeEscalation,
  appArmorProfile,
  capabilitiesRestricted,
  hostNamespaces,
  hostPorts,
  hostProcess,
  privileged,
  procMount,
  restrictedVolumes,
  runAsNonRoot,
  runAsUser,
  seLinuxOptions,
  seccompRestricted,
  sysctls,
];

/** The checks `spec` fails at `level` (none at privileged). */
export function evaluatePod(level: Level, spec: PodSpecLike, meta: PodMetaLike = {}): CheckFailure[] {
  if (level === 'privileged') return [];
  const checks = level === 'baseline' ? BASELINE : RESTRICTED;
  // Windows pods are exempt from the Linux-only restricted checks; kubelab runs Linux only.
  const out: CheckFailure[] = [];
  for (const c of checks) {
    const f = c(spec, meta);
    if (f) out.push(f);
  }
  return out;
}

/** `reason (detail), reason (detail)` as the admission message lists failures. */
export function formatFailures(f: readonly CheckFailure[]): string {
  return f.map((x) => (x.detail ? `${x.reason} (${x.detail})` : x.reason)).join(', ');
}

export const LABEL_PREFIX = 'pod-security.kubernetes.io/';

export interface NamespacePolicy {
  enforce: { level: Level; version: string };
  warn: { level: Level; version: string };
  audit: { level: Level; version: string };
}

/** Reads the namespace labels; a missing mode falls back to `defaults` (the cluster default, baseline for enforce). Invalid values count as the default, as Kubernetes evaluates them as "restricted" only for enforce errors — see policyErrors. */
export function namespacePolicy(labels: Record<string, string> | undefined, defaults: Level = 'baseline'): NamespacePolicy {
  const mode = (m: 'enforce' | 'warn' | 'audit', fallback: Level): { level: Level; version: string } => {
    const v = labels?.[`${LABEL_PREFIX}${m}`];
    const level = v === undefined ? fallback : (LEVELS as readonly string[]).includes(v) ? (v as Level) : 'restricted';
    return { level, version: labels?.[`${LABEL_PREFIX}${m}-version`] ?? 'latest' };
  };
  const enforce = mode('enforce', defaults);
  return { enforce, warn: mode('warn', defaults), audit: mode('audit', defaults) };
}

/** Validation errors of a namespace's pod-security labels (Kubernetes refuses such a namespace). */
export function policyLabelErrors(labels: Record<string, string> | undefined): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  for (const m of ['enforce', 'warn', 'audit']) {
    const key = `${LABEL_PREFIX}${m}`;
    const v = labels?.[key];
    if (v !== undefined && !(LEVELS as readonly string[]).includes(v))
      out.push({ field: `metadata.labels[${key}]`, message: `Invalid value: ${JSON.stringify(v)}: must be one of privileged, baseline, restricted` });
    const vk = `${key}-version`;
    const ver = labels?.[vk];
    if (ver !== undefined && ver !== 'latest' && !/^v1\.(0|[1-9]\d*)$/.test(ver))
      out.push({ field: `metadata.labels[${vk}]`, message: `Invalid value: ${JSON.stringify(ver)}: must be "latest" or "v1.x"` });
  }
  return out;
}
