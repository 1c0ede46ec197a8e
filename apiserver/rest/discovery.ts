/**
 * API discovery documents, built from the shared resource table: the legacy forms (`/api`, `/apis`,
 * `/api/v1`, `/apis/{g}/{v}`) and the aggregated form (apidiscovery.k8s.io v2 / v2beta1) that kubectl
 * ≥ 1.27 asks for first and that saves it one request per group/version.
 */
import { KUBERNETES_VERSION, RESOURCES, type ResourceInfo } from '../../api/resources.js';
import type { AggregatedGroup } from '../aggregator.js';
import { ALIASES } from './versions.js';

/** Every served group/version/resource: the stored versions, then the converted older ones. */
const SERVED: readonly ResourceInfo[] = [
  ...RESOURCES,
  ...ALIASES.flatMap((a) => RESOURCES.filter((r) => r.resource === a.resource).map((r) => ({ ...r, version: a.version }))),
];

export const SERVER_VERSION = {
  ...KUBERNETES_VERSION,
  gitCommit: 'kubelab',
  gitTreeState: 'clean',
  buildDate: '2024-04-17T00:00:00Z',
  goVersion: 'go1.22.2',
  compiler: 'gc',
  platform: 'linux/amd64',
};

interface SubKind {
  group: string;
  version: string;
  kind: string;
  verbs: string[];
}

/** What each subresource takes and returns (kind '' = the parent's kind). */
function subresourceKind(info: ResourceInfo, sub: string): SubKind {
  switch (sub) {
    case 'status':
    case 'ephemeralcontainers':
      return { group: info.group, version: info.version, kind: info.kind, verbs: ['get', 'patch', 'update'] };
    case 'scale':
      return { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] };
    case 'binding':
      return { group: '', version: 'v1', kind: 'Binding', verbs: ['create'] };
    case 'eviction':
      return { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] };
    case 'log':
      return { group: '', version: 'v1', kind: 'Pod', verbs: ['get'] };
    case 'exec':
    case 'attach':
      return { group: '', version: 'v1', kind: `Pod${sub === 'exec' ? 'Exec' : 'Attach'}Options`, verbs: ['create', 'get'] };
    case 'portforward':
      return { group: '', version: 'v1', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] };
    case 'finalize':
      return { group: '', version: 'v1', kind: 'Namespace', verbs: ['update'] };
    case 'proxy':
      return { group: '', version: 'v1', kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] };
    default:
      return { group: info.group, version: info.version, kind: info.kind, verbs: ['get'] };
  }
}

/** Served group/versions, core first. */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of SERVED) seen.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  return [...seen.values()];
}

export function apiVersions(): object {
  return { kind: 'APIVersions', apiVersion: 'v1', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }] };
}

function apiGroup(group: string): object {
  const versions = groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: `${group}/${gv.version}`, version: gv.version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions, preferredVersion: versions[0] };
}

/** An aggregated group's APIGroup document. */
export function aggregatedApiGroup(a: AggregatedGroup): object {
  const v = { groupVersion: `${a.ref.group}/${a.ref.version}`, version: a.ref.version };
  return { kind: 'APIGroup', apiVersion: 'v1', name: a.ref.group, versions: [v], preferredVersion: v };
}

/** `/apis`: the served groups, then the available aggregated ones. */
export function apiGroupList(aggregated: readonly AggregatedGroup[] = []): object {
  const groups = [...new Set(groupVersions().map((gv) => gv.group).filter((g) => g !== ''))];
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups.map((g) => apiGroup(g)), ...aggregated.map(aggregatedApiGroup)] };
}

/** An aggregated group in apidiscovery form (top-level resources only, as its backend listed them). */
function aggregatedDiscoveryItem(a: AggregatedGroup): object {
  return {
    metadata: { name: a.ref.group, creationTimestamp: null },
    versions: [
      {
        version: a.ref.version,
        freshness: 'Current',
        resources: a.resources
          .filter((r) => !r.name.includes('/'))
          .map((r) => ({
            resource: r.name,
            responseKind: { group: a.ref.group, version: a.ref.version, kind: r.kind },
            scope: r.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: r.singularName || r.kind.toLowerCase(),
            verbs: [...r.verbs],
          })),
      },
    ],
  };
}

/** `/apis/{group}`; undefined when the group is not served. */
export function apiGroupDoc(group: string): object | undefined {
  return groupVersions().some((gv) => gv.group === group) ? apiGroup(group) : undefined;
}

/** The APIResourceList of one group/version; undefined when not served. */
export function apiResourceList(group: string, version: string): object | undefined {
  const infos = SERVED.filter((r) => r.group === group && r.version === version);
  if (infos.length === 0) return undefined;
  const resources: object[] = [];
  for (const info of infos) {
    resources.push({
      name: info.resource,
      singularName: info.singular,
      namespaced: info.namespaced,
      kind: info.kind,
      verbs: [...info.verbs],
      ...(info.shortNames.length ? { shortNames: [...info.shortNames] } : {}),
      ...(info.categories.length ? { categories: [...info.categories] } : {}),
    });
    for (const sub of info.subresources) {
      const sk = subresourceKind(info, sub);
      resources.push({
        name: `${info.resource}/${sub}`,
        singularName: '',
        namespaced: info.namespaced,
        ...(sk.group !== group || sk.version !== version ? { group: sk.group, version: sk.version } : {}),
        kind: sk.kind,
        verbs: sk.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

/** Aggregated discovery for `/api` (core) or `/apis` (named groups), in apidiscovery `version` v2 or v2beta1. */
export function aggregatedDiscovery(core: boolean, version: 'v2' | 'v2beta1', aggregated: readonly AggregatedGroup[] = []): object {
  const gvs = groupVersions().filter((gv) => (gv.group === '') === core);
  const groups = [...new Set(gvs.map((gv) => gv.group))];
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: [...groups.map((group) => ({
      metadata: { name: group, creationTimestamp: null },
      versions: gvs
        .filter((gv) => gv.group === group)
        .map((gv) => ({
          version: gv.version,
          freshness: 'Current',
          resources: SERVED.filter((r) => r.group === group && r.version === gv.version).map((info) => ({
            resource: info.resource,
            responseKind: { group: info.group, version: info.version, kind: info.kind },
            scope: info.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: info.singular,
            verbs: [...info.verbs],
            ...(info.shortNames.length ? { shortNames: [...info.shortNames] } : {}),
            ...(info.categories.length ? { categories: [...info.categories] } : {}),
            ...(info.subresources.length
              ? {
                  subresources: info.subresources.map((sub) => {
                    const sk = subresourceKind(info, sub);
                    return { subresource: sub, responseKind: { group: sk.group, version: sk.version, kind: sk.kind }, verbs: sk.verbs };
                  }),
                }
              : {}),
          })),
        })),
    })), ...(core ? [] : aggregated.map(aggregatedDiscoveryItem))],
  };
}

/** Which aggregated discovery version the Accept header asks for, if any. */
export function wantsAggregated(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    const p = part.replace(/\s+/g, '');
    if (!p.includes('g=apidiscovery.k8s.io') || !p.includes('as=APIGroupDiscoveryList')) continue;
    if (p.includes('v=v2beta1')) return 'v2beta1';
    if (p.includes('v=v2')) return 'v2';
  }
  return undefined;
}
