/**
 * Container environment: value (with $(VAR) expansion), configMapKeyRef, secretKeyRef, fieldRef,
 * resourceFieldRef and envFrom, resolved the way the kubelet does before it creates a container.
 */
import type { ApiClient } from '../client/api.js';
import { isNotFound } from '../client/errors.js';
import { cpuMillis, parseQuantity, quantityValue } from '../client/quantity.js';
import type { core } from '../client/types.js';
import { ContainerStartError } from './errors.js';

export interface EnvContext {
  pod: core.Pod;
  podIp?: string;
  hostIp: string;
  nodeCpuMillis: number;
  nodeMemoryBytes: number;
}

/** Reads ConfigMaps/Secrets once per container start. */
export class ObjectFetcher {
  private readonly cache = new Map<string, Promise<Record<string, string> | undefined>>();

  constructor(
    private readonly client: ApiClient,
    private readonly namespace: string,
  ) {}

  /** Data of a ConfigMap / Secret (Secret values decoded); undefined when it does not exist. */
  data(kind: 'configmaps' | 'secrets', name: string): Promise<Record<string, string> | undefined> {
    const key = `${kind}/${name}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.load(kind, name);
      this.cache.set(key, p);
    }
    return p;
  }

  /** Raw bytes per key (binaryData and Secret data decoded). */
  async bytes(kind: 'configmaps' | 'secrets', name: string): Promise<Record<string, Buffer> | undefined> {
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

  private async load(kind: 'configmaps' | 'secrets', name: string): Promise<Record<string, string> | undefined> {
    const b = await this.bytes(kind, name);
    if (!b) return undefined;
    return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v.toString('utf8')]));
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

/** The container's environment as `NAME=value` entries. Throws ContainerStartError (CreateContainerConfigError). */
export async function resolveEnv(c: core.Container, ctx: EnvContext, fetch: ObjectFetcher): Promise<string[]> {
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
      vars.set(e.name, expand(e.value ?? '', vars));
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
  return [...vars].map(([k, v]) => `${k}=${v}`);
}

/** The downward API's `key="value"` lines, sorted by key as the kubelet writes them. */
function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m?.[k] ?? '')}`)
    .join('\n');
}
