/**
 * The iptables mode of kube-proxy as a pure function: Services + Endpoints → the text that
 * `iptables-restore --noflush` applies. Only KUBE-* chains are written; the jumps into them from the
 * built-in chains are ensured separately (iptables.ts), so a restore never touches anything else.
 *
 * nat:    PREROUTING/OUTPUT → KUBE-SERVICES → (ClusterIP:port | LB IP:port) → KUBE-SVC-* → KUBE-SEP-* (DNAT)
 *         KUBE-SERVICES → (dst LOCAL) KUBE-NODEPORTS → KUBE-SVC-*
 *         POSTROUTING → KUBE-POSTROUTING: MASQUERADE what KUBE-MARK-MASQ marked (all DNATed traffic),
 *         so replies come back through this node and are un-DNATed here.
 * filter: FORWARD/OUTPUT/INPUT → KUBE-SERVICES: REJECT Services with no ready endpoint (and unknown
 *         ClusterIPs), so connections are refused at once instead of being routed off the lab network.
 */
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { core } from '../api/types.js';

export const MASQ_MARK = '0x4000/0x4000';

/** One Service port as kube-proxy sees it, with the endpoints that back it. */
export interface ServicePortInfo {
  /** `ns/name:portName` (portName may be empty). */
  id: string;
  namespace: string;
  name: string;
  portName: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  clusterIP?: string;
  port: number;
  nodePort?: number;
  loadBalancerIPs: string[];
  /** Seconds; set when sessionAffinity is ClientIP. */
  affinitySeconds?: number;
  /** Ready endpoints as ip:port. */
  endpoints: string[];
}

export interface RuleInput {
  services: readonly core.Service[];
  endpoints: readonly core.Endpoints[];
  /** Reject traffic to ClusterIPs in this range that no Service port claims. */
  serviceCidr?: string;
  /** KUBE-* chains that exist now (from iptables-save), so that stale ones are deleted. */
  existing?: { nat: readonly string[]; filter: readonly string[] };
  /** Hears each Service left out of the rules because it is malformed (its key and why). */
  onSkip?: (key: string, reason: string) => void;
}

export interface RuleOutput {
  /** Input for `iptables-restore --noflush`. */
  text: string;
  ports: ServicePortInfo[];
  /** LoadBalancer ingress IPs in use (this node answers for them). */
  loadBalancerIPs: string[];
}

function hashName(prefix: string, s: string): string {
  // Same idea as kube-proxy: base32 of a SHA-256, 16 chars; chain names must stay ≤ 28 chars.
  const digest = createHash('sha256').update(s).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 16) break;
  }
  return `${prefix}${out}`;
}

export function svcChain(p: Pick<ServicePortInfo, 'id' | 'protocol'>): string {
  return hashName('KUBE-SVC-', `${p.id}/${p.protocol}`);
}

export function sepChain(p: Pick<ServicePortInfo, 'id' | 'protocol'>, endpoint: string): string {
  return hashName('KUBE-SEP-', `${p.id}/${p.protocol}/${endpoint}`);
}

