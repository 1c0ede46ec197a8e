/** The views the dashboard sends (protocol.ts), computed by pure functions from the informers' objects. */
import { cpuMillis, quantityValue } from '../api/quantity.js';
import { podRequests } from '../api/podresources.js';
import { maxSurge, maxUnavailable } from '../api/deploymentutil.js';
import type { apps, batch, coordination, core, KObject, policy } from '../api/types.js';
import { fromLabelSelector, matchesLabels } from '../api/selectors.js';
import type { PublishedTiming } from '../client/publishedtiming.js';
import type { ContainerView, EventView, NodeView, PdbView, PodView, TimingView, WorkloadView } from './protocol.js';

export * from './protocol.js';

const ms = (t: string | undefined | null): number | undefined => {
  if (!t) return undefined;
  const v = Date.parse(t);
  return Number.isFinite(v) ? v : undefined;
};

export function nodeView(node: core.Node, lease: coordination.Lease | undefined): NodeView {
  const name = node.metadata?.name ?? '';
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const alloc = (node.status?.allocatable ?? node.status?.capacity ?? {}) as Record<string, string>;
  const status = ready?.status;
  return {
    id: `node/${name}`,
    kind: 'Node',
    name,
    ready: status === 'True' || status === 'False' ? status : 'Unknown',
    readyReason: ready?.reason,
    readySince: ms(ready?.lastTransitionTime),
    unschedulable: !!node.spec?.unschedulable,
    taints: (node.spec?.taints ?? []).map((t) => ({ key: t.key, value: t.value, effect: t.effect, timeAdded: ms(t.timeAdded) })),
    allocatable: { cpu: safe(() => cpuMillis(alloc.cpu)), memory: safe(() => quantityValue(alloc.memory)), pods: safe(() => quantityValue(alloc.pods)) },
    leaseRenewTime: ms(lease?.spec?.renewTime),
    leaseDurationSeconds: lease?.spec?.leaseDurationSeconds,
  };
}

/** A malformed quantity costs its own bar, never the view. */
function safe(f: () => number): number {
  try {
    const v = f();
    return Number.isFinite(v) ? v : 0;
  } catch {
    return 0;
  }
}

const BACKOFF_RE = /back-off (?:(\d+)m)?(\d+(?:\.\d+)?)s/;

function containerView(st: core.ContainerStatus): ContainerView {
  const s = st.state;
  const state = s?.running ? 'running' : s?.waiting ? 'waiting' : s?.terminated ? 'terminated' : 'unknown';
  const reason = s?.waiting?.reason ?? s?.terminated?.reason;
  let nextRestart: number | undefined;
  if (s?.waiting?.reason === 'CrashLoopBackOff') {
    const m = BACKOFF_RE.exec(s.waiting.message ?? '');
    const finished = ms(st.lastState?.terminated?.finishedAt);
    if (m && finished !== undefined) nextRestart = finished + (Number(m[1] ?? 0) * 60 + Number(m[2])) * 1000;
  }
  return { name: st.name, state, reason, ready: st.ready, restartCount: st.restartCount ?? 0, nextRestart };
}

/**
 * The view of a pod; `budgets` are the PodDisruptionBudgets of its namespace, of which the matching ones are
 * named (as the eviction API finds them: selector against the pod's labels; an empty selector matches all).
 */
export function podView(pod: core.Pod, budgets: readonly policy.PodDisruptionBudget[] = []): PodView {
  const ns = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const owner = (pod.metadata?.ownerReferences ?? []).find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  const conds = pod.status?.conditions ?? [];
  const sched = conds.find((c) => c.type === 'PodScheduled');
  let requests = { cpu: 0, memory: 0 };
  try {
    const r = podRequests(pod.spec);
    requests = { cpu: r.cpu, memory: r.memory };
  } catch {
    /* a malformed quantity: no bar contribution */
  }
  return {
    id: `pod/${ns}/${name}`,
    kind: 'Pod',
    namespace: ns,
    name,
    uid: pod.metadata?.uid ?? '',
    node: pod.spec?.nodeName || undefined,
    nominatedNode: pod.status?.nominatedNodeName || undefined,
    phase: pod.status?.phase ?? 'Pending',
    ready: conds.some((c) => c.type === 'Ready' && c.status === 'True'),
    deletionTimestamp: ms(pod.metadata?.deletionTimestamp),
    owner: owner ? { kind: owner.kind, name: owner.name } : undefined,
    requests,
    tolerations: (pod.spec?.tolerations ?? [])
      .filter((t) => t.effect === 'NoExecute' || !t.effect)
      .map((t) => ({ key: t.key, operator: t.operator, value: t.value, effect: t.effect, tolerationSeconds: t.tolerationSeconds })),
    unschedulable: sched && sched.status === 'False' ? { reason: sched.reason ?? 'Unschedulable', message: sched.message ?? '' } : undefined,
    containers: (pod.status?.containerStatuses ?? []).map(containerView),
    created: ms(pod.metadata?.creationTimestamp),
    ...pdbsOf(pod, budgets),
  };
}

