/**
 * The ingress controller: keeps nginx serving `buildModel(...)` of the cluster's Ingresses,
 * IngressClasses, Services, EndpointSlices and TLS Secrets. Level-triggered through the shared runner
 * with one key (as kube-proxy): any change enqueues "sync" after a short debounce; the reconcile re-reads
 * every cache, renders nginx.conf and, only when the text changed, tests it and reloads nginx
 * gracefully. Then it writes status.loadBalancer of the Ingresses it serves and records events.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram } from 'prom-client';
import { ApiClient } from '../client/api.js';
import { Informer } from '../client/informer.js';
import { ControllerRunner, type Reconciler, type Result } from '../client/runner.js';
import { newMetricsRegistry, startAdminServer, type AdminServer } from '../component-base/admin.js';
import { EventRecorder } from '../client/events.js';
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import { createLogger } from '../component-base/log.js';
import type { KObject, networking } from '../api/types.js';
import type { IngressConfig } from './config.js';
import { DEFAULT_CLASS_ANNOTATION, buildModel, type Model, type ModelInput, type Notice } from './model.js';
import { Nginx, NginxConfigError } from './nginx.js';
import { renderNginxConf, type RenderOptions } from './nginxconf.js';

const SYNC_KEY = 'sync';

export interface IngressDeps {
  logger?: Logger;
  client?: ApiClient;
}

/** A running controller; it stops when the start signal aborts. */
export interface RunningIngressController {
  readonly adminPort: number;
  /** Successful syncs so far. */
  syncs(): number;
  /** nginx reloads so far (configuration changes after the first start). */
  reloads(): number;
  /** Resolves with an error when nginx exits on its own (the process should end). */
  failed(): Promise<Error>;
  stopped(): Promise<void>;
}

