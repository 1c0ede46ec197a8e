/**
 * Older API versions served by converting to and from the stored version (kube-apiserver's conversion,
 * for the few cases real clients need): `autoscaling/v1` HorizontalPodAutoscalers, which kubectl ≤ 1.33
 * `autoscale` creates. v1 carries only a CPU utilization target; the v2 fields it cannot express are not
 * kept across a v1 round trip (kube-apiserver keeps them in annotations; kubelab does not).
 */
import type { KObject } from '../../api/types.js';

export interface VersionAlias {
  readonly group: string;
  readonly version: string;
  /** The stored resource (its ResourceInfo is the stored version's). */
  readonly resource: string;
  /** A request body of this version → the stored version. */
  toStored(o: KObject): KObject;
  /** A stored object → this version. */
  fromStored(o: KObject): KObject;
}

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});

interface V2Metric {
  type?: string;
  resource?: { name?: string; target?: { type?: string; averageUtilization?: number }; current?: { averageUtilization?: number } };
}

const cpuUtilization = (metrics: unknown, side: 'target' | 'current'): number | undefined => {
  const m = (Array.isArray(metrics) ? (metrics as V2Metric[]) : []).find((x) => x.type === 'Resource' && x.resource?.name === 'cpu');
  const v = side === 'target' ? (m?.resource?.target?.type === 'Utilization' ? m.resource.target.averageUtilization : undefined) : m?.resource?.current?.averageUtilization;
  return typeof v === 'number' ? v : undefined;
};

export const HPA_V1: VersionAlias = {
  group: 'autoscaling',
  version: 'v1',
  resource: 'horizontalpodautoscalers',
  toStored(o) {
    const spec = rec(o.spec);
    const status = rec(o.status);
    const { targetCPUUtilizationPercentage: cpu, ...restSpec } = spec;
    const { currentCPUUtilizationPercentage: curCpu, ...restStatus } = status;
    return {
      ...o,
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      ...(o.spec !== undefined
        ? { spec: { ...restSpec, ...(typeof cpu === 'number' ? { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } } }] } : {}) } }
        : {}),
      ...(o.status !== undefined
        ? { status: { ...restStatus, ...(typeof curCpu === 'number' ? { currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: curCpu } } }] } : {}) } }
        : {}),
    };
  },
  fromStored(o) {
    const { metrics, behavior: _behavior, ...spec } = rec(o.spec);
    const { currentMetrics, conditions: _conditions, ...status } = rec(o.status);
    const cpu = cpuUtilization(metrics, 'target');
    const cur = cpuUtilization(currentMetrics, 'current');
    return {
      ...o,
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      spec: { ...spec, ...(cpu !== undefined ? { targetCPUUtilizationPercentage: cpu } : {}) },
      status: { ...status, ...(cur !== undefined ? { currentCPUUtilizationPercentage: cur } : {}) },
    };
  },
};

/**
 * `authentication.k8s.io/v1beta1` SelfSubjectReview: kubectl 1.27's `auth whoami` asks v1beta1 (1.28 and later
 * ask v1 first). The same object in both versions, as Kubernetes 1.28–1.29 served them.
 */
export const SELF_SUBJECT_REVIEW_V1BETA1: VersionAlias = {
  group: 'authentication.k8s.io',
  version: 'v1beta1',
  resource: 'selfsubjectreviews',
  toStored: (o) => ({ ...o, apiVersion: 'authentication.k8s.io/v1' }),
  fromStored: (o) => ({ ...o, apiVersion: 'authentication.k8s.io/v1beta1' }),
};

export const ALIASES: readonly VersionAlias[] = [HPA_V1, SELF_SUBJECT_REVIEW_V1BETA1];

export function aliasFor(group: string, version: string, resource: string): VersionAlias | undefined {
  return ALIASES.find((a) => a.group === group && a.version === version && a.resource === resource);
}
