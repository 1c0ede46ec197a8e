/**
 * From the API objects to what nginx serves, as a pure function: which Ingresses belong to this
 * controller (IngressClass), which are refused (and why), the virtual servers with their locations, the
 * upstreams (a Service port's ready endpoints from its EndpointSlices) and the TLS certificates to write.
 * `renderNginxConf` (nginxconf.ts) turns the result into nginx.conf. Nothing here reads a clock or a file.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { core, discovery, networking } from '../api/types.js';

/** ingress-nginx's default controller value for IngressClass spec.controller. */
export const DEFAULT_CONTROLLER = 'k8s.io/ingress-nginx';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * Paths nginx is given, for every path type: ingress-nginx's `strict-validate-path-type` character set.
 * Anything else (spaces, quotes, braces, `;`, `$`, regex syntax) is refused, so a path can never change
 * the meaning of the configuration around it.
 */
const SAFE_PATH = /^\/[A-Za-z0-9\-._~/]*$/;
const SAFE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export interface ModelInput {
  ingresses: readonly networking.Ingress[];
  classes: readonly networking.IngressClass[];
  services: readonly core.Service[];
  slices: readonly discovery.EndpointSlice[];
  /** Only the Secrets an Ingress names are looked at. */
  secrets: readonly core.Secret[];
  /** spec.controller value of the IngressClasses this controller serves. */
  controller: string;
}

export interface Endpoint {
  ip: string;
  port: number;
}

export interface Upstream {
  /** nginx upstream name: `<ns>-<service>-<port>` (characters of DNS names only). */
  name: string;
  endpoints: Endpoint[];
}

/** Where a location sends requests: an upstream, or a fixed status when the backend cannot be used. */
export type Target = { upstream: string } | { status: 503 | 404; reason: string };

export interface Location {
  /** nginx location modifier + path, e.g. `= /foo` or `/foo/` (paths are SAFE_PATH, so unquoted is safe). */
  match: string;
  target: Target;
  /** `ns/name` of the Ingress this location came from. */
  ingress: string;
}

export interface Server {
  /** '' for the default server (rules without a host). */
  host: string;
  locations: Location[];
  /** Certificate file key (`ns-name`) for TLS; undefined: the default (self-signed) certificate. */
  tlsCert?: string;
}

export interface Certificate {
  key: string;
  /** PEM certificate chain followed by the PEM private key. */
  pem: string;
}