/** Joins Services with their Endpoints by port name: the view every rule is generated from. */
export function servicePorts(
  services: readonly core.Service[],
  endpoints: readonly core.Endpoints[],
  onSkip?: (key: string, reason: string) => void,
): ServicePortInfo[] {
  const epByKey = new Map<string, core.Endpoints>();
  for (const e of endpoints) epByKey.set(`${e.metadata?.namespace ?? ''}/${e.metadata?.name ?? ''}`, e);
  const out: ServicePortInfo[] = [];
  for (const svc of services) {
    // One malformed Service (e.g. written around the apiserver's validation) is left out of the rules;
    // the others are still programmed.
    const key = `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
    try {
      out.push(...portsOf(svc, epByKey));
    } catch (err) {
      onSkip?.(key, err instanceof Error ? err.message : String(err));
    }
  }
  out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.protocol < b.protocol ? -1 : 1));
  return out;
}

/** Thrown for a Service (or its Endpoints) whose fields cannot be turned into rules. */
export class MalformedServiceError extends Error {
  constructor(readonly field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'MalformedServiceError';
  }
}

const PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);
/** Names go into iptables comments and chain hashes: only what Kubernetes allows in names. */
const SAFE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function checkPort(v: unknown, field: string, optional = false): void {
  if (optional && v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw new MalformedServiceError(field, `${JSON.stringify(v)} is not a port number`);
}

function portsOf(svc: core.Service, epByKey: ReadonlyMap<string, core.Endpoints>): ServicePortInfo[] {
  const out: ServicePortInfo[] = [];
  {
    const spec = svc.spec;
    if (spec !== undefined && (typeof spec !== 'object' || spec === null)) throw new MalformedServiceError('spec', 'not an object');
    const namespace = svc.metadata?.namespace ?? '';
    const name = svc.metadata?.name ?? '';
    if (!SAFE_NAME.test(namespace) || !SAFE_NAME.test(name)) throw new MalformedServiceError('metadata', `"${namespace}/${name}" is not a valid Service name`);
    if (!spec || spec.type === 'ExternalName') return out;
    if (spec.ports !== undefined && !Array.isArray(spec.ports)) throw new MalformedServiceError('spec.ports', 'not a list');
    if (spec.clusterIP !== undefined && spec.clusterIP !== 'None' && spec.clusterIP !== '' && !isIPv4(String(spec.clusterIP)))
      throw new MalformedServiceError('spec.clusterIP', `${JSON.stringify(spec.clusterIP)} is not an IPv4 address`);
    const clusterIP = spec.clusterIP && spec.clusterIP !== 'None' ? spec.clusterIP : undefined;
    const lbIPs =
      spec.type === 'LoadBalancer' ? (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => !!ip) : [];
    const ep = epByKey.get(`${namespace}/${name}`);
    for (const [i, sp] of (spec.ports ?? []).entries()) {
      const portName = sp.name ?? '';
      const protocol = (sp.protocol ?? 'TCP') as ServicePortInfo['protocol'];
      if (typeof portName !== 'string' || (portName !== '' && !SAFE_NAME.test(portName))) throw new MalformedServiceError(`spec.ports[${i}].name`, 'not a valid port name');
      if (!PROTOCOLS.has(protocol)) throw new MalformedServiceError(`spec.ports[${i}].protocol`, `${JSON.stringify(protocol)} is not TCP, UDP or SCTP`);
      checkPort(sp.port, `spec.ports[${i}].port`);
      checkPort(sp.nodePort, `spec.ports[${i}].nodePort`, true);
      const eps = new Set<string>();
      for (const subset of ep?.subsets ?? []) {
        const match = (subset.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
        if (!match) continue;
        for (const a of subset.addresses ?? []) if (a.ip && isIPv4(a.ip) && Number.isInteger(match.port)) eps.add(`${a.ip}:${match.port}`);
      }
      const affinity =
        spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800) : undefined;
      out.push({
        id: `${namespace}/${name}:${portName}`,
        namespace,
        name,
        portName,
        protocol,
        clusterIP,
        port: sp.port,
        nodePort: spec.type === 'NodePort' || spec.type === 'LoadBalancer' ? sp.nodePort : undefined,
        loadBalancerIPs: lbIPs,
        affinitySeconds: affinity,
        endpoints: [...eps].sort(),
      });
    }
  }
  return out;
}

function proto(p: ServicePortInfo): string {
  return p.protocol.toLowerCase();
}

function comment(p: ServicePortInfo, extra = ''): string {
  // iptables comments are quoted; Kubernetes names cannot contain quotes or spaces.
  return `-m comment --comment "${p.id}${extra}"`;
}

function rejectWith(p: ServicePortInfo): string {
  return p.protocol === 'TCP' ? '--reject-with tcp-reset' : '--reject-with icmp-port-unreachable';
}

/** Builds the iptables-restore input for the whole desired state. */
export function buildRules(input: RuleInput): RuleOutput {
  const ports = servicePorts(input.services, input.endpoints, input.onSkip);
  const natChains = new Set(['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']);
  const filterChains = new Set(['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD']);
  const nat: string[] = [];
  const natServices: string[] = [];
  const natNodePorts: string[] = [];
  const filterServices: string[] = [];
  const filterExternal: string[] = [];
  const lbIPs = new Set<string>();

  nat.push(`-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK.split('/')[0]}`);
  nat.push(`-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK} -j RETURN`);
  // Clear the mark so a packet re-entering (hairpin) is judged afresh, then masquerade.
  nat.push(`-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK.split('/')[0]}`);
  nat.push('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE');

  for (const p of ports) {
    const svc = svcChain(p);
    const dport = `-p ${proto(p)} -m ${proto(p)} --dport`;
    for (const ip of p.loadBalancerIPs) lbIPs.add(ip);
    if (p.endpoints.length === 0) {
      // Nothing to DNAT to: refuse at once in filter (FORWARD for pods, OUTPUT for the node itself).
      if (p.clusterIP) filterServices.push(`-A KUBE-SERVICES -d ${p.clusterIP}/32 ${dport} ${p.port} ${comment(p, ' has no endpoints')} -j REJECT ${rejectWith(p)}`);
      for (const ip of p.loadBalancerIPs)
        filterExternal.push(`-A KUBE-EXTERNAL-SERVICES -d ${ip}/32 ${dport} ${p.port} ${comment(p, ' has no endpoints')} -j REJECT ${rejectWith(p)}`);
      if (p.nodePort)
        filterExternal.push(`-A KUBE-EXTERNAL-SERVICES -m addrtype --dst-type LOCAL ${dport} ${p.nodePort} ${comment(p, ' has no endpoints')} -j REJECT ${rejectWith(p)}`);
      continue;
    }
    natChains.add(svc);
    if (p.clusterIP) natServices.push(`-A KUBE-SERVICES -d ${p.clusterIP}/32 ${dport} ${p.port} ${comment(p, ' cluster IP')} -j ${svc}`);
    for (const ip of p.loadBalancerIPs) natServices.push(`-A KUBE-SERVICES -d ${ip}/32 ${dport} ${p.port} ${comment(p, ' loadbalancer IP')} -j ${svc}`);
    if (p.nodePort) natNodePorts.push(`-A KUBE-NODEPORTS ${dport} ${p.nodePort} ${comment(p)} -j ${svc}`);

    const seps = p.endpoints.map((ep) => ({ ep, chain: sepChain(p, ep) }));
    for (const s of seps) natChains.add(s.chain);
    if (p.affinitySeconds !== undefined) {
      // A client seen recently goes back to the endpoint it was sent to (per-SEP recent list).
      for (const s of seps)
        nat.push(`-A ${svc} ${comment(p, ` -> ${s.ep}`)} -m recent --name ${s.chain} --mask 255.255.255.255 --rsource --rcheck --seconds ${p.affinitySeconds} --reap -j ${s.chain}`);
    }
    seps.forEach((s, i) => {
      const left = seps.length - i;
      const stat = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : '';
      nat.push(`-A ${svc} ${comment(p, ` -> ${s.ep}`)}${stat} -j ${s.chain}`);
    });
    for (const s of seps) {
      const recent = p.affinitySeconds !== undefined ? ` -m recent --name ${s.chain} --mask 255.255.255.255 --rsource --set` : '';
      nat.push(`-A ${s.chain} ${comment(p)} -j KUBE-MARK-MASQ`);
      nat.push(`-A ${s.chain} ${comment(p)} -p ${proto(p)}${recent} -m ${proto(p)} -j DNAT --to-destination ${s.ep}`);
    }
  }
  // NodePorts on any of this node's own addresses (not loopback: that would need route_localnet).
  natServices.push('-A KUBE-SERVICES ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  if (input.serviceCidr)
    filterServices.push(`-A KUBE-SERVICES -d ${input.serviceCidr} -m comment --comment "unknown cluster IP" -j REJECT --reject-with icmp-port-unreachable`);
  // Connections already DNATed and tracked keep flowing when the forward policy is DROP.
  const filterForward = [
    `-A KUBE-FORWARD -m mark --mark ${MASQ_MARK} -j ACCEPT`,
    '-A KUBE-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  ];

  const stale = (table: readonly string[] | undefined, keep: Set<string>): string[] =>
    (table ?? []).filter((c) => /^KUBE-(SVC|SEP)-/.test(c) && !keep.has(c)).sort();
  const staleNat = stale(input.existing?.nat, natChains);
  const staleFilter = stale(input.existing?.filter, filterChains);

  const lines: string[] = ['*filter'];
  for (const c of [...filterChains, ...staleFilter]) lines.push(`:${c} - [0:0]`);
  lines.push(...filterServices, ...filterExternal, ...filterForward);
  for (const c of staleFilter) lines.push(`-X ${c}`);
  lines.push('COMMIT', '*nat');
  const natOrder = [...natChains];
  for (const c of [...natOrder, ...staleNat]) lines.push(`:${c} - [0:0]`);
  lines.push(...natServices, ...natNodePorts, ...nat);
  for (const c of staleNat) lines.push(`-X ${c}`);
  lines.push('COMMIT', '');
  return { text: lines.join('\n'), ports, loadBalancerIPs: [...lbIPs].sort() };
}

/** KUBE-* chain names declared in `iptables-save` output, per table. */
export function parseChains(save: string): { nat: string[]; filter: string[] } {
  const out = { nat: [] as string[], filter: [] as string[] };
  let table = '';
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    else if (line.startsWith(':KUBE-') && (table === 'nat' || table === 'filter')) out[table].push(line.slice(1).split(' ')[0] ?? '');
  }
  return out;
}

/** The jumps from built-in chains into ours: [table, chain, rule args]. Ensured with -C / -I. */
export const JUMP_RULES: readonly (readonly [string, string, readonly string[]])[] = [
  ['nat', 'PREROUTING', ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']],
  ['nat', 'OUTPUT', ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']],
  ['nat', 'POSTROUTING', ['-m', 'comment', '--comment', 'kubernetes postrouting rules', '-j', 'KUBE-POSTROUTING']],
  ['filter', 'FORWARD', ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']],
  ['filter', 'OUTPUT', ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']],
  ['filter', 'INPUT', ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes externally-visible service portals', '-j', 'KUBE-EXTERNAL-SERVICES']],
  ['filter', 'FORWARD', ['-m', 'comment', '--comment', 'kubernetes forwarding rules', '-j', 'KUBE-FORWARD']],
];