function pdbsOf(pod: core.Pod, budgets: readonly policy.PodDisruptionBudget[]): { pdbs?: string[] } {
  const names: string[] = [];
  for (const b of budgets) {
    if (b.metadata?.namespace !== pod.metadata?.namespace) continue;
    let sel;
    try {
      sel = fromLabelSelector(b.spec?.selector);
    } catch {
      continue; // a selector the API would have refused: matches nothing
    }
    if (sel && matchesLabels(sel, pod.metadata?.labels)) names.push(`${b.metadata?.namespace}/${b.metadata?.name}`);
  }
  return names.length ? { pdbs: names.sort() } : {};
}

export function pdbView(b: policy.PodDisruptionBudget): PdbView {
  const ns = b.metadata?.namespace ?? 'default';
  const name = b.metadata?.name ?? '';
  const spec = b.spec ?? {};
  const rule = spec.minAvailable !== undefined ? `minAvailable: ${spec.minAvailable}` : spec.maxUnavailable !== undefined ? `maxUnavailable: ${spec.maxUnavailable}` : 'maxUnavailable: 0';
  const st = b.status;
  return {
    id: `pdb/${ns}/${name}`,
    kind: 'PodDisruptionBudget',
    namespace: ns,
    name,
    rule,
    disruptionsAllowed: st?.disruptionsAllowed ?? 0,
    currentHealthy: st?.currentHealthy ?? 0,
    desiredHealthy: st?.desiredHealthy ?? 0,
    expectedPods: st?.expectedPods ?? 0,
  };
}

type Workload = apps.Deployment | apps.ReplicaSet | apps.StatefulSet | apps.DaemonSet | batch.Job;

export function workloadView(kind: WorkloadView['kind'], obj: Workload): WorkloadView {
  const ns = obj.metadata?.namespace ?? 'default';
  const name = obj.metadata?.name ?? '';
  const owner = (obj.metadata?.ownerReferences ?? []).find((o) => o.controller);
  const base = { id: `wl/${kind}/${ns}/${name}`, kind, namespace: ns, name, uid: obj.metadata?.uid ?? '', owner: owner ? { kind: owner.kind, name: owner.name } : undefined };
  switch (kind) {
    case 'Deployment': {
      const d = obj as apps.Deployment & KObject;
      const st = d.status ?? {};
      const rolling = (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
      return {
        ...base,
        desired: d.spec?.replicas ?? 1,
        current: st.replicas ?? 0,
        ready: st.readyReplicas ?? 0,
        updated: st.updatedReplicas ?? 0,
        available: st.availableReplicas ?? 0,
        ...(rolling ? { maxSurge: safe(() => maxSurge(d)), maxUnavailable: safe(() => maxUnavailable(d)) } : {}),
      };
    }
    case 'ReplicaSet':
    case 'StatefulSet': {
      const r = obj as apps.ReplicaSet | apps.StatefulSet;
      const st = r.status;
      return {
        ...base,
        desired: r.spec?.replicas ?? 1,
        current: st?.replicas ?? 0,
        ready: st?.readyReplicas ?? 0,
        updated: (st as apps.StatefulSetStatus | undefined)?.updatedReplicas ?? st?.replicas ?? 0,
        available: st?.availableReplicas ?? 0,
      };
    }
    case 'DaemonSet': {
      const st = (obj as apps.DaemonSet).status;
      return { ...base, desired: st?.desiredNumberScheduled ?? 0, current: st?.currentNumberScheduled ?? 0, ready: st?.numberReady ?? 0, updated: st?.updatedNumberScheduled ?? 0, available: st?.numberAvailable ?? 0 };
    }
    case 'Job': {
      const j = obj as batch.Job;
      const st = j.status;
      return { ...base, desired: j.spec?.completions ?? 1, current: st?.active ?? 0, ready: st?.ready ?? 0, updated: st?.succeeded ?? 0, available: st?.succeeded ?? 0 };
    }
  }
}

export function eventView(ev: core.Event): EventView {
  const io = ev.involvedObject ?? {};
  const time = ms(ev.lastTimestamp) ?? ms(ev.eventTime as string | undefined) ?? ms(ev.firstTimestamp) ?? ms(ev.metadata?.creationTimestamp) ?? 0;
  return {
    id: `ev/${ev.metadata?.uid ?? `${ev.metadata?.namespace}/${ev.metadata?.name}`}`,
    kind: 'Event',
    time,
    type: ev.type ?? 'Normal',
    reason: ev.reason ?? '',
    message: ev.message ?? '',
    count: ev.count ?? 1,
    source: ev.source?.component ?? ev.reportingComponent ?? '',
    object: { kind: io.kind ?? '', namespace: io.namespace ?? '', name: io.name ?? '' },
  };
}

export function timingView(t: PublishedTiming): TimingView {
  return { id: 'timing', kind: 'Timing', ...t };
}
