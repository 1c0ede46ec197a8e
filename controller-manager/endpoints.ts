/**
 * Endpoints controller: for each Service with a selector, an Endpoints object of the same name whose
 * subsets group pods by their resolved port set (named targetPorts resolved per pod), with ready
 * `addresses` and `notReadyAddresses`. Pod events enqueue the services selecting the pod (old and new
 * labels) so kube-proxy sees changes within a second.
 *
 * It also keeps the Service's EndpointSlices (discovery.k8s.io/v1, one per port set, labelled
 * `kubernetes.io/service-name`, owned by the Service), which is what current kubectl reads for
 * `describe service`; for a Service without a selector they mirror its hand-made Endpoints, as
 * Kubernetes' EndpointSlice mirroring controller does.
 */
import { isDeepStrictEqual } from 'node:util';
import { sortByIp } from '../api/cidr.js';
import { isAlreadyExists, isNotFound } from '../api/errors.js';
import { isPodReady } from '../api/objects.js';
import { keyOf, splitKey, type core, type discovery } from '../api/types.js';
import { enqueueForPods, matching, type Controller, type ControllerContext, type Enqueue } from './context.js';
import { enqueueFor } from './handlers.js';
import type { Pod } from './types.js';

export const TOLERATE_UNREADY = 'service.alpha.kubernetes.io/tolerate-unready-endpoints';

function selects(svc: core.Service, pod: Pod): boolean {
  const sel = svc.spec?.selector;
  if (!sel || Object.keys(sel).length === 0) return false;
  return Object.entries(sel).every(([k, v]) => pod.metadata?.labels?.[k] === v);
}

function resolvePort(pod: Pod, sp: core.ServicePort): number | undefined {
  const tp = sp.targetPort ?? sp.port;
  if (typeof tp === 'number') return tp;
  if (/^\d+$/.test(tp)) return Number(tp);
  for (const c of pod.spec?.containers ?? []) for (const p of c.ports ?? []) if (p.name === tp && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP')) return p.containerPort;
  return undefined;
}

/** The subsets for a service over candidate pods (pure; sorted for stable comparison). */
export function computeSubsets(svc: core.Service, pods: Pod[]): core.EndpointSubset[] {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true || svc.metadata?.annotations?.[TOLERATE_UNREADY] === 'true';
  const groups = new Map<string, { ports: core.EndpointPort[]; ready: core.EndpointAddress[]; notReady: core.EndpointAddress[] }>();
  for (const pod of pods) {
    if (!selects(svc, pod)) continue;
    const ip = pod.status?.podIP;
    if (!ip) continue;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    if (pod.metadata?.deletionTimestamp && !publishNotReady) continue;
    const ports: core.EndpointPort[] = [];
    for (const sp of svc.spec?.ports ?? []) {
      const port = resolvePort(pod, sp);
      if (port === undefined) continue;
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    if (!ports.length && (svc.spec?.ports?.length ?? 0) > 0) continue;
    const addr: core.EndpointAddress = {
      ip,
      ...(pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name ? { hostname: pod.spec.hostname } : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
    };
    const gk = JSON.stringify(ports);
    let g = groups.get(gk);
    if (!g) groups.set(gk, (g = { ports, ready: [], notReady: [] }));
    if (isPodReady(pod) || publishNotReady) g.ready.push(addr);
    else g.notReady.push(addr);
  }
  const byIp = (addrs: core.EndpointAddress[]): core.EndpointAddress[] => sortByIp(addrs, (a) => a.ip);
  return [...groups.values()]
    .map((g) => ({
      ...(g.ready.length ? { addresses: byIp(g.ready) } : {}),
      ...(g.notReady.length ? { notReadyAddresses: byIp(g.notReady) } : {}),
      ...(g.ports.length ? { ports: g.ports } : {}),
    }))
    .sort((a, b) => JSON.stringify(a.ports).localeCompare(JSON.stringify(b.ports)));
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';

/** The EndpointSlices that carry `subsets` of `svc` (pure; names derived from the Service's uid). */
export function computeSlices(svc: core.Service, subsets: readonly core.EndpointSubset[], managedBy: string): discovery.EndpointSlice[] {
  const name = svc.metadata?.name ?? '';
  const base = `${name}-${(svc.metadata?.uid ?? '').replace(/-/g, '').slice(0, 5)}`;
  const endpoint = (a: core.EndpointAddress, ready: boolean): discovery.Endpoint => ({
    addresses: [a.ip],
    conditions: { ready, serving: ready, terminating: false },
    ...(a.hostname ? { hostname: a.hostname } : {}),
    ...(a.nodeName ? { nodeName: a.nodeName } : {}),
    ...(a.targetRef ? { targetRef: a.targetRef } : {}),
  });
  return subsets.map((sub, i) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: i === 0 ? base : `${base}-${i}`,
      namespace: svc.metadata?.namespace,
      labels: { ...(svc.metadata?.labels ?? {}), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: managedBy },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    addressType: 'IPv4',
    endpoints: [...(sub.addresses ?? []).map((a) => endpoint(a, true)), ...(sub.notReadyAddresses ?? []).map((a) => endpoint(a, false))],
    // name is always present ("" for an unnamed port), as Kubernetes writes it: kubectl dereferences it.
    ports: (sub.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) })),
  }));
}

