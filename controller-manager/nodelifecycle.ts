/**
 * Node lifecycle controller: watches Nodes and their Leases in kube-node-lease. A node whose lease (or
 * Ready heartbeat) has not changed for --node-monitor-grace-period, measured on this process's clock
 * from when the change was observed, gets all conditions Unknown ("Kubelet stopped posting node
 * status."), its pods marked Ready=False, and the unreachable taints. Ready=False → not-ready taints.
 * NoExecute taints are added at --node-eviction-rate nodes per second (Kubernetes rate-limits tainting,
 * not pod deletions); a node that is Ready again is untainted at once.
 *
 * Lab preset only (not Kubernetes): with `dockerDeathConfirmMs` and the lab's cluster name, a node whose
 * container Docker reports dead (nodedeath.ts) is treated as if its grace period had run out.
 */
import { Histogram } from 'prom-client';
import { isConflict, isNotFound } from '../api/errors.js';
import { nodeCondition, nowTimestamp } from '../api/objects.js';
import type { core } from '../api/types.js';
import { TokenBucket, type Controller, type ControllerContext, type Enqueue } from './context.js';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, desiredConditionTaintKey } from './taints.js';
import { writable, type Node, type Pod } from './types.js';
import { watchNodeDeaths } from './nodedeath.js';

interface Probe {
  record: string;
  observedAt: number;
}

export class NodeLifecycleController implements Controller {
  readonly name = 'nodelifecycle';
  readonly primary = 'nodes' as const;
  readonly workers = 2;
  private readonly nodes;
  private readonly leases;
  private readonly pods;
  private readonly probes = new Map<string, Probe>();
  private readonly tainter: TokenBucket;
  /** When any Lease event last arrived: our view of the cluster is only as fresh as this. */
  private lastLeaseEventAt: number;
  /** Whether the last reconcile found no recent Lease event (logged once per such stretch). */
  private blind = false;
  private readonly leaseLag?: Histogram;
  private lagWarnedAt = -Infinity;
  /** Nodes whose container Docker reported dead (lab signal), with the heartbeat record seen then. */
  private readonly dead = new Map<string, string | undefined>();
  private q?: Enqueue;

