/**
 * Cluster DNS answers as a pure function of the Services and Endpoints caches:
 *   <svc>.<ns>.svc.<domain>                 A: the ClusterIP, or for a headless Service its ready endpoint IPs
 *   <hostname>.<svc>.<ns>.svc.<domain>      A: the endpoint address with that hostname (StatefulSet pods)
 *   _<port>._<proto>.<svc>.<ns>.svc.<domain> SRV for named ports
 *   <a-b-c-d>.<ns>.pod.<domain>             A: the dashed address
 *   <d.c.b.a>.in-addr.arpa                  PTR for ClusterIPs and named endpoint addresses
 * Anything else under the domain is NXDOMAIN; names outside it are "forward".
 */
import type { core } from '../../api/types.js';

export const DEFAULT_TTL = 5;

export type Answer =
  | { type: 'A'; name: string; ttl: number; data: string }
  | { type: 'SRV'; name: string; ttl: number; data: { priority: number; weight: number; port: number; target: string } }
  | { type: 'PTR'; name: string; ttl: number; data: string };

export type Resolution =
  | { kind: 'answer'; answers: Answer[]; additionals: Answer[] }
  /** The name exists but has no record of the asked type (NOERROR, empty answer). */
  | { kind: 'nodata' }
  | { kind: 'nxdomain' }
  | { kind: 'forward' };

/** Read access to the caches the resolver needs. */
export interface DnsView {
  service(namespace: string, name: string): core.Service | undefined;
  endpoints(namespace: string, name: string): core.Endpoints | undefined;
  services(): readonly core.Service[];
  allEndpoints(): readonly core.Endpoints[];
}

function readyAddresses(ep: core.Endpoints | undefined): core.EndpointAddress[] {
  const out: core.EndpointAddress[] = [];
  const seen = new Set<string>();
  for (const s of ep?.subsets ?? [])
    for (const a of s.addresses ?? [])
      if (a.ip && !seen.has(a.ip)) {
        seen.add(a.ip);
        out.push(a);
      }
  return out;
}

function isHeadless(svc: core.Service): boolean {
  return svc.spec?.clusterIP === 'None' || !svc.spec?.clusterIP;
}

function ptrName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

