/**
 * Pod status as Kubernetes reports it, computed from the runtime's containers (pure functions):
 * container states, phase, conditions.
 */
import { isDeepStrictEqual } from 'node:util';
import { nowTimestamp } from '../api/objects.js';
import type { core } from '../api/types.js';
import type { RuntimeContainer } from './runtime/types.js';

export interface Waiting {
  reason: string;
  message?: string;
}

function terminated(c: RuntimeContainer, runtimePrefix: string): core.ContainerStateTerminated {
  const code = c.exitCode ?? 0;
  const reason = c.oomKilled ? 'OOMKilled' : c.error ? 'ContainerCannotRun' : code === 0 ? 'Completed' : 'Error';
  return {
    exitCode: code,
    reason,
    ...(c.error ? { message: c.error } : {}),
    ...(c.startedAt ? { startedAt: nowTimestamp(c.startedAt) } : {}),
    finishedAt: nowTimestamp(c.finishedAt ?? c.startedAt ?? c.createdAt),
    containerID: `${runtimePrefix}://${c.id}`,
  };
}

export interface ContainerStatusInput {
  spec: core.Container;
  /** The newest runtime container for this name. */
  latest?: RuntimeContainer;
  /** The one before it (for lastState). */
  previous?: RuntimeContainer;
  /** Set when the container is not running and the kubelet knows why (ErrImagePull, CrashLoopBackOff…). */
  waiting?: Waiting;
  ready: boolean;
  started: boolean;
  runtime: 'docker' | 'hollow';
}

/** One entry of containerStatuses / initContainerStatuses. */
export function containerStatus(i: ContainerStatusInput): core.ContainerStatus {
  const prefix = i.runtime === 'hollow' ? 'hollow' : 'docker';
  const { latest, previous } = i;
  const base = {
    name: i.spec.name,
    image: i.spec.image ?? '',
    imageID: latest?.imageId ? `docker-pullable://${latest.imageId}` : '',
    restartCount: latest?.attempt ?? 0,
  };
  if (!latest) {
    return { ...base, ready: false, started: false, state: { waiting: i.waiting ?? { reason: 'ContainerCreating' } }, lastState: {} };
  }
  const containerID = `${prefix}://${latest.id}`;
  const last: core.ContainerState = previous && previous.state === 'exited' ? { terminated: terminated(previous, prefix) } : {};
  if (latest.state === 'running') {
    return {
      ...base,
      containerID,
      ready: i.ready,
      started: i.started,
      state: { running: { startedAt: nowTimestamp(latest.startedAt ?? latest.createdAt) } },
      lastState: last,
    };
  }
  if (latest.state === 'exited') {
    if (i.waiting) return { ...base, containerID, ready: false, started: false, state: { waiting: i.waiting }, lastState: { terminated: terminated(latest, prefix) } };
    return { ...base, containerID, ready: false, started: false, state: { terminated: terminated(latest, prefix) }, lastState: last };
  }
  return { ...base, containerID, ready: false, started: false, state: { waiting: i.waiting ?? { reason: 'ContainerCreating' } }, lastState: last };
}

/**
 * One entry of ephemeralContainerStatuses: like a container's, never ready, without `started` (no probes
 * run for it) and without a previous run (it is started once, never restarted).
 */
export function ephemeralContainerStatus(spec: core.EphemeralContainer, latest: RuntimeContainer | undefined, waiting: Waiting | undefined, runtime: 'docker' | 'hollow'): core.ContainerStatus {
  const { started: _started, ...s } = containerStatus({ spec: spec as core.Container, latest, waiting, ready: false, started: false, runtime });
  return s;
}

/** Pod phase from container statuses (kubelet's getPhase). */
export function podPhase(spec: core.PodSpec, init: core.ContainerStatus[], app: core.ContainerStatus[]): string {
  const policy = spec.restartPolicy ?? 'Always';
  for (const s of init) {
    if (s.state?.terminated && s.state.terminated.exitCode !== 0 && policy === 'Never') return 'Failed';
  }
  const initialized = init.every((s) => s.state?.terminated?.exitCode === 0);
  if (!initialized) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of app) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else waiting++;
  }
  if (waiting === app.length) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0 && waiting === 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'OnFailure') return 'Running';
    return 'Failed';
  }
  if (stopped > 0 && policy !== 'Never') return 'Running';
  return 'Pending';
}

function condition(prev: core.PodStatus | undefined, type: string, ok: boolean, now: number, reason?: string): core.PodCondition {
  const status = ok ? 'True' : 'False';
  const old = prev?.conditions?.find((c) => c.type === type);
  return {
    type,
    status,
    lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : nowTimestamp(now),
    ...(!ok && reason ? { reason } : {}),
  };
}

/** Why the kubelet failed a pod that was still running (kubelet's ShouldEvict response). */
export interface Eviction {
  reason: string;
  message: string;
}

