/**
 * kube-proxy: watches Services and Endpoints and keeps this node's iptables KUBE-* chains equal to
 * `buildRules(...)`. Level-triggered through the shared runner with one key: any change enqueues
 * "sync" after a short debounce, the reconcile re-reads the whole cache, and a successful sync comes
 * back after the full-resync period.
 */
import type { Logger } from 'pino';
import { Gauge, Histogram } from 'prom-client';
import { ApiClient } from '../client/api.js';
import { Informer } from '../client/informer.js';
import { ControllerRunner, type Reconciler, type Result } from '../client/runner.js';
import { newMetricsRegistry, startAdminServer, type AdminServer } from '../component-base/admin.js';
import { createLogger } from '../component-base/log.js';
import { KubeProxyConfigError, type KubeProxyConfig } from './config.js';
import { buildRules, type ServicePortInfo } from './rules.js';
import { Iptables, clearUdpConntrack, hostNamespaceReason, readSysctl, syncLoopbackIPs } from './iptables.js';

const SYNC_KEY = 'sync';

export interface KubeProxyDeps {
  logger?: Logger;
  /** A client to reuse (e.g. the kubelet's, when both run in one process); not closed on stop. */
  client?: ApiClient;
}

/** A running kube-proxy; it stops when the start signal aborts. */
export interface RunningKubeProxy {
  readonly adminPort: number;
  /** Successful rule syncs so far. */
  syncs(): number;
  /** Resolves when everything has stopped (after the signal aborted). */
  stopped(): Promise<void>;
}

class ProxySyncer implements Reconciler {
  readonly name = 'kube-proxy';
  syncCount = 0;
  lastSyncAt = 0;
  private jumpsEnsuredAt = 0;
  private lastPorts: ServicePortInfo[] = [];
  private skipped = new Map<string, string>();
  private readonly iptables: Iptables;

  constructor(
    private readonly cfg: KubeProxyConfig,
    private readonly services: Informer<'services'>,
    private readonly endpoints: Informer<'endpoints'>,
    private readonly log: Logger,
    private readonly metrics: { duration: Histogram<string>; rules: Gauge<string> },
  ) {
    this.iptables = new Iptables(cfg.iptables);
  }

  async reconcile(): Promise<Result> {
    const t0 = performance.now();
    const existing = await this.iptables.chains();
    const skipped = new Map<string, string>();
    const out = buildRules({
      services: this.services.list(),
      endpoints: this.endpoints.list(),
      serviceCidr: this.cfg.serviceCidr,
      existing,
      onSkip: (key, reason) => skipped.set(key, reason),
    });
    // Said once per malformed Service, not on every resync.
    for (const [key, reason] of skipped) if (this.skipped.get(key) !== reason) this.log.error({ service: key, reason }, 'malformed Service left out of the rules');
    this.skipped = skipped;
    await this.iptables.restore(out.text);
    // The jumps from built-in chains are re-checked on full resyncs only: they change only if
    // someone else flushes the node's tables.
    if (this.jumpsEnsuredAt === 0 || Date.now() - this.jumpsEnsuredAt >= this.cfg.syncPeriodMs) {
      await this.iptables.ensureJumps();
      this.jumpsEnsuredAt = Date.now();
    }
    if (this.cfg.loadBalancerCidr) {
      const lb = await syncLoopbackIPs(out.loadBalancerIPs, this.cfg.loadBalancerCidr);
      if (lb.added.length || lb.removed.length) this.log.info({ added: lb.added, removed: lb.removed }, 'load balancer addresses changed');
    }
    await clearUdpConntrack(goneUdpEndpoints(this.lastPorts, out.ports));
    this.lastPorts = out.ports;
    this.syncCount++;
    this.lastSyncAt = Date.now();
    const ms = performance.now() - t0;
    this.metrics.duration.observe(ms / 1000);
    this.metrics.rules.set(out.text.split('\n').filter((l) => l.startsWith('-A')).length);
    this.log.debug({ servicePorts: out.ports.length, ms: Math.round(ms) }, 'rules synced');
    return { requeueAfter: this.cfg.syncPeriodMs };
  }
}