class IngressSyncer implements Reconciler {
  readonly name = 'ingress-nginx';
  syncCount = 0;
  lastSyncAt = 0;
  private applied = '';
  private readonly certs = new Map<string, string>();
  /** Notices already recorded, so a resync does not repeat them. */
  private noticed = new Set<string>();
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly cfg: IngressConfig,
    private readonly client: ApiClient,
    private readonly nginx: Nginx,
    private readonly informers: {
      ingresses: Informer<'ingresses'>;
      classes: Informer<'ingressclasses'>;
      services: Informer<'services'>;
      slices: Informer<'endpointslices'>;
      secrets: Informer<'secrets'>;
    },
    private readonly recorder: EventRecorder,
    private readonly log: Logger,
    private readonly metrics: { duration: Histogram<string>; reloads: Counter<string>; upstreams: Gauge<string> },
  ) {}

  private input(exclude: ReadonlySet<string> = new Set()): ModelInput {
    const i = this.informers;
    return {
      ingresses: i.ingresses.list().filter((x) => !exclude.has(`${x.metadata?.namespace ?? ''}/${x.metadata?.name ?? ''}`)),
      classes: i.classes.list(),
      services: i.services.list(),
      slices: i.slices.list(),
      secrets: i.secrets.list().filter((s) => s.type === 'kubernetes.io/tls'),
      controller: this.cfg.controllerClass,
    };
  }

  private render(model: Model): string {
    const o: RenderOptions = {
      httpPort: this.cfg.httpPort,
      httpsPort: this.cfg.httpsPort,
      certDir: this.nginx.certDir,
      pidFile: this.nginx.pidFile,
      workerProcesses: this.cfg.workerProcesses,
    };
    return renderNginxConf(model, o);
  }

  async reconcile(): Promise<Result> {
    const t0 = performance.now();
    let model = buildModel(this.input());
    let text = this.render(model);
    const extraRefusals: Notice[] = [];
    if (text !== this.applied) {
      await this.nginx.syncCertificates(model.certificates, this.certs);
      try {
        await this.nginx.test(text);
      } catch (err) {
        if (!(err instanceof NginxConfigError)) throw err;
        // Validation should make this impossible; if nginx still refuses, find the Ingresses that make
        // it refuse (each tested alone) and serve the others, rather than nothing new at all.
        this.log.error({ err: err.message }, 'nginx refused the rendered configuration; testing Ingresses one by one');
        const bad = await this.findBreaking(model.accepted);
        for (const key of bad) extraRefusals.push({ ingress: key, type: 'Warning', reason: 'Rejected', message: `Ingress not served: nginx refused its configuration` });
        model = buildModel(this.input(new Set(bad)));
        text = this.render(model);
        await this.nginx.syncCertificates(model.certificates, this.certs);
        await this.nginx.test(text);
      }
      const first = this.applied === '';
      await this.nginx.apply(text);
      this.applied = text;
      if (!first) this.metrics.reloads.inc();
      this.log.info({ servers: model.servers.length, upstreams: model.upstreams.length, reload: !first }, first ? 'nginx started' : 'nginx reloaded');
    }
    this.metrics.upstreams.set(model.upstreams.length);
    this.recordNotices([...model.refused, ...extraRefusals, ...model.warnings]);
    const statusFailed = await this.updateStatuses(model.accepted);
    this.syncCount++;
    this.lastSyncAt = Date.now();
    this.metrics.duration.observe((performance.now() - t0) / 1000);
    // A status write that failed is retried soon; otherwise the next change or the full resync.
    return { requeueAfter: statusFailed ? 1000 : this.cfg.syncPeriodMs };
  }

  private async findBreaking(keys: readonly string[]): Promise<string[]> {
    const bad: string[] = [];
    for (const key of keys) {
      const only = new Set(keys.filter((k) => k !== key));
      const model = buildModel(this.input(only));
      await this.nginx.syncCertificates([...model.certificates], this.certs);
      try {
        await this.nginx.test(this.render(model));
      } catch (err) {
        if (err instanceof NginxConfigError) bad.push(key);
        else throw err;
      }
    }
    return bad;
  }

  private recordNotices(notices: readonly Notice[]): void {
    const now = new Set<string>();
    for (const n of notices) {
      const id = `${n.ingress}\u0000${n.reason}\u0000${n.message}`;
      now.add(id);
      if (this.noticed.has(id)) continue;
      const ing = this.informers.ingresses.get(n.ingress);
      if (!ing) continue;
      this.log.warn({ ingress: n.ingress, reason: n.reason, message: n.message }, 'ingress problem');
      this.recorder.event(ing as KObject, n.type, n.reason, n.message);
    }
    this.noticed = now;
  }

  /** Writes status.loadBalancer.ingress = [our address] where it differs; true when a write failed. */
  private async updateStatuses(accepted: readonly string[]): Promise<boolean> {
    const addr = this.cfg.publishStatusAddress;
    const want = /^\d/.test(addr) ? [{ ip: addr }] : [{ hostname: addr }];
    let failed = false;
    for (const key of accepted) {
      const ing = this.informers.ingresses.get(key);
      if (!ing) continue;
      const gen = ing.metadata?.generation ?? 0;
      if (this.generations.get(key) !== gen) {
        this.generations.set(key, gen);
        this.recorder.event(ing as KObject, 'Normal', 'Sync', 'Scheduled for sync');
      }
      const have = ing.status?.loadBalancer?.ingress ?? [];
      if (JSON.stringify(have) === JSON.stringify(want)) continue;
      const next = structuredClone(ing) as networking.Ingress;
      (next as { status?: networking.IngressStatus }).status = { loadBalancer: { ingress: want } };
      try {
        await this.client.updateStatus('ingresses', next);
      } catch (err) {
        if (isNotFound(err)) continue;
        if (!isConflict(err)) this.log.warn({ ingress: key, err: (err as Error).message }, 'ingress status not written');
        failed = true;
      }
    }
    for (const key of [...this.generations.keys()]) if (!accepted.includes(key)) this.generations.delete(key);
    return failed;
  }
}

