/**
 * Endpoints controller: for each Service with a selector, an Endpoints object of the same name whose
 * subsets group pods by their resolved port set (named targetPorts resolved per pod), with ready
 * `addresses` and `notReadyAddresses`. Pod events enqueue the services selecting the pod (old and new
 * labels) so kube-proxy sees changes within a second.
 */
import { isDeepStrictEqual } from 'node:util';
import { isAlreadyExists, isNotFound } from '../client/errors.js';
import { isPodReady } from '../client/objects.js';
import { keyOf, splitKey, type core } from '../client/types.js';
import type { Controller, ControllerContext, Enqueue } from './context.js';
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
  const byIp = (a: core.EndpointAddress, b: core.EndpointAddress): number => a.ip.localeCompare(b.ip, 'en', { numeric: true });
  return [...groups.values()]
    .map((g) => ({
      ...(g.ready.length ? { addresses: g.ready.sort(byIp) } : {}),
      ...(g.notReady.length ? { notReadyAddresses: g.notReady.sort(byIp) } : {}),
      ...(g.ports.length ? { ports: g.ports } : {}),
    }))
    .sort((a, b) => JSON.stringify(a.ports).localeCompare(JSON.stringify(b.ports)));
}

export class EndpointsController implements Controller {
  readonly name = 'endpoints';
  private readonly svcs;
  private readonly pods;
  private readonly eps;

  constructor(private readonly ctx: ControllerContext) {
    this.svcs = ctx.informers.get('services');
    this.pods = ctx.informers.get('pods');
    this.eps = ctx.informers.get('endpoints');
  }

  register(q: Enqueue): void {
    this.svcs.addHandler({ onAdd: (s) => q.add(keyOf(s)), onUpdate: (_o, s) => q.add(keyOf(s)), onDelete: (s) => q.add(keyOf(s)) });
    const forPod = (p: Pod): void => {
      for (const s of this.svcs.byNamespace(p.metadata?.namespace ?? '')) if (selects(s, p)) q.add(keyOf(s));
    };
    this.pods.addHandler({
      onAdd: forPod,
      onUpdate: (o, p) => {
        forPod(p);
        if (!isDeepStrictEqual(o.metadata?.labels, p.metadata?.labels)) forPod(o);
      },
      onDelete: forPod,
    });
    this.eps.addHandler({ onDelete: (e) => q.add(keyOf(e)) });
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
      return;
    }
    if (!svc.spec?.selector || Object.keys(svc.spec.selector).length === 0) return;
    const subsets = computeSubsets(svc, this.pods.byNamespace(namespace));
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
}
