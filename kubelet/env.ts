/**
 * Container environment: value (with $(VAR) expansion), configMapKeyRef, secretKeyRef, fieldRef,
 * resourceFieldRef and envFrom, resolved the way the kubelet does before it creates a container; plus the
 * Service environment variables (`<NAME>_SERVICE_HOST`, docker-link `<NAME>_PORT_…`) of kubelet's envvars.go.
 */
import type { ApiClient } from '../client/api.js';
import { isNotFound } from '../api/errors.js';
import { cpuMillis, parseQuantity, quantityValue } from '../api/quantity.js';
import type { core } from '../api/types.js';
import { ContainerStartError } from './errors.js';

export interface EnvContext {
  pod: core.Pod;
  podIp?: string;
  hostIp: string;
  nodeCpuMillis: number;
  nodeMemoryBytes: number;
}

/** Reads each ConfigMap/Secret once per fetcher (a container start, or one volume-sync pass of a namespace). */
export class ObjectFetcher {
  private readonly cache = new Map<string, Promise<Record<string, Buffer> | undefined>>();

  constructor(
    private readonly client: ApiClient,
    private readonly namespace: string,
  ) {}

  /** Data of a ConfigMap / Secret (Secret values decoded); undefined when it does not exist. */
  async data(kind: 'configmaps' | 'secrets', name: string): Promise<Record<string, string> | undefined> {
    const b = await this.bytes(kind, name);
    if (!b) return undefined;
    return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v.toString('utf8')]));
  }

  /** Raw bytes per key (binaryData and Secret data decoded). */
  bytes(kind: 'configmaps' | 'secrets', name: string): Promise<Record<string, Buffer> | undefined> {
    const key = `${kind}/${name}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.read(kind, name);
      this.cache.set(key, p);
    }
    return p;
  }

  private async read(kind: 'configmaps' | 'secrets', name: string): Promise<Record<string, Buffer> | undefined> {
    try {
      if (kind === 'secrets') {
        const s = await this.client.get('secrets', name, { namespace: this.namespace });
        const out: Record<string, Buffer> = {};
        for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64');
        for (const [k, v] of Object.entries(s.stringData ?? {})) out[k] = Buffer.from(v);
        return out;
      }
      const cm = await this.client.get('configmaps', name, { namespace: this.namespace });
      const out: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(cm.data ?? {})) out[k] = Buffer.from(v);
      for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
      return out;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

/** Value of a downward-API field path (fieldRef / downwardAPI volumes). */
export function fieldValue(path: string, ctx: EnvContext): string {
  const p = ctx.pod;
  const m = path.match(/^metadata\.(labels|annotations)\['(.+)'\]$/);
  if (m) return (m[1] === 'labels' ? p.metadata?.labels : p.metadata?.annotations)?.[m[2]] ?? '';
  switch (path) {
    case 'metadata.name':
      return p.metadata?.name ?? '';
    case 'metadata.namespace':
      return p.metadata?.namespace ?? '';
    case 'metadata.uid':
      return p.metadata?.uid ?? '';
    case 'metadata.labels':
      return formatMap(p.metadata?.labels);
    case 'metadata.annotations':
      return formatMap(p.metadata?.annotations);
    case 'spec.nodeName':
      return p.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return p.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return ctx.hostIp;
    case 'status.podIP':
    case 'status.podIPs':
      return ctx.podIp ?? '';
    default:
      throw new ContainerStartError('CreateContainerConfigError', `unsupported fieldRef path "${path}"`);
  }
}

/** Value of a resourceFieldRef: limits default to the node's allocatable, as Kubernetes does. */
export function resourceValue(ref: core.ResourceFieldSelector, c: core.Container | undefined, ctx: EnvContext): string {
  const res = ref.resource;
  const divisor = ref.divisor !== undefined ? parseQuantity(ref.divisor) : 1;
  const lim = c?.resources?.limits ?? {};
  const req = c?.resources?.requests ?? {};
  let value: number;
  switch (res) {
    case 'limits.cpu':
      value = (lim.cpu !== undefined ? cpuMillis(lim.cpu) : ctx.nodeCpuMillis) / 1000;
      break;
    case 'requests.cpu':
      value = (req.cpu !== undefined ? cpuMillis(req.cpu) : 0) / 1000;
      break;
    case 'limits.memory':
      value = lim.memory !== undefined ? quantityValue(lim.memory) : ctx.nodeMemoryBytes;
      break;
    case 'requests.memory':
      value = req.memory !== undefined ? quantityValue(req.memory) : 0;
      break;
    default:
      throw new ContainerStartError('CreateContainerConfigError', `unsupported resourceFieldRef resource "${res}"`);
  }
  return String(Math.ceil(value / divisor - 1e-9));
}

/** Expands $(VAR) references against earlier variables; $$ escapes. */
export function expand(s: string, vars: Map<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name: string | undefined) => {
    if (all === '$$') return '$';
    return name !== undefined && vars.has(name) ? (vars.get(name) as string) : all;
  });
}

/** The services whose variables are always set, even with enableServiceLinks false (kubelet's masterServices). */
const MASTER_SERVICES = new Set(['kubernetes']);

/** Service name → the prefix of its variables: upper-cased, `-` → `_` (envvars.go makeEnvVariableName). */
export function envVarName(name: string): string {
  return name.replace(/-/g, '_').toUpperCase();
}

/** True when the Service has a ClusterIP (not headless, not ExternalName). */
function hasClusterIp(s: core.Service): boolean {
  const ip = s.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

/** `host:port`, with brackets around an IPv6 host (Go's net.JoinHostPort). */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The variables of the given Services, in envvars.go FromServices order (services without a ClusterIP are skipped). */
export function fromServices(services: readonly core.Service[]): [string, string][] {
  const out: [string, string][] = [];
  for (const s of services) {
    const ports = s.spec?.ports ?? [];
    if (!hasClusterIp(s) || ports.length === 0) continue;
    const ip = s.spec?.clusterIP ?? '';
    const prefix = envVarName(s.metadata?.name ?? '');
    out.push([`${prefix}_SERVICE_HOST`, ip], [`${prefix}_SERVICE_PORT`, String(ports[0].port)]);
    for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envVarName(p.name)}`, String(p.port)]);
    // Docker-link variables; Docker special-cases the first port.
    ports.forEach((p, i) => {
      const proto = (p.protocol || 'TCP').toLowerCase();
      const url = `${proto}://${joinHostPort(ip, p.port)}`;
      if (i === 0) out.push([`${prefix}_PORT`, url]);
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push([pp, url], [`${pp}_PROTO`, proto], [`${pp}_PORT`, String(p.port)], [`${pp}_ADDR`, ip]);
    });
  }
  return out;
}

