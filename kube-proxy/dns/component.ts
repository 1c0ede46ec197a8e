/** The dns component: cluster DNS server + kube-dns registration + LoadBalancer IP allocation. */
import type { Logger } from 'pino';
import { ApiClient } from '../../client/api.js';
import { Informer } from '../../client/informer.js';
import { ControllerRunner } from '../../client/runner.js';
import { Liveness, newMetricsRegistry, startAdminServer, type AdminServer } from '../../component-base/admin.js';
import { createLogger } from '../../component-base/log.js';
import { keyOf } from '../../api/types.js';
import type { DnsConfig } from './config.js';
import { startDnsServer } from './server.js';
import type { DnsView } from './records.js';
import { KUBE_DNS_KEY, KubeDnsRegistrar, LoadBalancerAllocator } from './controllers.js';

export interface RunningDns {
  readonly port: number;
  readonly adminPort: number;
  stopped(): Promise<void>;
}

export async function startDns(cfg: DnsConfig, signal: AbortSignal, deps: { logger?: Logger; client?: ApiClient } = {}): Promise<RunningDns> {
  const log = deps.logger ?? createLogger('dns');
  const client = deps.client ?? new ApiClient(cfg.apiserver, { tls: cfg.tls, token: cfg.token });
  const registry = newMetricsRegistry('dns');
  const services = new Informer(client, 'services', { logger: log });
  const endpoints = new Informer(client, 'endpoints', { logger: log });
  const view: DnsView = {
    service: (ns, name) => services.get(`${ns}/${name}`),
    endpoints: (ns, name) => endpoints.get(`${ns}/${name}`),
    services: () => services.list(),
    allEndpoints: () => endpoints.list(),
  };
  // Never forward to ourselves: that would loop.
  const upstreams = cfg.upstreams.filter((u) => u !== cfg.advertiseAddress && u !== cfg.dnsClusterIp);
  const server = await startDnsServer({ port: cfg.port, bindAddress: cfg.bindAddress, domain: cfg.clusterDomain, upstreams, forwardTimeoutMs: cfg.forwardTimeoutMs, view, log });

  const runners: ControllerRunner[] = [];
  const liveness = new Liveness();
  if (cfg.dnsClusterIp && cfg.advertiseAddress) {
    const r = new ControllerRunner(new KubeDnsRegistrar(client, cfg.dnsClusterIp, cfg.advertiseAddress, server.port, log), { logger: log, workers: 1, registry, baseDelayMs: 500, maxDelayMs: 10_000, liveness });
    const kick = (o: { metadata?: { namespace?: string; name?: string } }): void => {
      if (keyOf(o) === KUBE_DNS_KEY) r.enqueue(KUBE_DNS_KEY);
    };
    services.addHandler({ onDelete: kick });
    endpoints.addHandler({ onUpdate: (_, o) => kick(o), onDelete: kick });
    r.enqueue(KUBE_DNS_KEY);
    runners.push(r);
  }
  if (cfg.loadBalancerCidr) {
    const r = new ControllerRunner(new LoadBalancerAllocator(client, services, cfg.loadBalancerCidr, log), { logger: log, workers: 1, registry, liveness });
    services.addHandler({ onAdd: (o) => r.enqueue(keyOf(o)), onUpdate: (_, o) => r.enqueue(keyOf(o)), onDelete: (o) => r.enqueue(keyOf(o)) });
    runners.push(r);
  }

  let admin: AdminServer | undefined;
  if (cfg.adminPort >= 0)
    admin = await startAdminServer({
      port: cfg.adminPort,
      registry,
      healthy: () => liveness.check(),
      ready: () => (services.hasSynced() && endpoints.hasSynced() ? true : 'caches not synced'),
    });
  services.start(signal);
  endpoints.start(signal);
  log.info({ port: server.port, domain: cfg.clusterDomain, upstreams, clusterIP: cfg.dnsClusterIp, address: cfg.advertiseAddress }, 'dns started');
  const done = (async () => {
    try {
      await Promise.all([services.waitForSync(signal), endpoints.waitForSync(signal)]);
      await Promise.all(runners.map((r) => r.run(signal)));
    } catch (err) {
      if (!signal.aborted) log.error({ err: err instanceof Error ? err.message : String(err) }, 'dns controllers stopped');
    } finally {
      await Promise.all([services.stopped(), endpoints.stopped()]);
      await server.close();
      await admin?.close();
      if (!deps.client) client.close();
    }
  })();
  return { port: server.port, adminPort: admin?.port ?? -1, stopped: () => done };
}
