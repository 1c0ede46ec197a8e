/**
 * The controller-manager's effective node-failure timing, published read-only in ConfigMap
 * kube-system/kubelab-controller-manager-timing by the leader when it starts leading. Tools that explain
 * *why the cluster is waiting* (the dashboard's countdowns) read it from there through the API, so they
 * count with the values the controllers really use — never with a copy of a preset.
 * Kubernetes has no such object; its closest is the component's `/configz` endpoint.
 */
import type { ApiClient } from './api.js';
import { isAlreadyExists, isNotFound } from '../api/errors.js';
import type { core } from '../api/types.js';

export const TIMING_CONFIGMAP_NAMESPACE = 'kube-system';
export const TIMING_CONFIGMAP_NAME = 'kubelab-controller-manager-timing';

/** What the node lifecycle and taint-eviction controllers wait for, in ms. */
export interface PublishedTiming {
  /** `--timing` preset the values started from (flags may override single values). */
  preset: string;
  /** Lease (or Ready heartbeat) not seen for this long → Ready=Unknown and the NoExecute taint. */
  nodeMonitorGracePeriodMs: number;
  /** How often node health is checked (the taint may come up to this much later). */
  nodeMonitorPeriodMs: number;
  /** A new node must report Ready within this. */
  nodeStartupGracePeriodMs: number;
  /** Nodes tainted NoExecute per second. */
  nodeEvictionRate: number;
  /** Terminating pods on a lost node are force-deleted once their grace period is over. */
  forceDeleteLostPods: boolean;
  /** Who published it (the leader's identity). */
  publishedBy: string;
}

const NUMBERS = ['nodeMonitorGracePeriodMs', 'nodeMonitorPeriodMs', 'nodeStartupGracePeriodMs', 'nodeEvictionRate'] as const;

export function timingConfigMap(t: PublishedTiming): core.ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: TIMING_CONFIGMAP_NAME, namespace: TIMING_CONFIGMAP_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'kube-controller-manager' } },
    data: {
      preset: t.preset,
      ...Object.fromEntries(NUMBERS.map((k) => [k, String(t[k])])),
      forceDeleteLostPods: String(t.forceDeleteLostPods),
      publishedBy: t.publishedBy,
    },
  };
}

/** The timing in a published ConfigMap; undefined when a value is missing or not a number (a hand-edited map). */
export function parseTimingConfigMap(cm: core.ConfigMap | undefined): PublishedTiming | undefined {
  const d = cm?.data;
  if (!d) return undefined;
  const nums: Partial<Record<(typeof NUMBERS)[number], number>> = {};
  for (const k of NUMBERS) {
    const v = Number(d[k]);
    if (d[k] === undefined || !Number.isFinite(v) || v < 0) return undefined;
    nums[k] = v;
  }
  return {
    preset: d.preset ?? '',
    nodeMonitorGracePeriodMs: nums.nodeMonitorGracePeriodMs ?? 0,
    nodeMonitorPeriodMs: nums.nodeMonitorPeriodMs ?? 0,
    nodeStartupGracePeriodMs: nums.nodeStartupGracePeriodMs ?? 0,
    nodeEvictionRate: nums.nodeEvictionRate ?? 0,
    forceDeleteLostPods: d.forceDeleteLostPods === 'true',
    publishedBy: d.publishedBy ?? '',
  };
}

/** Creates or replaces the ConfigMap (last writer wins: only the leader writes). */
export async function publishTiming(client: ApiClient, t: PublishedTiming, signal?: AbortSignal): Promise<void> {
  const desired = timingConfigMap(t);
  try {
    await client.create('configmaps', desired, { namespace: TIMING_CONFIGMAP_NAMESPACE, signal });
    return;
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  try {
    const cur = await client.get('configmaps', TIMING_CONFIGMAP_NAME, { namespace: TIMING_CONFIGMAP_NAMESPACE, signal });
    if (JSON.stringify(cur.data) === JSON.stringify(desired.data)) return;
    await client.update('configmaps', { ...cur, data: desired.data }, { signal });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
