/**
 * HorizontalPodAutoscaler controller (autoscaling/v2), Kubernetes' reconcileAutoscaler: every sync period
 * it reads the target's `scale` subresource, the pods its selector picks and their usage from the metrics
 * scraper's store, computes a recommendation per Resource metric (hpacalc.ts), stabilizes and rate-limits
 * it, writes the new size through `scale`, and reports conditions (AbleToScale, ScalingActive,
 * ScalingLimited), current metrics and events as upstream words them.
 *
 * Usage is read from the in-process MetricsStore instead of through the apiserver's metrics.k8s.io: both
 * run in the leading controller-manager, and the store is what that API serves (docs/metrics.md).
 */
import { isNotFound } from '../api/errors.js';
import { nowTimestamp } from '../api/objects.js';
import { parseQuantity } from '../api/quantity.js';
import { parseLabelSelector } from '../api/selectors.js';
import { splitKey, type autoscaling, type core, type KObject } from '../api/types.js';
import type { Controller, ControllerContext, Enqueue } from './context.js';
import { enqueueFor, generationChanged } from './handlers.js';
import {
  limitByBehavior,
  limitWithoutBehavior,
  MetricError,
  pruneEvents,
  resourceReplicas,
  stabilize,
  stabilizeWithoutBehavior,
  type Behavior,
  type CalcOptions,
  type Condition,
  type PodInfo,
  type PodMetric,
  type ScaleEvent,
  type ScalingRules,
  type Target,
  type TimedRecommendation,
} from './hpacalc.js';

type Hpa = autoscaling.HorizontalPodAutoscaler;
type HpaCondition = autoscaling.HorizontalPodAutoscalerCondition;
type MetricStatus = autoscaling.MetricStatus;

const SCALABLE: Record<string, 'deployments' | 'replicasets' | 'statefulsets'> = {
  Deployment: 'deployments',
  ReplicaSet: 'replicasets',
  StatefulSet: 'statefulsets',
};

interface Scale extends KObject {
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

/** Per-HPA memory the algorithm needs between syncs (upstream keeps the same in the controller). */
interface HpaState {
  recommendations: TimedRecommendation[];
  upEvents: ScaleEvent[];
  downEvents: ScaleEvent[];
}

const mutable = <T>(v: T): { -readonly [K in keyof T]: T[K] } => v as { -readonly [K in keyof T]: T[K] };

export class HorizontalPodAutoscalerController implements Controller {
  readonly name = 'horizontalpodautoscaling';
  readonly primary = 'horizontalpodautoscalers' as const;
  private readonly hpas;
  private readonly pods;
  private readonly state = new Map<string, HpaState>();

  constructor(private readonly ctx: ControllerContext) {
    this.hpas = ctx.informers.get('horizontalpodautoscalers');
    this.pods = ctx.informers.get('pods');
  }

  register(q: Enqueue): void {
    // Our own status writes come back as updates: only a spec change warrants an early sync.
    enqueueFor(this.hpas, q, { updated: generationChanged });
  }