/** Creates the controller's IngressClass when absent (the ingress-nginx chart ships one). */
async function ensureIngressClass(client: ApiClient, cfg: IngressConfig, log: Logger): Promise<void> {
  if (!cfg.ingressClass) return;
  const ic: networking.IngressClass = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: {
      name: cfg.ingressClass,
      labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
      ...(cfg.defaultClass ? { annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } } : {}),
    },
    spec: { controller: cfg.controllerClass },
  };
  try {
    await client.create('ingressclasses', ic);
    log.info({ ingressClass: cfg.ingressClass, default: cfg.defaultClass }, 'IngressClass created');
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

export async function startIngressController(cfg: IngressConfig, signal: AbortSignal, deps: IngressDeps = {}): Promise<RunningIngressController> {
  const log = deps.logger ?? createLogger('ingress');
  // Five informers, the runner and the admin server each listen on it.
  setMaxListeners(32, signal);
  const client = deps.client ?? new ApiClient(cfg.apiserver, { tls: cfg.tls });
  const registry = newMetricsRegistry('ingress');
  const metrics = {
    duration: new Histogram({ name: 'ingress_sync_duration_seconds', help: 'Render, test and reload duration', registers: [registry], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] }),
    reloads: new Counter({ name: 'ingress_nginx_reloads_total', help: 'Graceful nginx reloads', registers: [registry] }),
    upstreams: new Gauge({ name: 'ingress_upstreams', help: 'Upstreams (Service ports) in the running configuration', registers: [registry] }),
  };
  const nginx = new Nginx({ binary: cfg.nginxBinary, confDir: cfg.confDir, logger: log });
  await nginx.prepare();
  const informers = {
    ingresses: new Informer(client, 'ingresses', { logger: log }),
    classes: new Informer(client, 'ingressclasses', { logger: log }),
    services: new Informer(client, 'services', { logger: log }),
    slices: new Informer(client, 'endpointslices', { logger: log }),
    secrets: new Informer(client, 'secrets', { logger: log }),
  };
  const recorder = new EventRecorder(client, { component: 'nginx-ingress-controller' }, log);
  const syncer = new IngressSyncer(cfg, client, nginx, informers, recorder, log, metrics);
  const runner = new ControllerRunner(syncer, { logger: log, workers: 1, registry, baseDelayMs: 200, maxDelayMs: 10_000 });
  const all = Object.values(informers);
  const kick = (): void => {
    if (all.every((i) => i.hasSynced())) runner.queue.addAfter(SYNC_KEY, cfg.minSyncPeriodMs);
  };
  for (const inf of all) (inf as Informer<string>).addHandler({ onAdd: kick, onUpdate: kick, onDelete: kick });

  let admin: AdminServer | undefined;
  if (cfg.adminPort >= 0) {
    admin = await startAdminServer({
      port: cfg.adminPort,
      registry,
      healthy: () => (syncer.syncCount === 0 || nginx.running() ? true : 'nginx is not running'),
      ready: () => (syncer.syncCount > 0 ? true : 'nginx not configured yet'),
    });
  }
  await ensureIngressClass(client, cfg, log);
  for (const inf of all) inf.start(signal);
  const failed = nginx.whenExited().then((code) => new Error(`nginx exited (code ${String(code)})`));
  const done = (async () => {
    try {
      await Promise.all(all.map((i) => i.waitForSync(signal)));
      runner.enqueue(SYNC_KEY);
      log.info({ apiserver: cfg.apiserver, controller: cfg.controllerClass, address: cfg.publishStatusAddress }, 'ingress controller started');
      await runner.run(signal);
    } catch (err) {
      if (!signal.aborted) log.error({ err: err instanceof Error ? err.message : String(err) }, 'ingress controller stopped');
    } finally {
      await Promise.all(all.map((i) => i.stopped()));
      await nginx.stop();
      await admin?.close();
      if (!deps.client) client.close();
    }
  })();
  return {
    adminPort: admin?.port ?? -1,
    syncs: () => syncer.syncCount,
    reloads: () => nginx.reloads,
    failed: () => failed,
    stopped: () => done,
  };
}
