/**
 * Keeps `default/kubernetes` — the Service in front of the apiserver and its Endpoints — in place, as
 * kube-apiserver's kubernetesservice controller does: every cluster has it, and deleting it only
 * makes the apiserver put it back. Level-triggered: a change to either object (seen on the watch
 * caches) or the periodic tick runs one reconcile that reads the current state and fixes what differs.
 */
import type { Logger } from 'pino';
import { ApiError } from '../api/errors.js';
import type { core, KObject } from '../api/types.js';
import type { Registry } from './registry.js';

export interface KubernetesServiceOptions {
  /** The apiserver's REST port (the Service's targetPort and the Endpoints port). */
  readonly httpPort: number;
  /** This apiserver's address, the Endpoints address. */
  readonly advertiseAddress: string;
  /** How often the state is re-checked even when no watch event came. */
  readonly intervalMs: number;
}

const NAMESPACE = 'default';
const NAME = 'kubernetes';

export class KubernetesServiceController {
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** A create refused because the address is still held: retried soon, backing off to the sync interval. */
  private retry: { timer: NodeJS.Timeout; delayMs: number } | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly opts: KubernetesServiceOptions,
    private readonly log: Logger,
  ) {}

  /** Creates the objects (replacing stale Endpoints of an earlier run), then keeps them. */
  async start(): Promise<void> {
    await this.reconcile(true);
    await this.subscribe();
    this.timer = setInterval(() => {
      if (this.unsubscribe.length === 0) void this.subscribe().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'kubernetes service watch failed'));
      this.kick();
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retry?.timer);
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** Resolves once no reconcile is running or queued (tests wait on it instead of on the clock). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async subscribe(): Promise<void> {
    for (const resource of ['services', 'endpoints']) {
      const unsub = await this.registry.watch(resource, NAMESPACE, { fieldSelector: `metadata.name=${NAME}` }, {
        send: () => {
          this.kick();
          return true;
        },
        // A closed watch is re-opened by the next tick.
        close: () => this.unsubscribe.splice(0).forEach((u) => u()),
      });
      this.unsubscribe.push(unsub);
    }
  }

  /** Runs one reconcile; a kick during a run queues exactly one more. */
  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.reconcile(false)
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'kubernetes service reconcile failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async reconcile(replaceEndpoints: boolean): Promise<void> {
    await this.ensureService();
    await this.ensureEndpoints(replaceEndpoints);
  }

  private async ensureService(): Promise<void> {
    const cur = await this.getOrUndefined('services');
    if (cur) {
      this.retryDone();
      return;
    }
    try {
      await this.registry.create('services', NAMESPACE, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: NAME, namespace: NAMESPACE, labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: { type: 'ClusterIP', clusterIP: this.registry.allocators.wellKnownIp(1), ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: this.opts.httpPort }] },
      });
      this.log.info('created the kubernetes service');
      this.retryDone();
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'AlreadyExists') return;
      if (!(err instanceof ApiError && err.reason === 'Invalid')) throw err;
      // The well-known address is still held: by the Service just deleted (the apiserver releases its address
      // after the delete, which this controller saw first), or by another Service. Try again soon, backing off
      // to the sync interval, so a deleted kubernetes Service is back within a second, as its watch promises.
      const delayMs = Math.min(this.retry ? this.retry.delayMs * 2 : 100, this.opts.intervalMs);
      if (delayMs >= this.opts.intervalMs) this.log.warn({ err: err.message }, 'could not create the kubernetes service');
      this.retrySoon(delayMs);
    }
  }

  private retrySoon(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.retry?.timer);
    const timer = setTimeout(() => this.kick(), delayMs);
    timer.unref();
    this.retry = { timer, delayMs };
  }

  private retryDone(): void {
    clearTimeout(this.retry?.timer);
    this.retry = undefined;
  }

  /**
   * At start the Endpoints become exactly this apiserver; later this apiserver's address is only
   * added when missing, so a second apiserver's address is not fought over on every tick.
   */
  private async ensureEndpoints(replace: boolean): Promise<void> {
    const cur = (await this.getOrUndefined('endpoints')) as core.Endpoints | undefined;
    const port: core.EndpointPort = { name: 'https', port: this.opts.httpPort, protocol: 'TCP' };
    const mine = (s: core.EndpointSubset): boolean => (s.addresses ?? []).some((a) => a.ip === this.opts.advertiseAddress) && (s.ports ?? []).some((p) => p.port === port.port);
    if (cur && !replace && (cur.subsets ?? []).some(mine)) return;
    const others = replace ? [] : (cur?.subsets ?? []).flatMap((s) => s.addresses ?? []).filter((a) => a.ip !== this.opts.advertiseAddress);
    const desired: KObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: NAME, namespace: NAMESPACE, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [...others, { ip: this.opts.advertiseAddress }], ports: [port] }],
    };
    try {
      if (cur) await this.registry.update('endpoints', NAMESPACE, NAME, desired);
      else await this.registry.create('endpoints', NAMESPACE, desired);
    } catch (err) {
      // Someone else wrote in between: the watch event of that write runs the next reconcile.
      if (err instanceof ApiError && (err.reason === 'AlreadyExists' || err.reason === 'Conflict' || err.reason === 'NotFound')) return;
      throw err;
    }
  }

  private async getOrUndefined(resource: string): Promise<KObject | undefined> {
    try {
      return await this.registry.get(resource, NAMESPACE, NAME);
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
      throw err;
    }
  }
}