  async reconcile(key: string): Promise<{ requeueAfter?: number }> {
    const cached = this.hpas.get(key);
    if (!cached) {
      this.state.delete(key);
      return {};
    }
    const period = this.ctx.config.hpaSyncPeriodMs;
    const hpa = structuredClone(cached);
    const conditions = new Map<string, HpaCondition>((hpa.status?.conditions ?? []).map((c) => [c.type, c]));
    const setCondition = (type: string, status: 'True' | 'False', reason: string, message: string): void => {
      const old = conditions.get(type);
      const now = nowTimestamp(this.ctx.clock.now());
      conditions.set(type, { type, status, reason, message, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now });
    };
    const { namespace } = splitKey(key);
    const spec = hpa.spec;
    const ref = spec?.scaleTargetRef;
    const resource = ref ? SCALABLE[ref.kind] : undefined;
    const reference = `${ref?.kind ?? ''}/${ref?.name ?? ''}`;
    const finish = async (status: Partial<autoscaling.HorizontalPodAutoscalerStatus>): Promise<{ requeueAfter: number }> => {
      await this.writeStatus(hpa, { ...status, conditions: [...conditions.values()] });
      return { requeueAfter: period };
    };

    if (!spec || !ref || !resource) {
      const msg = `the HPA controller was unable to get the target's current scale: no scale subresource for kind "${ref?.kind ?? ''}"`;
      setCondition('AbleToScale', 'False', 'FailedGetScale', msg);
      this.ctx.recorder.event(hpa, 'Warning', 'FailedGetScale', msg);
      return finish({ currentReplicas: hpa.status?.currentReplicas ?? 0, desiredReplicas: hpa.status?.desiredReplicas ?? 0 });
    }
    let scale: Scale;
    try {
      scale = (await this.ctx.client.get(resource, ref.name, { namespace, subresource: 'scale' })) as Scale;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const msg = `the HPA controller was unable to get the target's current scale: ${resource}.apps "${ref.name}" not found`;
      setCondition('AbleToScale', 'False', 'FailedGetScale', msg);
      this.ctx.recorder.event(hpa, 'Warning', 'FailedGetScale', msg);
      return finish({ currentReplicas: 0, desiredReplicas: hpa.status?.desiredReplicas ?? 0 });
    }
    setCondition('AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");

    const current = scale.spec?.replicas ?? 0;
    const min = spec.minReplicas ?? 1;
    const max = spec.maxReplicas;
    let desired = 0;
    let rescaleReason = '';
    let metricStatuses: MetricStatus[] = hpa.status?.currentMetrics ?? [];
    let rescale = true;
    if (current === 0 && min !== 0) {
      rescale = false;
      setCondition('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (current > max) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desired = max;
    } else if (current < min) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desired = min;
    } else {
      const computed = this.computeReplicas(hpa, scale, namespace, current);
      metricStatuses = computed.statuses;
      if (computed.replicas === undefined) {
        setCondition('ScalingActive', 'False', computed.reason, `the HPA was unable to compute the replica count: ${computed.error}`);
        this.ctx.recorder.event(hpa, 'Warning', computed.reason, computed.error);
        this.ctx.recorder.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', `invalid metrics (${computed.failed} invalid out of ${spec.metrics?.length ?? 0}), first error is: ${computed.error}`);
        return finish({ currentReplicas: current, desiredReplicas: hpa.status?.desiredReplicas ?? current, currentMetrics: metricStatuses });
      }
      setCondition('ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${computed.metricName}`);
      desired = computed.replicas;
      if (desired > current) rescaleReason = `${computed.metricName} above target`;
      if (desired < current) rescaleReason = 'All metrics below target';
      desired = this.normalize(key, hpa, current, desired, min, max, setCondition);
      rescale = desired !== current;
    }

    let lastScaleTime = hpa.status?.lastScaleTime;
    if (rescale) {
      try {
        await this.ctx.client.update(resource, { ...scale, spec: { ...scale.spec, replicas: desired } } as never, { subresource: 'scale' });
      } catch (err) {
        const msg = `the HPA controller was unable to update the target scale: ${(err as Error).message}`;
        setCondition('AbleToScale', 'False', 'FailedUpdateScale', msg);
        this.ctx.recorder.event(hpa, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${rescaleReason}; error: ${(err as Error).message}`);
        await this.writeStatus(hpa, { currentReplicas: current, desiredReplicas: hpa.status?.desiredReplicas ?? current, currentMetrics: metricStatuses, conditions: [...conditions.values()] });
        throw err;
      }
      setCondition('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      this.ctx.recorder.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${rescaleReason}`);
      this.recordScaleEvent(key, current, desired);
      lastScaleTime = nowTimestamp(this.ctx.clock.now());
      this.ctx.log.info({ controller: this.name, key, reference, from: current, to: desired, reason: rescaleReason }, 'rescaled');
    } else desired = current;
    return finish({ currentReplicas: current, desiredReplicas: desired, currentMetrics: metricStatuses, ...(lastScaleTime ? { lastScaleTime } : {}) });
  }

  /** computeReplicasForMetrics: the largest proposal over the valid metrics; undefined when none is valid. */
  private computeReplicas(
    hpa: Hpa,
    scale: Scale,
    namespace: string,
    current: number,
  ): { replicas: number; metricName: string; statuses: MetricStatus[] } | { replicas: undefined; reason: string; error: string; failed: number; statuses: MetricStatus[] } {
    const metrics = hpa.spec?.metrics ?? [];
    const statuses: MetricStatus[] = [];
    let best: { replicas: number; name: string } | undefined;
    let firstError: { reason: string; error: string } | undefined;
    let failed = 0;
    let selector;
    try {
      if (!scale.status?.selector) throw new Error('selector is required');
      selector = parseLabelSelector(scale.status.selector);
    } catch (err) {
      return { replicas: undefined, reason: 'InvalidSelector', error: `couldn't convert selector into a corresponding internal selector object: ${(err as Error).message}`, failed: metrics.length, statuses };
    }
    const pods = this.pods.byNamespace(namespace, selector);
    for (const m of metrics) {
      const res = m.type === 'Resource' ? m.resource : undefined;
      if (!res || (res.name !== 'cpu' && res.name !== 'memory')) {
        failed++;
        statuses.push({ type: '' });
        firstError ??= { reason: 'InvalidMetricSourceType', error: `the HPA controller does not serve metric type "${m.type}"${res ? ` for resource "${res.name}"` : ''}` };
        continue;
      }
      const isCpu = res.name === 'cpu';
      let target: Target;
      if (res.target.type === 'Utilization' && res.target.averageUtilization !== undefined) target = { type: 'Utilization', averageUtilization: res.target.averageUtilization };
      else if (res.target.type === 'AverageValue' && res.target.averageValue !== undefined) target = { type: 'AverageValue', averageValue: milli(res.target.averageValue) };
      else {
        failed++;
        statuses.push({ type: '' });
        firstError ??= { reason: 'FailedGetResourceMetric', error: `invalid resource metric source: neither a utilization target nor a value target was set` };
        continue;
      }
      try {
        const rec = resourceReplicas(current, target, pods.map((p) => podInfo(p, res.name)), this.usage(namespace, pods, isCpu), isCpu, this.calcOptions());
        const name = `${res.name} resource${target.type === 'Utilization' ? ' utilization (percentage of request)' : ''}`;
        if (!best || rec.replicas > best.replicas) best = { replicas: rec.replicas, name };
        statuses.push({
          type: 'Resource',
          resource: {
            name: res.name,
            current: { averageValue: formatMilli(rec.averageValue, isCpu), ...(target.type === 'Utilization' ? { averageUtilization: rec.utilization } : {}) },
          },
        });
      } catch (err) {
        if (!(err instanceof MetricError)) throw err;
        failed++;
        statuses.push({ type: '' });
        firstError ??= { reason: 'FailedGetResourceMetric', error: `failed to get ${res.name} utilization: unable to get metrics for resource ${res.name}: ${err.message}` };
      }
    }
    // As upstream: with an invalid metric, never scale down on the valid ones alone.
    if (!best || (failed > 0 && best.replicas < current))
      return { replicas: undefined, ...(firstError ?? { reason: 'FailedGetResourceMetric', error: 'no metrics' }), failed, statuses };
    return { replicas: best.replicas, metricName: best.name, statuses };
  }

  /** Pod usage (milli-units: millicores, or bytes × 1000) from the store, summed over containers. */
  private usage(namespace: string, pods: readonly core.Pod[], isCpu: boolean): Map<string, PodMetric> {
    const out = new Map<string, PodMetric>();
    for (const p of pods) {
      const name = p.metadata?.name ?? '';
      const u = this.ctx.metrics.pod(namespace, name);
      if (!u) continue;
      const value = u.containers.reduce((s, c) => s + (isCpu ? c.cpuNanoCores / 1e6 : c.memoryBytes * 1000), 0);
      out.set(name, { value, timestamp: u.timestamp, windowMs: u.windowMs });
    }
    return out;
  }

  private calcOptions(): CalcOptions {
    const c = this.ctx.config;
    return { tolerance: c.hpaTolerance, cpuInitializationPeriodMs: c.hpaCpuInitializationPeriodMs, delayOfInitialReadinessMs: c.hpaInitialReadinessDelayMs, now: this.ctx.clock.now() };
  }

  /** normalizeDesiredReplicas(WithBehaviors): stabilization, then rate and min/max limits, with their conditions. */
  private normalize(key: string, hpa: Hpa, current: number, desired: number, min: number, max: number, setCondition: (t: string, s: 'True' | 'False', r: string, m: string) => void): number {
    const now = this.ctx.clock.now();
    const st = this.stateOf(key);
    const windowS = Math.round(this.ctx.config.hpaDownscaleStabilizationMs / 1000);
    let stabilized: number;
    let limited: { replicas: number; condition: Condition };
    let stabilizedCondition: Condition;
    const behavior = hpa.spec?.behavior ? toBehavior(hpa.spec.behavior, windowS) : undefined;
    if (behavior) {
      const s = stabilize(current, desired, behavior, st.recommendations, now);
      st.recommendations = s.history;
      stabilized = s.replicas;
      stabilizedCondition = s.condition;
      st.upEvents = pruneEvents(st.upEvents, behavior.scaleUp, now);
      st.downEvents = pruneEvents(st.downEvents, behavior.scaleDown, now);
      limited = limitByBehavior({ current, desired: stabilized, min, max, behavior, upEvents: st.upEvents, downEvents: st.downEvents }, now);
    } else {
      const s = stabilizeWithoutBehavior(desired, windowS * 1000, st.recommendations, now);
      st.recommendations = s.history;
      stabilized = s.replicas;
      stabilizedCondition = { reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
      limited = limitWithoutBehavior(current, stabilized, min, max);
    }
    if (stabilized !== desired) setCondition('AbleToScale', 'True', stabilizedCondition.reason, stabilizedCondition.message);
    else setCondition('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    setCondition('ScalingLimited', limited.replicas === stabilized ? 'False' : 'True', limited.condition.reason, limited.condition.message);
    return limited.replicas;
  }

  private recordScaleEvent(key: string, from: number, to: number): void {
    const st = this.stateOf(key);
    const at = this.ctx.clock.now();
    if (to > from) st.upEvents.push({ change: to - from, at });
    else if (to < from) st.downEvents.push({ change: from - to, at });
  }

  private stateOf(key: string): HpaState {
    let st = this.state.get(key);
    if (!st) {
      st = { recommendations: [], upEvents: [], downEvents: [] };
      this.state.set(key, st);
    }
    return st;
  }

  private async writeStatus(hpa: Hpa, status: Partial<autoscaling.HorizontalPodAutoscalerStatus>): Promise<void> {
    const next: autoscaling.HorizontalPodAutoscalerStatus = {
      ...(hpa.metadata?.generation !== undefined ? { observedGeneration: hpa.metadata.generation } : {}),
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      ...(status.lastScaleTime ? { lastScaleTime: status.lastScaleTime } : hpa.status?.lastScaleTime ? { lastScaleTime: hpa.status.lastScaleTime } : {}),
      ...(status.currentMetrics?.length ? { currentMetrics: status.currentMetrics } : {}),
      conditions: status.conditions ?? [],
    };
    if (JSON.stringify(next) === JSON.stringify(hpa.status ?? {})) return;
    mutable(hpa).status = next;
    await this.ctx.client.updateStatus('horizontalpodautoscalers', hpa);
  }
}

/** A pod's fields the calculator reads; `request` of `resource` in milli-units, undefined when a container sets none. */
export function podInfo(p: core.Pod, resource: string): PodInfo {
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
  let request: number | undefined = 0;
  for (const c of p.spec?.containers ?? []) {
    const q = c.resources?.requests?.[resource];
    if (q === undefined) {
      request = undefined;
      break;
    }
    request += milli(q);
  }
  return {
    name: p.metadata?.name ?? '',
    phase: p.status?.phase ?? 'Pending',
    deleted: p.metadata?.deletionTimestamp !== undefined,
    ready: ready?.status === 'True',
    ...(ready?.lastTransitionTime ? { readyTransition: Date.parse(ready.lastTransitionTime) } : {}),
    ...(p.status?.startTime ? { startTime: Date.parse(p.status.startTime) } : {}),
    request,
  };
}

function milli(q: string | number): number {
  try {
    return parseQuantity(q) * 1000;
  } catch {
    return NaN;
  }
}

/** A milli-unit figure as a quantity: CPU in millicores (`250m`), memory in bytes. */
function formatMilli(v: number, isCpu: boolean): string {
  return isCpu ? `${Math.round(v)}m` : `${Math.round(v / 1000)}`;
}

function rules(r: autoscaling.HPAScalingRules | undefined, fallback: ScalingRules): ScalingRules {
  if (!r) return fallback;
  return {
    stabilizationWindowSeconds: r.stabilizationWindowSeconds ?? fallback.stabilizationWindowSeconds,
    selectPolicy: (r.selectPolicy as ScalingRules['selectPolicy'] | undefined) ?? 'Max',
    policies: (r.policies ?? fallback.policies).map((p) => ({ type: p.type as 'Pods' | 'Percent', value: p.value, periodSeconds: p.periodSeconds })),
  };
}

/** A spec's behavior with the controller's downscale window where the spec leaves it unset. */
function toBehavior(b: autoscaling.HorizontalPodAutoscalerBehavior, downWindowS: number): Behavior {
  return {
    scaleUp: rules(b.scaleUp, { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] }),
    scaleDown: rules(b.scaleDown, { stabilizationWindowSeconds: downWindowS, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] }),
  };
}