/** Endpoint IPs that backed a UDP Service port before and no longer do. */
export function goneUdpEndpoints(before: readonly ServicePortInfo[], after: readonly ServicePortInfo[]): string[] {
  const now = new Map(after.map((p) => [`${p.id}/${p.protocol}`, new Set(p.endpoints)]));
  const gone = new Set<string>();
  for (const p of before) {
    if (p.protocol !== 'UDP') continue;
    const keep = now.get(`${p.id}/${p.protocol}`);
    for (const ep of p.endpoints) if (!keep?.has(ep)) gone.add(ep.split(':')[0] ?? ep);
  }
  return [...gone];
}

export async function startKubeProxy(cfg: KubeProxyConfig, signal: AbortSignal, deps: KubeProxyDeps = {}): Promise<RunningKubeProxy> {
  const log = (deps.logger ?? createLogger('kube-proxy')).child({ node: cfg.nodeName });
  const hostReason = hostNamespaceReason();
  if (!cfg.allowHostIptables && hostReason)
    throw new KubeProxyConfigError(`--allow-host-iptables: refusing to program iptables here: ${hostReason}, so the rules would land in the host firewall`);
  if (readSysctl('net.ipv4.ip_forward') !== '1')
    log.warn({ sysctl: 'net.ipv4.ip_forward' }, 'IP forwarding is off: pods on other hosts of the lab cannot reach Services through this node');
  if (readSysctl('net.ipv4.conf.all.send_redirects') === '1')
    log.warn({ sysctl: 'net.ipv4.conf.all.send_redirects' }, 'ICMP redirects are on: pods may be told to bypass this node for Service traffic');

  const client = deps.client ?? new ApiClient(cfg.apiserver, { tls: cfg.tls, token: cfg.token });
  const registry = newMetricsRegistry('kube-proxy');
  const metrics = {
    duration: new Histogram({ name: 'kubeproxy_sync_proxy_rules_duration_seconds', help: 'iptables sync duration', registers: [registry], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] }),
    rules: new Gauge({ name: 'kubeproxy_iptables_rules', help: 'Rules written by the last sync', registers: [registry] }),
  };
  const services = new Informer(client, 'services', { logger: log });
  const endpoints = new Informer(client, 'endpoints', { logger: log });
  const syncer = new ProxySyncer(cfg, services, endpoints, log, metrics);
  const runner = new ControllerRunner(syncer, { logger: log, workers: 1, registry, baseDelayMs: 200, maxDelayMs: 10_000 });
  const kick = (): void => {
    if (services.hasSynced() && endpoints.hasSynced()) runner.queue.addAfter(SYNC_KEY, cfg.minSyncPeriodMs);
  };
  services.addHandler({ onAdd: kick, onUpdate: kick, onDelete: kick });
  endpoints.addHandler({ onAdd: kick, onUpdate: kick, onDelete: kick });

  let admin: AdminServer | undefined;
  if (cfg.adminPort >= 0) {
    admin = await startAdminServer({
      port: cfg.adminPort,
      registry,
      healthy: () =>
        syncer.lastSyncAt === 0 || Date.now() - syncer.lastSyncAt < 2 * cfg.syncPeriodMs + 10_000 ? true : 'iptables rules have not synced recently',
      ready: () => (syncer.syncCount > 0 ? true : 'rules not synced yet'),
    });
  }
  services.start(signal);
  endpoints.start(signal);
  const done = (async () => {
    try {
      await Promise.all([services.waitForSync(signal), endpoints.waitForSync(signal)]);
      runner.enqueue(SYNC_KEY);
      log.info({ apiserver: cfg.apiserver }, 'kube-proxy started');
      await runner.run(signal);
    } catch (err) {
      if (!signal.aborted) log.error({ err: err instanceof Error ? err.message : String(err) }, 'kube-proxy stopped');
    } finally {
      await Promise.all([services.stopped(), endpoints.stopped()]);
      await admin?.close();
      if (!deps.client) client.close();
    }
  })();
  return {
    adminPort: admin?.port ?? -1,
    syncs: () => syncer.syncCount,
    stopped: () => done,
  };
}
