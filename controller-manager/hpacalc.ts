/**
 * The HorizontalPodAutoscaler's arithmetic, as Kubernetes' pkg/controller/podautoscaler does it
 * (replica_calculator.go and horizontal.go), with no I/O and an explicit `now`:
 *   - `resourceReplicas`: usage ratio against a utilization (% of request) or average-value target,
 *     10 % tolerance, pods grouped into ready / unready / missing / ignored and rebalanced as upstream;
 *   - `stabilize`: the recommendation history per HPA and the stabilization windows;
 *   - `limitByBehavior`: scale-up/-down policies (Pods, Percent per period; Max/Min/Disabled) over the
 *     scale events of the last periods, then min/max replicas — with the reason each limit reports.
 */

export const DEFAULT_TOLERANCE = 0.1;

/** A pod as the calculator sees it. */
export interface PodInfo {
  name: string;
  phase: string;
  deleted: boolean;
  ready: boolean;
  /** Ready condition's lastTransitionTime (ms), when it has one. */
  readyTransition?: number;
  /** status.startTime (ms). */
  startTime?: number;
  /** Sum of the containers' requests of the resource (milli-units); undefined when a container has none. */
  request?: number;
}

/** A pod's measured usage (milli-units) at `timestamp` over `windowMs`. */
export interface PodMetric {
  value: number;
  timestamp: number;
  windowMs: number;
}

export interface CalcOptions {
  tolerance: number;
  /** Kubernetes' --horizontal-pod-autoscaler-cpu-initialization-period (5 min). */
  cpuInitializationPeriodMs: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (30 s). */
  delayOfInitialReadinessMs: number;
  now: number;
}

export type Target = { type: 'Utilization'; averageUtilization: number } | { type: 'AverageValue'; averageValue: number };

export interface Recommendation {
  replicas: number;
  /** Utilization target: percent of request; AverageValue target: milli-units per pod. */
  utilization: number;
  /** Average usage per pod (milli-units). */
  averageValue: number;
  timestamp: number;
}

/** Thrown when no replica count can be computed from a metric (no pods, no metrics, missing requests). */
export class MetricError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricError';
  }
}

/** groupPods: ready count, unready (pending or not yet trustworthy), missing (no metric), ignored (deleted/failed). */
export function groupPods(pods: readonly PodInfo[], metrics: ReadonlyMap<string, PodMetric>, isCpu: boolean, o: CalcOptions): { ready: number; unready: Set<string>; missing: Set<string>; ignored: Set<string> } {
  const unready = new Set<string>();
  const missing = new Set<string>();
  const ignored = new Set<string>();
  let ready = 0;
  for (const pod of pods) {
    if (pod.deleted || pod.phase === 'Failed') {
      ignored.add(pod.name);
      continue;
    }
    if (pod.phase === 'Pending') {
      unready.add(pod.name);
      continue;
    }
    const m = metrics.get(pod.name);
    if (!m) {
      missing.add(pod.name);
      continue;
    }
    if (isCpu) {
      let skip: boolean;
      if (pod.readyTransition === undefined || pod.startTime === undefined) skip = true;
      else if (pod.startTime + o.cpuInitializationPeriodMs > o.now)
        // Still initializing: only a ready pod sampled a full window after it became ready counts.
        skip = !pod.ready || m.timestamp < pod.readyTransition + m.windowMs;
      else skip = !pod.ready && pod.startTime + o.delayOfInitialReadinessMs > pod.readyTransition;
      if (skip) {
        unready.add(pod.name);
        continue;
      }
    }
    ready++;
  }
  return { ready, unready, missing, ignored };
}