  constructor(private readonly ctx: ControllerContext) {
    this.nodes = ctx.informers.get('nodes');
    this.leases = ctx.informers.get('leases');
    this.pods = ctx.informers.get('pods');
    this.tainter = new TokenBucket(ctx.config.nodeEvictionRate, 1, ctx.clock);
    this.lastLeaseEventAt = ctx.clock.now();
    // One per process (a new leadership term builds new controllers on the same registry).
    const metric = 'kubelab_node_lease_observed_lag_seconds';
    this.leaseLag = ctx.registry
      ? ((ctx.registry.getSingleMetric(metric) as Histogram | undefined) ??
        new Histogram({
          name: metric,
          help: 'Age of a node Lease renewal when the node lifecycle controller sees it (watch delivery lag plus clock skew)',
          buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160],
          registers: [ctx.registry],
        }))
      : undefined;
  }

  register(q: Enqueue): void {
    this.q = q;
    this.nodes.addHandler({
      onAdd: (n) => q.add(n.metadata?.name ?? ''),
      onUpdate: (_o, n) => q.add(n.metadata?.name ?? ''),
      onDelete: (n) => {
        this.probes.delete(n.metadata?.name ?? '');
      },
    });
    const onLease = (l: { metadata?: { namespace?: string; name?: string }; spec?: { renewTime?: string } }): void => {
      const now = this.ctx.clock.now();
      this.lastLeaseEventAt = now;
      if (l.metadata?.namespace !== 'kube-node-lease') return;
      q.add(l.metadata.name ?? '');
      this.observeLeaseLag(now, l.spec?.renewTime);
    };
    this.leases.addHandler({ onAdd: onLease, onUpdate: (_o, l) => onLease(l) });
  }

  /**
   * How old a renewal is when we see it: the kubelet stamps renewTime as it writes, so this is the watch's delivery
   * lag (plus any clock skew). A lag near the grace period means we judge nodes on a stale view: logged, at most
   * every 30 s, and exported as kubelab_node_lease_observed_lag_seconds.
   */
  private observeLeaseLag(now: number, renewTime: string | undefined): void {
    const at = renewTime ? Date.parse(renewTime) : NaN;
    if (!Number.isFinite(at)) return;
    const lagMs = Math.max(0, now - at);
    this.leaseLag?.observe(lagMs / 1000);
    if (lagMs > this.ctx.config.nodeMonitorGracePeriodMs / 2 && now - this.lagWarnedAt > 30_000) {
      this.lagWarnedAt = now;
      this.ctx.log.warn({ lagMs, graceMs: this.ctx.config.nodeMonitorGracePeriodMs }, 'node Lease renewals reach us late: our watch is behind');
    }
  }

  /** Lab preset: follow the node containers' deaths in Docker (runs while this instance leads). */
  async afterSync(signal: AbortSignal): Promise<void> {
    const { config, clock, log } = this.ctx;
    if (config.dockerDeathConfirmMs === undefined || !config.clusterName) return;
    const onLost = (node: string): void => {
      this.dead.set(node, this.probes.get(node)?.record);
      this.q?.add(node);
    };
    const onBack = (node: string): void => {
      this.dead.delete(node);
      this.q?.add(node);
    };
    void watchNodeDeaths({ cluster: config.clusterName, confirmMs: config.dockerDeathConfirmMs, onLost, onBack, log, clock }, signal).catch((err: unknown) =>
      log.warn({ err: (err as Error).message }, 'docker node watch ended'),
    );
  }

  async reconcile(name: string): Promise<{ requeueAfter: number } | void> {
    const node = this.nodes.get(name);
    if (!node) {
      this.probes.delete(name);
      this.dead.delete(name);
      return;
    }
    const { clock, config } = this.ctx;
    const now = clock.now();
    const lease = this.leases.get(`kube-node-lease/${name}`);
    const ready = nodeCondition(node, 'Ready');
    const record = `${lease?.spec?.renewTime ?? ''}|${ready?.lastHeartbeatTime ?? ''}|${ready?.status ?? ''}`;
    let probe = this.probes.get(name);
    if (!probe || probe.record !== record) this.probes.set(name, (probe = { record, observedAt: now }));
    // Leases (node heartbeats, leader elections) change every few seconds in a healthy cluster. When none
    // has arrived for half a grace period, it is we who cannot see (apiserver down, watch broken), not the
    // nodes who died: restart every node's grace period instead of declaring them all lost at once.
    if (now - this.lastLeaseEventAt > config.nodeMonitorGracePeriodMs / 2) {
      probe.observedAt = now;
      if (!this.blind) this.ctx.log.warn({ sinceMs: now - this.lastLeaseEventAt }, 'no Lease event for half a grace period: our view is stale, not the nodes; restarting every node grace period');
      this.blind = true;
    } else if (this.blind) {
      this.blind = false;
      this.ctx.log.info('Lease events arrive again: node grace periods run again');
    }
    const grace = ready ? config.nodeMonitorGracePeriodMs : config.nodeStartupGracePeriodMs;
    const readyStatus = ready?.status;
    // A heartbeat seen after the container's death was confirmed: the kubelet is back, whatever Docker said.
    if (this.dead.has(name) && this.dead.get(name) !== record) this.dead.delete(name);
    const died = this.dead.has(name);
    if ((died || now - probe.observedAt > grace) && readyStatus !== 'Unknown') {
      const updated = await this.markUnknown(node, died ? 'Node container stopped (lab: reported by Docker).' : 'Kubelet stopped posting node status.');
      if (!updated) return;
      // As Kubernetes' monitorNodeHealth: the taint follows in the same pass (not one informer round
      // trip later), then the pods are marked not ready.
      const wait = await this.reconcileTaints(updated, 'Unknown');
      await this.markPodsNotReady(name);
      return { requeueAfter: Math.max(50, Math.min(config.nodeMonitorPeriodMs, wait ?? Infinity)) };
    }
    const wait = await this.reconcileTaints(node, readyStatus);
    const untilStale = probe.observedAt + grace - now + 50;
    return { requeueAfter: Math.max(50, Math.min(config.nodeMonitorPeriodMs, untilStale, wait ?? Infinity)) };
  }

  /** Sets every condition Unknown; returns the stored node, or undefined when it is gone. */
  private async markUnknown(node: Node, message: string): Promise<Node | undefined> {
    const name = node.metadata?.name ?? '';
    const ts = nowTimestamp(this.ctx.clock.now());
    const next = writable(node);
    const conds = next.status?.conditions?.length ? next.status.conditions : [{ type: 'Ready', status: 'Unknown' }];
    next.status = {
      ...next.status,
      conditions: conds.map((c) => ({
        ...c,
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message,
        lastTransitionTime: c.status === 'Unknown' ? c.lastTransitionTime : ts,
      })),
    };
    let stored: Node;
    try {
      stored = (await this.ctx.client.updateStatus('nodes', next)) as Node;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    this.ctx.log.info({ node: name }, 'node stopped posting status; marked Unknown');
    this.ctx.recorder.event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    return stored;
  }

  /** Pods on a lost node cannot report: mark them not ready so endpoints drop them at once. */
  private async markPodsNotReady(nodeName: string): Promise<void> {
    const ts = nowTimestamp(this.ctx.clock.now());
    const mark = async (pod: Pod): Promise<void> => {
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') return;
      const conds = pod.status?.conditions ?? [];
      if (conds.find((c) => c.type === 'Ready')?.status === 'False') return;
      const next = writable(pod);
      const others = conds.filter((c) => c.type !== 'Ready');
      next.status = { ...next.status, conditions: [...others, { type: 'Ready', status: 'False', lastTransitionTime: ts }] };
      try {
        await this.ctx.client.updateStatus('pods', next);
        this.ctx.recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    };
    // Concurrently: endpoints should drop all of them at once, not one round trip after another.
    const results = await Promise.allSettled(this.pods.byIndex('node', nodeName).map(mark));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Makes the node's condition taints match its Ready status; returns ms to wait for the rate limiter. */
  private async reconcileTaints(node: Node, readyStatus: string | undefined): Promise<number | undefined> {
    const name = node.metadata?.name ?? '';
    const want = desiredConditionTaintKey(readyStatus);
    const taints = node.spec?.taints ?? [];
    const ours = (t: core.Taint): boolean => t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY;
    const kept = taints.filter((t) => !ours(t));
    const has = (effect: string): core.Taint | undefined => taints.find((t) => t.key === want && t.effect === effect);
    let wait: number | undefined;
    const next: core.Taint[] = [...kept];
    if (want) {
      next.push(has('NoSchedule') ?? { key: want, effect: 'NoSchedule', timeAdded: nowTimestamp(this.ctx.clock.now()) });
      const existing = has('NoExecute');
      // Full disruption (no node Ready), as Kubernetes: evictions stop, since they could place pods nowhere.
      // (This node is not Ready — `want` says so — even if the cache has not seen it yet.)
      const fullDisruption = this.nodes.list().every((n) => n.metadata?.name === name || nodeCondition(n, 'Ready')?.status !== 'True');
      // Swapping unreachable <-> not-ready is not a new eviction wave: keep the original time.
      const swapped = taints.find((t) => ours(t) && t.effect === 'NoExecute');
      if (existing) next.push(existing);
      else if (swapped) next.push({ key: want, effect: 'NoExecute', timeAdded: swapped.timeAdded });
      else if (fullDisruption) this.ctx.log.warn({ node: name }, 'no node is Ready: full disruption, not evicting');
      else {
        const w = this.tainter.take();
        if (w === 0) next.push({ key: want, effect: 'NoExecute', timeAdded: nowTimestamp(this.ctx.clock.now()) });
        else wait = w;
      }
    }
    const same = next.length === taints.length && next.every((t) => taints.some((o) => o.key === t.key && o.effect === t.effect && o.timeAdded === t.timeAdded));
    if (same) return wait;
    const upd = writable(node);
    upd.spec = { ...upd.spec, taints: next.length ? next : undefined };
    delete upd.status; // the kubelet owns status; an update without it keeps the stored one
    try {
      await this.ctx.client.update('nodes', upd);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    this.ctx.log.info({ node: name, taints: next.map((t) => `${t.key}:${t.effect}`) }, 'node taints updated');
    return wait;
  }
}