/** One message about one Ingress, recorded as an event on it. */
export interface Notice {
  ingress: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Model {
  servers: Server[];
  upstreams: Upstream[];
  certificates: Certificate[];
  /** `ns/name` of every Ingress served (and whose status this controller owns). */
  accepted: string[];
  /** Ingresses of this controller left out entirely, with the reason. */
  refused: Notice[];
  /** Problems of accepted Ingresses that cost one path or the TLS of one host. */
  warnings: Notice[];
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** The names of the IngressClasses this controller serves, and which of them is the default. */
export function ownClasses(classes: readonly networking.IngressClass[], controller: string): { names: Set<string>; isDefault: boolean } {
  const own = classes.filter((c) => c.spec?.controller === controller && !c.metadata?.deletionTimestamp);
  return {
    names: new Set(own.map((c) => c.metadata?.name ?? '')),
    isDefault: own.some((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true'),
  };
}

/**
 * Whether this controller serves the Ingress: its spec.ingressClassName (or the legacy annotation) names
 * one of our classes, or it names no class and one of ours is the cluster default.
 */
export function isOurs(ing: networking.Ingress, own: { names: Set<string>; isDefault: boolean }): boolean {
  const name = ing.spec?.ingressClassName ?? ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
  return name === undefined || name === '' ? own.isDefault : own.names.has(name);
}

/** Why an Ingress cannot be rendered at all; undefined when it can. */
export function refusal(ing: networking.Ingress): string | undefined {
  const spec = ing.spec ?? {};
  if (!SAFE_NAME.test(ing.metadata?.namespace ?? '') || !SAFE_NAME.test(ing.metadata?.name ?? '')) return 'metadata: name or namespace is not a DNS name';
  const rules = spec.rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const host = rules[i]?.host ?? '';
    if (host !== '' && !/^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(host)) return `spec.rules[${i}].host: "${host}" is not a DNS name`;
    const paths = rules[i]?.http?.paths ?? [];
    for (let j = 0; j < paths.length; j++) {
      const p = paths[j]?.path || '/';
      if (!SAFE_PATH.test(p))
        return `spec.rules[${i}].http.paths[${j}].path: "${p}" has characters this controller does not accept (allowed: letters, digits and - . _ ~ /)`;
      if (paths[j]?.backend?.resource) return `spec.rules[${i}].http.paths[${j}].backend.resource: resource backends are not supported, use a service`;
    }
  }
  if (spec.defaultBackend?.resource) return 'spec.defaultBackend.resource: resource backends are not supported, use a service';
  for (const [i, t] of (spec.tls ?? []).entries())
    for (const h of t.hosts ?? []) if (!/^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(h)) return `spec.tls[${i}].hosts: "${h}" is not a DNS name`;
  return undefined;
}

/** Checks a kubernetes.io/tls Secret's data; returns the PEM for nginx, or why it cannot be used. */
export function tlsPem(secret: core.Secret | undefined, name: string): { pem: string } | { error: string } {
  if (!secret) return { error: `TLS Secret "${name}" not found` };
  const crtB64 = secret.data?.['tls.crt'];
  const keyB64 = secret.data?.['tls.key'];
  if (!crtB64) return { error: `TLS Secret "${name}": data[tls.crt] is missing` };
  if (!keyB64) return { error: `TLS Secret "${name}": data[tls.key] is missing` };
  const crt = Buffer.from(crtB64, 'base64').toString('utf8');
  const key = Buffer.from(keyB64, 'base64').toString('utf8');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(crt);
  } catch {
    return { error: `TLS Secret "${name}": data[tls.crt] is not a PEM certificate` };
  }
  let pkey;
  try {
    pkey = createPrivateKey(key);
  } catch {
    return { error: `TLS Secret "${name}": data[tls.key] is not a PEM private key` };
  }
  if (!cert.checkPrivateKey(pkey)) return { error: `TLS Secret "${name}": data[tls.key] does not match the certificate in data[tls.crt]` };
  // Only the PEM blocks go to nginx: nothing else of the Secret's bytes reaches its configuration.
  const blocks = (text: string): string[] => text.match(/-----BEGIN [A-Z0-9 ]+-----[\sA-Za-z0-9+/=]+?-----END [A-Z0-9 ]+-----/g) ?? [];
  return { pem: `${[...blocks(crt), ...blocks(key)].join('\n')}\n` };
}

interface ResolvedBackend {
  target: Target;
  warning?: string;
}

/** A Service backend → its upstream (ready endpoints of the Service port), or a fixed status and why. */
function resolveBackend(
  ns: string,
  backend: networking.IngressBackend | undefined,
  services: Map<string, core.Service>,
  slicesBySvc: Map<string, discovery.EndpointSlice[]>,
  upstreams: Map<string, Upstream>,
): ResolvedBackend {
  const ref = backend?.service;
  if (!ref?.name) return { target: { status: 503, reason: 'no service backend' }, warning: 'backend has no service' };
  const svc = services.get(`${ns}/${ref.name}`);
  if (!svc) return { target: { status: 503, reason: 'service not found' }, warning: `service "${ns}/${ref.name}" not found` };
  if (svc.spec?.type === 'ExternalName') return { target: { status: 503, reason: 'ExternalName' }, warning: `service "${ns}/${ref.name}" is ExternalName, which this controller does not proxy` };
  const port = (svc.spec?.ports ?? []).find((p) => (ref.port?.name ? p.name === ref.port.name : p.port === ref.port?.number));
  const portLabel = ref.port?.name ?? String(ref.port?.number ?? '');
  if (!port) return { target: { status: 503, reason: 'port not found' }, warning: `service "${ns}/${ref.name}" has no port ${portLabel}` };
  const name = `${ns}-${ref.name}-${portLabel}`;
  const existing = upstreams.get(name);
  if (existing) return { target: existing.endpoints.length ? { upstream: name } : { status: 503, reason: 'no endpoints' } };
  const endpoints: Endpoint[] = [];
  const seen = new Set<string>();
  for (const slice of slicesBySvc.get(`${ns}/${ref.name}`) ?? []) {
    if (slice.addressType !== 'IPv4') continue;
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? ''));
    if (!sp?.port) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses ?? []) {
        if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) continue;
        const k = `${ip}:${sp.port}`;
        if (seen.has(k)) continue;
        seen.add(k);
        endpoints.push({ ip, port: sp.port });
      }
    }
  }
  endpoints.sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
  upstreams.set(name, { name, endpoints });
  return { target: endpoints.length ? { upstream: name } : { status: 503, reason: 'no endpoints' } };
}

/**
 * nginx locations for one Ingress path, as Kubernetes defines the path types:
 * Exact `/foo` matches only `/foo`; Prefix `/foo` (or `/foo/`) matches `/foo` and `/foo/...` element-wise,
 * not `/foobar`; ImplementationSpecific is nginx's own prefix match (ingress-nginx without use-regex).
 * nginx picks an exact match first, then the longest prefix: Kubernetes' "longest path wins, Exact
 * before Prefix".
 */
export function locationMatches(pathType: string | undefined, path: string | undefined): string[] {
  const p = path || '/';
  if (pathType === 'Exact') return [`= ${p}`];
  if (pathType === 'Prefix') {
    const trimmed = p.replace(/\/+$/, '');
    return trimmed === '' ? ['/'] : [`= ${trimmed}`, `${trimmed}/`];
  }
  return [p];
}

