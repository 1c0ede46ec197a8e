/** What a kubelet reads off a desired pod before syncing it: where it came from, and its sandbox's DNS. */
import type { core } from '../api/types.js';
import type { DnsSettings } from './runtime/types.js';

export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
export const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';

export function isStaticPod(pod: core.Pod): boolean {
  const src = pod.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION];
  return src !== undefined && src !== 'api';
}

export function isMirrorPod(pod: core.Pod): boolean {
  return pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined;
}

export const isTerminalPhase = (p: string | undefined): boolean => p === 'Succeeded' || p === 'Failed';

/** `namespace/name`, for logs. */
export function podKey(pod: core.Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

/** DNS settings of a pod's sandbox (nameserver, search path, ndots) per dnsPolicy. */
export function podDns(pod: core.Pod, clusterDns: string, domain: string): DnsSettings | undefined {
  const spec = pod.spec;
  const policy = spec?.dnsPolicy ?? 'ClusterFirst';
  const extra = spec?.dnsConfig;
  let base: DnsSettings | undefined;
  if ((policy === 'ClusterFirst' && !spec?.hostNetwork) || policy === 'ClusterFirstWithHostNet') {
    if (clusterDns) {
      const ns = pod.metadata?.namespace ?? 'default';
      base = { servers: [clusterDns], searches: [`${ns}.svc.${domain}`, `svc.${domain}`, domain], options: ['ndots:5'] };
    }
  } else if (policy === 'None') base = { servers: [], searches: [], options: [] };
  if (!extra) return base;
  const b = base ?? { servers: [], searches: [], options: [] };
  return {
    servers: [...b.servers, ...(extra.nameservers ?? [])],
    searches: [...b.searches, ...(extra.searches ?? [])],
    options: [
      ...b.options.filter((o) => !(extra.options ?? []).some((e) => o.startsWith(`${e.name}:`) || o === e.name)),
      ...(extra.options ?? []).map((o) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name ?? '')),
    ],
  };
}