export function resolve(view: DnsView, qname: string, qtype: string, domain: string, ttl = DEFAULT_TTL): Resolution {
  const name = qname.toLowerCase().replace(/\.$/, '');
  if (name.endsWith('.in-addr.arpa')) return resolvePtr(view, name, qtype, domain, ttl);
  const suffix = `.${domain}`;
  if (name !== domain && !name.endsWith(suffix)) return { kind: 'forward' };
  const labels = name === domain ? [] : name.slice(0, -suffix.length).split('.');
  const fqdn = (...parts: string[]): string => [...parts, domain].join('.');

  if (labels.length === 3 && labels[2] === 'pod') {
    const [dashed = '', ns = ''] = labels;
    const ip = dashed.replace(/-/g, '.');
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip) || !ns) return { kind: 'nxdomain' };
    return qtype === 'A' ? { kind: 'answer', answers: [{ type: 'A', name, ttl, data: ip }], additionals: [] } : { kind: 'nodata' };
  }
  if (labels.at(-1) !== 'svc') return labels.length <= 2 ? { kind: 'nodata' } : { kind: 'nxdomain' };
  const rest = labels.slice(0, -1); // without "svc"
  if (rest.length <= 1) return { kind: 'nodata' }; // "svc.<domain>" or "<ns>.svc.<domain>": names that exist, no records

  if (rest.length === 2) {
    const [svcName = '', ns = ''] = rest;
    const svc = view.service(ns, svcName);
    if (!svc) return { kind: 'nxdomain' };
    if (svc.spec?.type === 'ExternalName') return { kind: 'nodata' };
    if (qtype !== 'A') return { kind: 'nodata' };
    if (!isHeadless(svc)) return { kind: 'answer', answers: [{ type: 'A', name, ttl, data: svc.spec?.clusterIP ?? '' }], additionals: [] };
    const addrs = readyAddresses(view.endpoints(ns, svcName));
    if (addrs.length === 0) return { kind: 'nodata' };
    return { kind: 'answer', answers: addrs.map((a) => ({ type: 'A', name, ttl, data: a.ip })), additionals: [] };
  }

  if (rest.length === 3) {
    const [first = '', svcName = '', ns = ''] = rest;
    const svc = view.service(ns, svcName);
    if (!svc) return { kind: 'nxdomain' };
    const addrs = readyAddresses(view.endpoints(ns, svcName));
    const host = addrs.filter((a) => a.hostname === first || a.ip.replace(/\./g, '-') === first);
    if (host.length === 0) return { kind: 'nxdomain' };
    if (qtype !== 'A') return { kind: 'nodata' };
    return { kind: 'answer', answers: host.map((a) => ({ type: 'A', name, ttl, data: a.ip })), additionals: [] };
  }

  if (rest.length === 4 && rest[0]?.startsWith('_') && rest[1]?.startsWith('_')) {
    const [portLabel = '', protoLabel = '', svcName = '', ns = ''] = rest;
    const svc = view.service(ns, svcName);
    if (!svc) return { kind: 'nxdomain' };
    const portName = portLabel.slice(1);
    const protocol = protoLabel.slice(1).toUpperCase();
    const port = (svc.spec?.ports ?? []).find((p) => p.name === portName && (p.protocol ?? 'TCP') === protocol);
    if (!port) return { kind: 'nxdomain' };
    if (qtype !== 'SRV') return { kind: 'nodata' };
    const svcFqdn = fqdn(svcName, ns, 'svc');
    if (!isHeadless(svc)) {
      return {
        kind: 'answer',
        answers: [{ type: 'SRV', name, ttl, data: { priority: 0, weight: 100, port: port.port, target: svcFqdn } }],
        additionals: [{ type: 'A', name: svcFqdn, ttl, data: svc.spec?.clusterIP ?? '' }],
      };
    }
    // Headless: one SRV per ready endpoint, on the endpoint's port of that name.
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    for (const s of view.endpoints(ns, svcName)?.subsets ?? []) {
      const ep = (s.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
      if (!ep) continue;
      for (const a of s.addresses ?? []) {
        const target = fqdn(a.hostname ?? a.ip.replace(/\./g, '-'), svcName, ns, 'svc');
        answers.push({ type: 'SRV', name, ttl, data: { priority: 0, weight: 100, port: ep.port, target } });
        additionals.push({ type: 'A', name: target, ttl, data: a.ip });
      }
    }
    return answers.length ? { kind: 'answer', answers, additionals } : { kind: 'nodata' };
  }
  return { kind: 'nxdomain' };
}

function resolvePtr(view: DnsView, name: string, qtype: string, domain: string, ttl: number): Resolution {
  const ip = name.slice(0, -'.in-addr.arpa'.length).split('.').reverse().join('.');
  const targets: string[] = [];
  for (const s of view.services())
    if (s.spec?.clusterIP === ip) targets.push(`${s.metadata?.name}.${s.metadata?.namespace}.svc.${domain}`);
  for (const e of view.allEndpoints())
    for (const sub of e.subsets ?? [])
      for (const a of sub.addresses ?? [])
        if (a.ip === ip && a.hostname) targets.push(`${a.hostname}.${e.metadata?.name}.${e.metadata?.namespace}.svc.${domain}`);
  if (targets.length === 0) return { kind: 'forward' };
  if (qtype !== 'PTR') return { kind: 'nodata' };
  return { kind: 'answer', answers: [...new Set(targets)].map((t) => ({ type: 'PTR', name: ptrName(ip), ttl, data: t })), additionals: [] };
}