/** Kubernetes' reason and message for a pod past spec.activeDeadlineSeconds. */
export const DEADLINE_EXCEEDED: Eviction = { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' };

/**
 * Milliseconds left before the pod passes spec.activeDeadlineSeconds, counted from status.startTime
 * (≤ 0: past it, the pod must be failed); undefined without a deadline or before the pod has a start time.
 */
export function activeDeadlineLeftMs(spec: core.PodSpec | undefined, startTime: string | undefined, now: number): number | undefined {
  const secs = spec?.activeDeadlineSeconds;
  if (secs === undefined || secs === null || !startTime) return undefined;
  const start = Date.parse(startTime);
  if (Number.isNaN(start)) return undefined;
  return start + secs * 1000 - now;
}

export interface PodStatusInput {
  pod: core.Pod;
  init: core.ContainerStatus[];
  app: core.ContainerStatus[];
  /** Statuses of spec.ephemeralContainers (they count for neither phase nor readiness). */
  ephemeral?: core.ContainerStatus[];
  podIp?: string;
  hostIp: string;
  now: number;
  startTime?: number;
  qosClass: string;
  /** Set when the kubelet fails the pod itself (activeDeadlineSeconds): phase Failed with this reason. */
  evicted?: Eviction;
}

/** The full pod status the kubelet writes through pods/status. */
export function buildPodStatus(i: PodStatusInput): core.PodStatus {
  const prev = i.pod.status;
  let phase = podPhase(i.pod.spec ?? { containers: [] }, i.init, i.app);
  // A terminal phase is final (kubelet's three-way merge): a pod failed for its deadline whose containers
  // would otherwise be restarted stays Failed, with the reason and message it failed with.
  if (!isTerminal(phase) && isTerminal(prev?.phase)) phase = prev?.phase ?? phase;
  let why: Partial<Eviction> = phase === prev?.phase ? { reason: prev?.reason, message: prev?.message } : {};
  if (i.evicted) {
    phase = 'Failed';
    why = i.evicted;
  }
  const initialized = i.init.every((s) => s.state?.terminated?.exitCode === 0);
  const terminal = isTerminal(phase);
  const containersReady = !terminal && i.app.length > 0 && i.app.every((s) => s.ready);
  const conditions: core.PodCondition[] = [
    condition(prev, 'Initialized', initialized || terminal, i.now, 'ContainersNotInitialized'),
    condition(prev, 'Ready', containersReady, i.now, terminal ? 'PodCompleted' : 'ContainersNotReady'),
    condition(prev, 'ContainersReady', containersReady, i.now, terminal ? 'PodCompleted' : 'ContainersNotReady'),
  ];
  const scheduled = prev?.conditions?.find((c) => c.type === 'PodScheduled');
  conditions.push(scheduled ?? { type: 'PodScheduled', status: 'True', lastTransitionTime: nowTimestamp(i.now) });
  const st: core.PodStatus = {
    phase,
    ...(why.reason ? { reason: why.reason } : {}),
    ...(why.message ? { message: why.message } : {}),
    conditions,
    hostIP: i.hostIp,
    hostIPs: [{ ip: i.hostIp }],
    ...(i.podIp ? { podIP: i.podIp, podIPs: [{ ip: i.podIp }] } : {}),
    startTime: prev?.startTime ?? nowTimestamp(i.startTime ?? i.now),
    qosClass: i.qosClass,
    containerStatuses: i.app,
    ...(i.init.length ? { initContainerStatuses: i.init } : {}),
    ...(i.ephemeral?.length ? { ephemeralContainerStatuses: i.ephemeral } : {}),
  };
  if (!i.podIp && prev?.podIP && !terminal) {
    st.podIP = prev.podIP;
    st.podIPs = prev.podIPs;
  }
  return st;
}

function isTerminal(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/** True when two statuses differ in anything a user would see (so the kubelet writes only changes). */
export function statusChanged(a: core.PodStatus | undefined, b: core.PodStatus): boolean {
  return !isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? {})), JSON.parse(JSON.stringify(b)));
}

/**
 * True when `next` is `prev` coming back from the apiserver with only the status this kubelet wrote
 * (`written`) and a new resourceVersion: the echo of its own status write, which needs no sync. Any
 * other difference (spec, labels, deletionTimestamp, a status someone else wrote) is not an echo.
 */
export function isOwnStatusEcho(prev: core.Pod, next: core.Pod, written: core.PodStatus | undefined): boolean {
  if (!written || statusChanged(written, next.status ?? {})) return false;
  const strip = (p: core.Pod): unknown => JSON.parse(JSON.stringify({ ...p, status: undefined, metadata: { ...p.metadata, resourceVersion: undefined, managedFields: undefined } }));
  return isDeepStrictEqual(strip(prev), strip(next));
}