/**
 * The Service variables a container of a pod in `namespace` gets (kubelet getServiceEnvVarMap): the
 * `kubernetes` service of `default` always; with enableServiceLinks (default true) every Service of the
 * pod's own namespace too, which wins over the default one of the same name.
 */
export function serviceEnv(namespace: string, enableServiceLinks: boolean, inNamespace: readonly core.Service[], inDefault: readonly core.Service[]): Map<string, string> {
  const chosen = new Map<string, core.Service>();
  for (const s of inDefault) {
    const name = s.metadata?.name ?? '';
    if (hasClusterIp(s) && MASTER_SERVICES.has(name)) chosen.set(name, s);
  }
  if (enableServiceLinks) {
    for (const s of inNamespace) {
      if (s.metadata?.namespace === namespace && hasClusterIp(s)) chosen.set(s.metadata?.name ?? '', s);
    }
  }
  const sorted = [...chosen.keys()].sort().map((k) => chosen.get(k) as core.Service);
  return new Map(fromServices(sorted));
}

/**
 * The container's environment as `NAME=value` entries: envFrom, then env, then the Service variables
 * (`services`) that neither set; `$(VAR)` may refer to Service variables. Throws ContainerStartError
 * (CreateContainerConfigError).
 */
export async function resolveEnv(c: core.Container, ctx: EnvContext, fetch: ObjectFetcher, services: ReadonlyMap<string, string> = new Map()): Promise<string[]> {
  const vars = new Map<string, string>();
  const missing = (what: string): never => {
    throw new ContainerStartError('CreateContainerConfigError', what);
  };
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const d = await fetch.data('configmaps', from.configMapRef.name ?? '');
      if (!d) {
        if (!from.configMapRef.optional) missing(`configmap "${from.configMapRef.name}" not found`);
        continue;
      }
      for (const [k, v] of Object.entries(d)) vars.set(prefix + k, v);
    }
    if (from.secretRef) {
      const d = await fetch.data('secrets', from.secretRef.name ?? '');
      if (!d) {
        if (!from.secretRef.optional) missing(`secret "${from.secretRef.name}" not found`);
        continue;
      }
      for (const [k, v] of Object.entries(d)) vars.set(prefix + k, v);
    }
  }
  for (const e of c.env ?? []) {
    const vf = e.valueFrom;
    if (!vf) {
      vars.set(e.name, expand(e.value ?? '', services.size ? new Map([...services, ...vars]) : vars));
      continue;
    }
    if (vf.configMapKeyRef) {
      const r = vf.configMapKeyRef;
      const d = await fetch.data('configmaps', r.name ?? '');
      const v = d?.[r.key];
      if (v === undefined) {
        if (r.optional) continue;
        missing(d ? `couldn't find key ${r.key} in ConfigMap ${ctx.pod.metadata?.namespace}/${r.name}` : `configmap "${r.name}" not found`);
      }
      vars.set(e.name, v as string);
    } else if (vf.secretKeyRef) {
      const r = vf.secretKeyRef;
      const d = await fetch.data('secrets', r.name ?? '');
      const v = d?.[r.key];
      if (v === undefined) {
        if (r.optional) continue;
        missing(d ? `couldn't find key ${r.key} in Secret ${ctx.pod.metadata?.namespace}/${r.name}` : `secret "${r.name}" not found`);
      }
      vars.set(e.name, v as string);
    } else if (vf.fieldRef) {
      vars.set(e.name, fieldValue(vf.fieldRef.fieldPath, ctx));
    } else if (vf.resourceFieldRef) {
      const target = vf.resourceFieldRef.containerName
        ? [...(ctx.pod.spec?.containers ?? []), ...(ctx.pod.spec?.initContainers ?? [])].find((x) => x.name === vf.resourceFieldRef?.containerName)
        : c;
      vars.set(e.name, resourceValue(vf.resourceFieldRef, target, ctx));
    }
  }
  for (const [k, v] of services) if (!vars.has(k)) vars.set(k, v);
  return [...vars].map(([k, v]) => `${k}=${v}`);
}

/** The downward API's `key="value"` lines, sorted by key as the kubelet writes them. */
function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m?.[k] ?? '')}`)
    .join('\n');
}