function ratioOf(metrics: ReadonlyMap<string, number>, pods: ReadonlyMap<string, PodInfo>, target: Target): { ratio: number; utilization: number; average: number } {
  let total = 0;
  let requests = 0;
  let n = 0;
  for (const [name, v] of metrics) {
    total += v;
    n++;
    if (target.type === 'Utilization') {
      const r = pods.get(name)?.request;
      if (r === undefined) throw new MetricError(`missing request for ${name}`);
      requests += r;
    }
  }
  if (n === 0) throw new MetricError('did not receive metrics for any ready pods');
  const average = total / n;
  if (target.type === 'Utilization') {
    if (requests === 0) throw new MetricError('no metrics returned matched known pods');
    const utilization = Math.trunc((total * 100) / requests);
    return { ratio: utilization / target.averageUtilization, utilization, average };
  }
  return { ratio: average / target.averageValue, utilization: Math.trunc(average), average };
}

/** GetResourceReplicas / GetRawResourceReplicas: the replica count one resource metric asks for. */
export function resourceReplicas(currentReplicas: number, target: Target, pods: readonly PodInfo[], metrics: ReadonlyMap<string, PodMetric>, isCpu: boolean, o: CalcOptions): Recommendation {
  if (pods.length === 0) throw new MetricError('no pods returned by selector while calculating replica count');
  const { ready, unready, missing, ignored } = groupPods(pods, metrics, isCpu, o);
  const byName = new Map(pods.map((p) => [p.name, p]));
  const values = new Map<string, number>();
  let timestamp = 0;
  for (const [name, m] of metrics) {
    if (!byName.has(name) || unready.has(name) || ignored.has(name)) continue;
    values.set(name, m.value);
    timestamp = Math.max(timestamp, m.timestamp);
  }
  if (values.size === 0) throw new MetricError('did not receive metrics for any ready pods');
  const first = ratioOf(values, byName, target);
  const result = (replicas: number): Recommendation => ({ replicas, utilization: first.utilization, averageValue: first.average, timestamp });
  const rebalanceUnready = unready.size > 0 && first.ratio > 1;
  if (!rebalanceUnready && missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= o.tolerance) return result(currentReplicas);
    return result(Math.ceil(first.ratio * ready));
  }
  for (const name of missing) {
    // Scale-down: a pod without a metric counts as using all of its request (average-value targets: the
    // target itself); scale-up: as using nothing. Either way it damps the move.
    const asTarget = target.type === 'Utilization' ? (byName.get(name)?.request ?? 0) : target.averageValue;
    if (first.ratio < 1) values.set(name, asTarget);
    else if (first.ratio > 1) values.set(name, 0);
  }
  if (rebalanceUnready) for (const name of unready) values.set(name, 0);
  const second = ratioOf(values, byName, target);
  if (Math.abs(1 - second.ratio) <= o.tolerance || (first.ratio < 1 && second.ratio > 1) || (first.ratio > 1 && second.ratio < 1)) return result(currentReplicas);
  const replicas = Math.ceil(second.ratio * values.size);
  if ((second.ratio < 1 && replicas > currentReplicas) || (second.ratio > 1 && replicas < currentReplicas)) return result(currentReplicas);
  return result(replicas);
}

// ---------------------------------------------------------------------------------------- behavior

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: ScalingPolicy[];
}

export interface Behavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

/** autoscaling/v2 defaults (SetDefaults_HorizontalPodAutoscalerBehavior); the down window comes from the controller's flag. */
export function defaultBehavior(downscaleStabilizationSeconds: number): Behavior {
  return {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    },
    scaleDown: { stabilizationWindowSeconds: downscaleStabilizationSeconds, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
  };
}

export interface TimedRecommendation {
  replicas: number;
  at: number;
}

export interface ScaleEvent {
  /** Replicas added (scale-up history) or removed (scale-down history). */
  change: number;
  at: number;
}

export interface Condition {
  reason: string;
  message: string;
}

/**
 * stabilizeRecommendationWithBehaviors: on the way up the lowest, on the way down the highest
 * recommendation within the window wins. Returns the new history (the caller keeps it per HPA).
 */