/** Builds what nginx should serve. Older Ingresses win conflicts (same host and location), as in ingress-nginx. */
export function buildModel(input: ModelInput): Model {
  const own = ownClasses(input.classes, input.controller);
  const services = new Map(input.services.map((s) => [keyOf(s), s]));
  const secrets = new Map(input.secrets.map((s) => [keyOf(s), s]));
  const slicesBySvc = new Map<string, discovery.EndpointSlice[]>();
  for (const s of input.slices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const k = `${s.metadata?.namespace ?? ''}/${svc}`;
    const list = slicesBySvc.get(k) ?? [];
    list.push(s);
    slicesBySvc.set(k, list);
  }
  const ingresses = input.ingresses
    .filter((i) => !i.metadata?.deletionTimestamp && isOurs(i, own))
    .sort((a, b) => {
      const ta = String(a.metadata?.creationTimestamp ?? '');
      const tb = String(b.metadata?.creationTimestamp ?? '');
      return ta === tb ? keyOf(a).localeCompare(keyOf(b)) : ta.localeCompare(tb);
    });

  const upstreams = new Map<string, Upstream>();
  const servers = new Map<string, Server & { byMatch: Map<string, Location>; fallback?: Location }>();
  const serverFor = (host: string): Server & { byMatch: Map<string, Location>; fallback?: Location } => {
    let s = servers.get(host);
    if (!s) {
      s = { host, locations: [], byMatch: new Map() };
      servers.set(host, s);
    }
    return s;
  };
  serverFor('');
  const certificates = new Map<string, Certificate>();
  const accepted: string[] = [];
  const refused: Notice[] = [];
  const warnings: Notice[] = [];

  for (const ing of ingresses) {
    const key = keyOf(ing);
    const why = refusal(ing);
    if (why) {
      refused.push({ ingress: key, type: 'Warning', reason: 'Rejected', message: `Ingress not served: ${why}` });
      continue;
    }
    accepted.push(key);
    const ns = ing.metadata?.namespace ?? '';
    const warn = (message: string): void => {
      if (!warnings.some((w) => w.ingress === key && w.message === message)) warnings.push({ ingress: key, type: 'Warning', reason: 'BackendError', message });
    };
    const resolve = (b: networking.IngressBackend | undefined): Target => {
      const r = resolveBackend(ns, b, services, slicesBySvc, upstreams);
      if (r.warning) warn(r.warning);
      return r.target;
    };
    const spec = ing.spec ?? {};
    const defaultTarget = spec.defaultBackend ? resolve(spec.defaultBackend) : undefined;
    const hosts = new Set<string>();
    for (const rule of spec.rules ?? []) {
      const host = rule.host ?? '';
      hosts.add(host);
      const server = serverFor(host);
      // Exact paths first, so that an Exact and a Prefix of the same path both asking for `= /p` give it to Exact.
      const paths = [...(rule.http?.paths ?? [])].sort((a, b) => Number(b.pathType === 'Exact') - Number(a.pathType === 'Exact'));
      for (const p of paths) {
        const target = resolve(p.backend);
        for (const match of locationMatches(p.pathType, p.path)) {
          if (server.byMatch.has(match)) continue;
          const loc = { match, target, ingress: key };
          server.byMatch.set(match, loc);
          server.locations.push(loc);
        }
      }
    }
    // An Ingress's default backend takes what no rule of its hosts matches (ingress-nginx: the
    // catch-all `location /` of each of its servers; the default server's for rule-less Ingresses).
    if (defaultTarget) {
      if (hosts.size === 0) hosts.add('');
      for (const host of hosts) {
        const server = serverFor(host);
        server.fallback ??= { match: '/', target: defaultTarget, ingress: key };
      }
    }
    for (const t of spec.tls ?? []) {
      const tlsHosts = t.hosts ?? [];
      if (!t.secretName || tlsHosts.length === 0) continue;
      const certKey = `${ns}-${t.secretName}`;
      if (!certificates.has(certKey)) {
        const r = tlsPem(secrets.get(`${ns}/${t.secretName}`), `${ns}/${t.secretName}`);
        if ('error' in r) {
          warn(`${r.error}; the hosts ${tlsHosts.join(', ')} are served with the default certificate`);
          continue;
        }
        certificates.set(certKey, { key: certKey, pem: r.pem });
      }
      for (const h of tlsHosts) {
        const server = serverFor(h);
        server.tlsCert ??= certKey;
      }
    }
  }

  const out: Server[] = [];
  for (const s of servers.values()) {
    const locations = [...s.locations];
    if (!s.byMatch.has('/')) locations.push(s.fallback ?? { match: '/', target: { status: 404, reason: 'default backend' }, ingress: '' });
    locations.sort((a, b) => a.match.localeCompare(b.match));
    out.push({ host: s.host, locations, ...(s.tlsCert ? { tlsCert: s.tlsCert } : {}) });
  }
  out.sort((a, b) => a.host.localeCompare(b.host));
  const usedUpstreams = new Set(out.flatMap((s) => s.locations.flatMap((l) => ('upstream' in l.target ? [l.target.upstream] : []))));
  return {
    servers: out,
    upstreams: [...upstreams.values()].filter((u) => usedUpstreams.has(u.name)).sort((a, b) => a.name.localeCompare(b.name)),
    certificates: [...certificates.values()].sort((a, b) => a.key.localeCompare(b.key)),
    accepted,
    refused,
    warnings,
  };
}