export class EndpointsController implements Controller {
  readonly name = 'endpoints';
  readonly primary = 'services' as const;
  private readonly svcs;
  private readonly pods;
  private readonly eps;
  private readonly slices;

  constructor(private readonly ctx: ControllerContext) {
    this.svcs = ctx.informers.get('services');
    this.pods = ctx.informers.get('pods');
    this.eps = ctx.informers.get('endpoints');
    this.slices = ctx.informers.get('endpointslices');
  }

  register(q: Enqueue): void {
    enqueueFor(this.svcs, q);
    enqueueForPods(this.pods, (p: Pod) => matching(this.svcs.byNamespace(p.metadata?.namespace ?? ''), (s) => selects(s, p)).map(keyOf), q);
    // Hand-made Endpoints of selector-less Services are mirrored into slices (the echo of this controller's own
    // Endpoints writes needs no second pass); a slice or Endpoints removed by hand comes back.
    const mirrored = (e: core.Endpoints): void => {
      const svc = this.svcs.get(keyOf(e));
      if (!svc?.spec?.selector || Object.keys(svc.spec.selector).length === 0) q.add(keyOf(e));
    };
    this.eps.addHandler({ onAdd: mirrored, onUpdate: (_o, e) => mirrored(e), onDelete: (e) => q.add(keyOf(e)) });
    const forSlice = (s: discovery.EndpointSlice): void => {
      const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (svc) q.add(`${s.metadata?.namespace}/${svc}`);
    };
    this.slices.addHandler({ onUpdate: (_o, s) => forSlice(s), onDelete: forSlice });
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.svcs.get(key);
    const { client } = this.ctx;
    if (!svc) {
      const ep = this.eps.get(key);
      if (ep && !ep.metadata?.ownerReferences?.length) {
        try {
          await client.delete('endpoints', name, { namespace });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      await this.syncSlices(namespace, name, []);
      return;
    }
    if (!svc.spec?.selector || Object.keys(svc.spec.selector).length === 0) {
      const mirrored = svc.spec?.type === 'ExternalName' ? [] : (this.eps.get(key)?.subsets ?? []);
      await this.syncSlices(namespace, name, computeSlices(svc, mirrored, 'endpointslicemirroring-controller.k8s.io'));
      return;
    }
    const subsets = computeSubsets(svc, this.pods.byNamespace(namespace));
    await this.syncSlices(namespace, name, computeSlices(svc, subsets, 'endpointslice-controller.k8s.io'));
    const labels = { ...(svc.metadata?.labels ?? {}) };
    const cur = this.eps.get(key);
    if (cur && isDeepStrictEqual(JSON.parse(JSON.stringify(cur.subsets ?? [])), JSON.parse(JSON.stringify(subsets))) && isDeepStrictEqual(cur.metadata?.labels ?? {}, labels)) return;
    const body: core.Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace, labels, ...(cur ? { resourceVersion: cur.metadata?.resourceVersion } : {}) },
      subsets,
    };
    if (cur) {
      await client.update('endpoints', { ...body, metadata: { ...cur.metadata, labels } });
      return;
    }
    try {
      await client.create('endpoints', body);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await client.get('endpoints', name, { namespace });
      await client.update('endpoints', { ...body, metadata: { ...existing.metadata, labels } });
    }
  }

  /** Makes the Service's slices exactly `want`: creates, updates and deletes by name. */
  private async syncSlices(namespace: string, service: string, want: discovery.EndpointSlice[]): Promise<void> {
    const { client } = this.ctx;
    const have = new Map(
      this.slices.byNamespace(namespace).filter((s) => s.metadata?.labels?.[SERVICE_NAME_LABEL] === service).map((s) => [s.metadata?.name ?? '', s]),
    );
    for (const slice of want) {
      const cur = have.get(slice.metadata?.name ?? '');
      have.delete(slice.metadata?.name ?? '');
      if (!cur) {
        try {
          await client.create('endpointslices', slice);
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
        }
        continue;
      }
      const same = (s: discovery.EndpointSlice): unknown => JSON.parse(JSON.stringify({ l: s.metadata?.labels, e: s.endpoints ?? [], p: s.ports ?? [] }));
      if (isDeepStrictEqual(same(cur), same(slice))) continue;
      await client.update('endpointslices', { ...slice, metadata: { ...cur.metadata, labels: slice.metadata?.labels } });
    }
    for (const stale of have.values()) {
      try {
        await client.delete('endpointslices', stale.metadata?.name ?? '', { namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}