export function stabilize(
  current: number,
  desired: number,
  behavior: Behavior,
  history: readonly TimedRecommendation[],
  now: number,
): { replicas: number; history: TimedRecommendation[]; condition: Condition } {
  const up = desired >= current;
  const windowS = up ? behavior.scaleUp.stabilizationWindowSeconds : behavior.scaleDown.stabilizationWindowSeconds;
  const cutoff = now - windowS * 1000;
  const obsolete = now - Math.max(behavior.scaleUp.stabilizationWindowSeconds, behavior.scaleDown.stabilizationWindowSeconds) * 1000;
  let replicas = desired;
  for (const r of history) if (r.at > cutoff) replicas = up ? Math.min(replicas, r.replicas) : Math.max(replicas, r.replicas);
  const kept = history.filter((r) => r.at >= obsolete);
  kept.push({ replicas: desired, at: now });
  const condition = up
    ? { reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
    : { reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
  return { replicas, history: kept, condition };
}

function changeInPeriod(periodSeconds: number, events: readonly ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.filter((e) => e.at > cutoff).reduce((s, e) => s + e.change, 0);
}

/** calculateScaleUpLimitWithScalingRules. */
export function scaleUpLimit(current: number, events: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  let result = rules.selectPolicy === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(p.periodSeconds, events, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = rules.selectPolicy === 'Min' ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors. */
export function scaleDownLimit(current: number, events: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  let result = rules.selectPolicy === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start = current + changeInPeriod(p.periodSeconds, events, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = rules.selectPolicy === 'Min' ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** convertDesiredReplicasWithBehaviorRate: the policies' rate limit, then min/max replicas. */
export function limitByBehavior(
  a: { current: number; desired: number; min: number; max: number; behavior: Behavior; upEvents: readonly ScaleEvent[]; downEvents: readonly ScaleEvent[] },
  now: number,
): { replicas: number; condition: Condition } {
  if (a.desired > a.current) {
    const limit = Math.max(a.current, scaleUpLimit(a.current, a.upEvents, a.behavior.scaleUp, now));
    const byRate = a.max > limit;
    const allowed = byRate ? limit : a.max;
    if (a.desired > allowed)
      return {
        replicas: allowed,
        condition: byRate
          ? { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' }
          : { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' },
      };
  } else if (a.desired < a.current) {
    const limit = Math.min(a.current, scaleDownLimit(a.current, a.downEvents, a.behavior.scaleDown, now));
    const byRate = a.min < limit;
    const allowed = byRate ? limit : a.min;
    if (a.desired < allowed)
      return {
        replicas: allowed,
        condition: byRate
          ? { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' }
          : { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' },
      };
  }
  return { replicas: a.desired, condition: { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' } };
}

/** Drops scale events older than the longest policy period (they can no longer limit anything). */
export function pruneEvents(events: readonly ScaleEvent[], rules: ScalingRules, now: number): ScaleEvent[] {
  const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds));
  return events.filter((e) => e.at > now - longest * 1000);
}

/**
 * Without `spec.behavior` (normalizeDesiredReplicas): the highest recommendation of the downscale window
 * wins whatever the direction, and a scale-up is capped at max(2 × current, 4).
 */
export function stabilizeWithoutBehavior(desired: number, windowMs: number, history: readonly TimedRecommendation[], now: number): { replicas: number; history: TimedRecommendation[] } {
  let replicas = desired;
  for (const r of history) if (r.at > now - windowMs) replicas = Math.max(replicas, r.replicas);
  const kept = history.filter((r) => r.at > now - windowMs);
  kept.push({ replicas: desired, at: now });
  return { replicas, history: kept };
}

/** convertDesiredReplicasWithRules (no behavior). */
export function limitWithoutBehavior(current: number, desired: number, min: number, max: number): { replicas: number; condition: Condition } {
  const upLimit = Math.trunc(Math.max(2 * current, 4));
  const byRate = max > upLimit;
  const allowedMax = byRate ? upLimit : max;
  if (desired < min) return { replicas: min, condition: { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' } };
  if (desired > allowedMax)
    return {
      replicas: allowedMax,
      condition: byRate
        ? { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' }
        : { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' },
    };
  return { replicas: desired, condition: { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' } };
}
