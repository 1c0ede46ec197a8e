/**
 * Two small controllers the dns component runs:
 *  - KubeDnsRegistrar keeps kube-system/kube-dns (well-known ClusterIP, no selector) and its Endpoints
 *    pointing at this server, so pods can use either address as nameserver.
 *  - LoadBalancerAllocator is the lab's cloud provider: it gives each LoadBalancer Service an ingress
 *    IP from a range of the lab network; every kube-proxy holds those IPs on lo and DNATs them.
 */
import type { Logger } from 'pino';
import type { ApiClient } from '../../client/api.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../api/errors.js';
import type { Informer } from '../../client/informer.js';
import { clone } from '../../api/objects.js';
import type { Reconciler, Result } from '../../client/runner.js';
import type { core, Mutable } from '../../api/types.js';

import { ipToNumber, ipToString, parseCidr } from '../../api/cidr.js';

export const KUBE_DNS_KEY = 'kube-system/kube-dns';

export class KubeDnsRegistrar implements Reconciler {
  readonly name = 'kube-dns-registrar';

  constructor(
    private readonly client: ApiClient,
    private readonly clusterIp: string,
    private readonly ownIp: string,
    private readonly port: number,
    private readonly log: Logger,
  ) {}

  async reconcile(): Promise<Result> {
    const ports: core.ServicePort[] = [
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: this.port },
      { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: this.port },
    ];
    try {
      await this.client.get('services', 'kube-dns', { namespace: 'kube-system' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.client.create('services', {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' } },
          spec: { clusterIP: this.clusterIp, ports },
        });
        this.log.info({ clusterIP: this.clusterIp }, 'registered kube-dns service');
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
    }
    let ep: core.Endpoints | undefined;
    try {
      ep = await this.client.get('endpoints', 'kube-dns', { namespace: 'kube-system' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const epPorts: core.EndpointPort[] = [
      { name: 'dns', port: this.port, protocol: 'UDP' },
      { name: 'dns-tcp', port: this.port, protocol: 'TCP' },
    ];
    const has = ep?.subsets?.some((s) => (s.addresses ?? []).some((a) => a.ip === this.ownIp) && (s.ports ?? []).some((p) => p.port === this.port));
    if (!has) {
      // Keep other replicas' addresses; add ours.
      const others = (ep?.subsets ?? []).flatMap((s) => s.addresses ?? []).filter((a) => a.ip !== this.ownIp);
      const next: core.Endpoints = {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { ...(ep ? clone(ep.metadata) : {}), name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
        subsets: [{ addresses: [...others, { ip: this.ownIp }], ports: epPorts }],
      };
      try {
        if (ep) await this.client.update('endpoints', next);
        else await this.client.create('endpoints', next);
        this.log.info({ ip: this.ownIp }, 'registered kube-dns endpoint');
      } catch (e) {
        if (isConflict(e) || isAlreadyExists(e)) return { requeueAfter: 100 };
        throw e;
      }
    }
    return { requeueAfter: 30_000 };
  }
}

export class LoadBalancerAllocator implements Reconciler {
  readonly name = 'service-lb';
  private readonly base: number;
  private readonly size: number;
  /** ip → service key, including assignments the cache has not caught up with yet. */
  private readonly assigned = new Map<string, string>();

  constructor(
    private readonly client: ApiClient,
    private readonly services: Informer<'services'>,
    cidr: string,
    private readonly log: Logger,
  ) {
    const r = parseCidr(cidr);
    this.base = r.base;
    this.size = r.size;
  }

  private inRange(ip: string | undefined): boolean {
    const n = ip ? ipToNumber(ip) : undefined;
    return n !== undefined && n > this.base && n < this.base + this.size - 1;
  }

  private used(exceptKey: string): Set<string> {
    const used = new Set<string>();
    for (const s of this.services.list()) {
      const key = `${s.metadata?.namespace}/${s.metadata?.name}`;
      if (key === exceptKey) continue;
      for (const i of s.status?.loadBalancer?.ingress ?? []) if (i.ip) used.add(i.ip);
    }
    for (const [ip, key] of this.assigned) if (key !== exceptKey && this.services.get(key)) used.add(ip);
    return used;
  }

  async reconcile(key: string): Promise<Result> {
    const svc = this.services.get(key);
    if (!svc) {
      for (const [ip, k] of this.assigned) if (k === key) this.assigned.delete(ip);
      return {};
    }
    const ingress = svc.status?.loadBalancer?.ingress ?? [];
    const isLb = svc.spec?.type === 'LoadBalancer';
    const current = ingress.find((i) => this.inRange(i.ip))?.ip;
    if (isLb && current) {
      this.assigned.set(current, key);
      return {};
    }
    if (!isLb && !current) return {};
    const next = clone(svc) as Mutable<core.Service>;
    if (!isLb) {
      next.status = { ...next.status, loadBalancer: { ingress: ingress.filter((i) => !this.inRange(i.ip)) } };
    } else {
      const used = this.used(key);
      let ip: string | undefined;
      for (let n = this.base + 1; n < this.base + this.size - 1; n++) {
        const cand = ipToString(n);
        if (!used.has(cand)) {
          ip = cand;
          break;
        }
      }
      if (!ip) {
        this.log.warn({ key }, 'load balancer IP range is full');
        return { requeueAfter: 30_000 };
      }
      this.assigned.set(ip, key);
      next.status = { ...next.status, loadBalancer: { ingress: [{ ip }] } };
    }
    try {
      await this.client.updateStatus('services', next);
    } catch (err) {
      if (isNotFound(err)) return {};
      throw err;
    }
    this.log.info({ key, ingress: next.status?.loadBalancer?.ingress ?? [] }, 'load balancer status updated');
    return {};
  }
}

