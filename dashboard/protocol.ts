/**
 * The dashboard's wire protocol, shared by the server and the browser bundle (so it imports nothing):
 * small "views" of API objects and the messages. Every view has an `id` (`node/<name>`, `pod/<ns>/<name>`,
 * `wl/<Kind>/<ns>/<name>`, `ev/<uid>`, `timing`); the server sends a snapshot on connect and then batches
 * of upserts and deletions.
 */

/** The controller-manager's published timing (client/publishedtiming.ts, PublishedTiming). */
export interface TimingValues {
  preset: string;
  nodeMonitorGracePeriodMs: number;
  nodeMonitorPeriodMs: number;
  nodeStartupGracePeriodMs: number;
  nodeEvictionRate: number;
  forceDeleteLostPods: boolean;
  publishedBy: string;
}

export interface TaintView {
  key: string;
  value?: string;
  effect: string;
  /** ms since epoch (NoExecute taints: when the eviction clock started). */
  timeAdded?: number;
}

export interface NodeView {
  id: string;
  kind: 'Node';
  name: string;
  ready: 'True' | 'False' | 'Unknown';
  readyReason?: string;
  /** ms since epoch of the Ready condition's last transition. */
  readySince?: number;
  unschedulable: boolean;
  taints: TaintView[];
  allocatable: { cpu: number; memory: number; pods: number };
  /** Lease kube-node-lease/<node>: last renewal (ms) and duration. */
  leaseRenewTime?: number;
  leaseDurationSeconds?: number;
}

export interface TolerationView {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface ContainerView {
  name: string;
  state: 'running' | 'waiting' | 'terminated' | 'unknown';
  reason?: string;
  ready: boolean;
  restartCount: number;
  /** CrashLoopBackOff: ms since epoch of the next restart (last exit + the back-off in the kubelet's message). */
  nextRestart?: number;
}

export interface PodView {
  id: string;
  kind: 'Pod';
  namespace: string;
  name: string;
  uid: string;
  node?: string;
  nominatedNode?: string;
  phase: string;
  ready: boolean;
  /** ms since epoch of deletionTimestamp when terminating. */
  deletionTimestamp?: number;
  owner?: { kind: string; name: string };
  requests: { cpu: number; memory: number };
  tolerations: TolerationView[];
  /** PodScheduled=False: the scheduler's reason and message. */
  unschedulable?: { reason: string; message: string };
  containers: ContainerView[];
  created?: number;
  /** PodDisruptionBudgets whose selector matches the pod (`namespace/name`, see PdbView). */
  pdbs?: string[];
}

/** A PodDisruptionBudget: how many of its pods may be evicted now (status, as the disruption controller keeps it). */
export interface PdbView {
  id: string;
  kind: 'PodDisruptionBudget';
  namespace: string;
  name: string;
  /** `minAvailable: 2` or `maxUnavailable: 25%`, as the spec says it. */
  rule: string;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
}

export interface WorkloadView {
  id: string;
  kind: 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job';
  namespace: string;
  name: string;
  uid: string;
  owner?: { kind: string; name: string };
  desired: number;
  current: number;
  ready: number;
  updated: number;
  available: number;
  /** Deployments (RollingUpdate): resolved surge and unavailability budget. */
  maxSurge?: number;
  maxUnavailable?: number;
}

export interface EventView {
  id: string;
  kind: 'Event';
  /** ms since epoch of the last occurrence. */
  time: number;
  type: string;
  reason: string;
  message: string;
  count: number;
  source: string;
  object: { kind: string; namespace: string; name: string };
}

export interface TimingView extends TimingValues {
  id: 'timing';
  kind: 'Timing';
}

export type View = NodeView | PodView | WorkloadView | EventView | TimingView | PdbView;

/** Server → browser. `now` is the server's clock (the browser corrects its countdowns by the offset). */
export type ServerMessage =
  | { t: 'snapshot'; now: number; views: View[]; actions: string[]; readOnlyReason?: string }
  | { t: 'delta'; now: number; set: View[]; del: string[] }
  | { t: 'result'; id: string; ok: true; message: string }
  | { t: 'result'; id: string; ok: false; error: string }
  | { t: 'scheduling'; id: string; ok: true; attempt: unknown }
  | { t: 'scheduling'; id: string; ok: false; error: string }
  | { t: 'error'; error: string };

export const NODE_ACTIONS = ['crash', 'partition', 'heal', 'restart'] as const;
export const API_ACTIONS = ['cordon', 'uncordon', 'drain', 'scale', 'delete-pod'] as const;
export type ActionName = (typeof NODE_ACTIONS)[number] | (typeof API_ACTIONS)[number];

/** Browser → server. */
export type ClientMessage =
  | { t: 'action'; id: string; action: ActionName; node?: string; namespace?: string; name?: string; resource?: string; replicas?: number }
  | { t: 'scheduling'; id: string; namespace: string; name: string };

/**
 * When a pod on a node with NoExecute taints is evicted (ms since epoch), as the taint-eviction controller
 * decides (docs/timing.md): the earliest over the node's NoExecute taints of timeAdded + the shortest
 * matching tolerationSeconds; at once for an untolerated taint; never (undefined) when every taint is
 * tolerated forever. Shared by the server's tests and the browser's countdowns.
 */
export function evictionTime(taints: readonly TaintView[], tolerations: readonly TolerationView[]): number | undefined {
  let earliest: number | undefined;
  for (const t of taints) {
    if (t.effect !== 'NoExecute') continue;
    const start = t.timeAdded ?? 0;
    let tolerated = false;
    let secs = Infinity;
    for (const tol of tolerations) {
      if (tol.effect && tol.effect !== 'NoExecute') continue;
      const keyOk = tol.operator === 'Exists' ? !tol.key || tol.key === t.key : tol.key === t.key && (tol.value ?? '') === (t.value ?? '');
      if (!keyOk) continue;
      tolerated = true;
      // As kube's getMinTolerationTime: the shortest of the tolerations that have seconds; forever only if none has.
      if (tol.tolerationSeconds !== undefined) secs = Math.min(secs, Math.max(0, tol.tolerationSeconds));
    }
    if (tolerated && secs === Infinity) continue;
    const at = tolerated ? start + secs * 1000 : start;
    earliest = earliest === undefined ? at : Math.min(earliest, at);
  }
  return earliest;
}
