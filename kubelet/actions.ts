/**
 * What one sync of a pod must do, decided from the desired pod and its containers in the runtime
 * (Kubernetes' kuberuntime_manager.go `computePodActions`). Pure: time comes in as `context.now`, the
 * crash-loop back-off is only read, so every lifecycle rule has a table-driven unit test; `executor.ts`
 * applies the result through the runtime.
 */
import type { core } from '../api/types.js';
import { isTerminalPhase } from './pods.js';
import { SANDBOX, type RuntimeContainer } from './runtime/types.js';
import { activeDeadlineLeftMs, DEADLINE_EXCEEDED, type Eviction, type Waiting } from './status.js';

/** The read side of the crash-loop back-off (`Backoff` satisfies it; the executor records restarts). */
export interface BackoffView {
  get(key: string): number;
  isInBackOffSince(key: string, eventTime: number): boolean;
  remaining(key: string, eventTime: number): number;
}

export interface PodActionsContext {
  /** The injected clock's now, in ms. */
  now: number;
  /** The status the sync starts from (the status manager's view): its phase and startTime count. */
  status: core.PodStatus | undefined;
  crashBackoff: BackoffView;
  /** A container that ran at least this long before it exited starts its back-off over. */
  backoffResetMs: number;
  /** Why a running container's liveness or startup probe failed; undefined while it has not. */
  probeFailure(containerId: string): string | undefined;
}

export interface ContainerToStart {
  container: core.Container;
  /** The restart count the new container carries. */
  attempt: number;
  /** A restart of an exited container: record it in the back-off under `key` (forgotten first when `reset`). */
  backoff?: { key: string; reset: boolean };
}

export interface ContainerToKill {
  container: RuntimeContainer;
  spec: core.Container;
  graceMs: number;
}

export interface EphemeralToStart {
  container: core.EphemeralContainer;
  /** targetContainerName's container, whose PID namespace it joins. */
  targetId?: string;
}

export interface PodEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** The outcome of `computePodActions`: applied in field order by the executor. */
export interface PodActions {
  /**
   * Stop the pod and start nothing: `finished` (terminal phase — every running container at once, kept
   * for logs) or `evicted` (past activeDeadlineSeconds — gracefully, preStop hooks run).
   */
  killPod?: { reason: 'finished' } | { reason: 'evicted'; graceMs: number };
  /** Why the kubelet fails the pod in this sync (the status goes Failed with it). */
  evicted?: Eviction;
  /** No container of this pod is (re)started any more, so none is shown as backing off. */
  stopping: boolean;
  /** No running sandbox: stop what still runs in the old one (2 s grace), then create one with this attempt. */
  createSandbox?: { attempt: number; kill: RuntimeContainer[] };
  /** Running containers whose liveness or startup probe failed: stopped now, restarted by the next sync. */
  containersToKill: ContainerToKill[];
  /** Init containers run one at a time, in order, each to success. */
  nextInitContainer?: ContainerToStart;
  /** Containers created but never started (a sync cut short between the two). */
  containersToResume: RuntimeContainer[];
  /** App containers to start, in spec order (only once every init container succeeded). */
  containersToStart: ContainerToStart[];
  /** Ephemeral containers not yet in the runtime (each runs once, even before initialization). */
  ephemeralToStart: EphemeralToStart[];
  /** Waiting states of containers held back here (CrashLoopBackOff, a missing target container). */
  waiting: Map<string, Waiting>;
  events: PodEvent[];
  /** Sync again after this many ms (the end of a back-off), when set. */
  requeueAfterMs?: number;
}

/** Grace period (ms) the pod asks for its containers. */
export function podGraceMs(spec: core.PodSpec | undefined): number {
  return (spec?.terminationGracePeriodSeconds ?? 30) * 1000;
}

export function computePodActions(pod: core.Pod, containers: readonly RuntimeContainer[], ctx: PodActionsContext): PodActions {
  const spec = pod.spec ?? { containers: [] };
  const actions: PodActions = { stopping: false, containersToKill: [], containersToResume: [], containersToStart: [], ephemeralToStart: [], waiting: new Map(), events: [] };
  if (isTerminalPhase(ctx.status?.phase)) {
    // A finished pod keeps its containers for logs but gives up its sandbox.
    return { ...actions, stopping: true, killPod: { reason: 'finished' } };
  }
  // Past activeDeadlineSeconds: the pod fails now (kubelet's activeDeadlineHandler).
  const deadlineLeft = activeDeadlineLeftMs(spec, ctx.status?.startTime, ctx.now);
  if (deadlineLeft !== undefined && deadlineLeft <= 0) {
    const evicted = DEADLINE_EXCEEDED;
    actions.events.push({ type: 'Normal', reason: evicted.reason, message: evicted.message });
    return { ...actions, stopping: true, evicted, killPod: { reason: 'evicted', graceMs: podGraceMs(spec) } };
  }
  const byName = groupByName(containers);
  if (!containers.some((c) => c.name === SANDBOX && c.state === 'running')) {
    const attempt = Math.max(-1, ...containers.filter((c) => c.name === SANDBOX).map((c) => c.attempt)) + 1;
    // A container created but never started belongs to the old sandbox (its network namespace is gone with
    // it: it can never start). It goes with the running ones, and the new sandbox gets new attempts (as
    // Kubernetes' computePodActions: a new sandbox restarts every container). A kubelet restarted between a
    // create and a start left such a container, and the pod stayed ContainerCreating for good.
    actions.createSandbox = { attempt, kill: containers.filter((c) => c.state === 'running' || (c.state === 'created' && c.name !== SANDBOX)) };
  }
  const hold = (name: string, w: { waiting: Waiting; retryMs: number }): void => {
    actions.waiting.set(name, w.waiting);
    actions.requeueAfterMs = Math.min(actions.requeueAfterMs ?? Infinity, w.retryMs);
  };
  const init = nextInitContainer(pod, byName, ctx);
  if (init.hold) hold(init.hold.container.name, init.hold);
  actions.nextInitContainer = init.start;
  if (init.done) appContainerActions(pod, byName, ctx, actions, hold);
  for (const ec of spec.ephemeralContainers ?? []) {
    if (byName.has(ec.name)) continue;
    const target = ec.targetContainerName ? byName.get(ec.targetContainerName)?.[0] : undefined;
    if (ec.targetContainerName && !target) {
      // The target may be about to start in this very sync: look again shortly.
      const message = `unable to find target container ${ec.targetContainerName}`;
      actions.events.push({ type: 'Warning', reason: 'Failed', message: `Error: ${message}` });
      hold(ec.name, { waiting: { reason: 'CreateContainerConfigError', message }, retryMs: 1000 });
      continue;
    }
    actions.ephemeralToStart.push({ container: ec, ...(target ? { targetId: target.id } : {}) });
  }
  return actions;
}

/** The first init container that has not succeeded: started, waited for, or held back by its back-off. */
function nextInitContainer(
  pod: core.Pod,
  byName: ReadonlyMap<string, RuntimeContainer[]>,
  ctx: PodActionsContext,
): { done: boolean; start?: ContainerToStart; hold?: { container: core.Container; waiting: Waiting; retryMs: number } } {
  for (const ic of pod.spec?.initContainers ?? []) {
    const [latest] = byName.get(ic.name) ?? [];
    if (latest?.state === 'exited' && latest.exitCode === 0) continue;
    if (latest?.state === 'running') return { done: false };
    if (latest?.state === 'exited') {
      // With restartPolicy Never a failed init container fails the pod (see podPhase): nothing more runs.
      if (pod.spec?.restartPolicy === 'Never') return { done: false };
      const wait = crashLoopBackOff(pod, ic.name, latest, ctx);
      if (wait) return { done: false, hold: { container: ic, ...wait } };
    }
    return { done: false, start: restart(pod, ic, latest, ctx) };
  }
  return { done: true };
}

/** Kill, resume, start or hold back each app container per its state, restart policy and probes. */
function appContainerActions(
  pod: core.Pod,
  byName: ReadonlyMap<string, RuntimeContainer[]>,
  ctx: PodActionsContext,
  actions: PodActions,
  hold: (name: string, w: { waiting: Waiting; retryMs: number }) => void,
): void {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  for (const c of pod.spec?.containers ?? []) {
    const [latest] = byName.get(c.name) ?? [];
    if (latest?.state === 'running') {
      const failed = ctx.probeFailure(latest.id);
      if (failed) {
        // "Liveness probe failed: …" → Kubernetes' "Container app failed liveness probe, will be restarted".
        const probe = failed.split(':')[0].replace(/ failed$/, '').toLowerCase();
        actions.events.push({ type: 'Normal', reason: 'Killing', message: `Container ${c.name} failed ${probe}, will be restarted` });
        actions.containersToKill.push({ container: latest, spec: c, graceMs: podGraceMs(pod.spec) });
      }
      continue;
    }
    if (latest?.state === 'created' && !actions.createSandbox) {
      actions.containersToResume.push(latest);
      continue;
    }
    if (latest?.state === 'exited') {
      if (!restartsAfterExit(policy, latest.exitCode, false)) continue;
      const wait = crashLoopBackOff(pod, c.name, latest, ctx);
      if (wait) {
        hold(c.name, wait);
        continue;
      }
    }
    actions.containersToStart.push(restart(pod, c, latest, ctx));
  }
}

/** Whether a container that exited with `exitCode` is run again under the pod's restart policy. */
export function restartsAfterExit(policy: string, exitCode: number | undefined, isInit: boolean): boolean {
  if (isInit) return policy !== 'Never' && exitCode !== 0;
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

function restart(pod: core.Pod, c: core.Container, latest: RuntimeContainer | undefined, ctx: PodActionsContext): ContainerToStart {
  if (!latest) return { container: c, attempt: 0 };
  if (latest.state !== 'exited') return { container: c, attempt: latest.attempt + 1 };
  return { container: c, attempt: latest.attempt + 1, backoff: { key: backoffKey(pod, c.name), reset: ranLongEnough(latest, ctx) } };
}

export function backoffKey(pod: core.Pod, container: string): string {
  return `${pod.metadata?.uid ?? ''}/${container}`;
}

/** A container that ran for the back-off reset period before it exited starts its back-off over. */
function ranLongEnough(latest: RuntimeContainer, ctx: Pick<PodActionsContext, 'now' | 'backoffResetMs'>): boolean {
  const finished = latest.finishedAt ?? ctx.now;
  return latest.startedAt !== undefined && latest.startedAt !== 0 && finished - latest.startedAt >= ctx.backoffResetMs;
}

/** Whether an exited container must still wait before its restart (CrashLoopBackOff), and how long. */
export function crashLoopBackOff(
  pod: core.Pod,
  container: string,
  latest: RuntimeContainer,
  ctx: Pick<PodActionsContext, 'now' | 'crashBackoff' | 'backoffResetMs'>,
): { waiting: Waiting; retryMs: number } | undefined {
  const key = backoffKey(pod, container);
  const finished = latest.finishedAt ?? ctx.now;
  if (ranLongEnough(latest, ctx) || !ctx.crashBackoff.isInBackOffSince(key, finished)) return undefined;
  const delay = ctx.crashBackoff.get(key);
  return {
    waiting: {
      reason: 'CrashLoopBackOff',
      message: `back-off ${formatDelay(delay)} restarting failed container=${container} pod=${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid ?? ''})`,
    },
    // A little past the end, so that the retry finds the back-off over.
    retryMs: ctx.crashBackoff.remaining(key, finished) + 20,
  };
}

/** Containers by name, newest first (by restart count, then creation time). */
export function groupByName(cs: readonly RuntimeContainer[]): Map<string, RuntimeContainer[]> {
  const m = new Map<string, RuntimeContainer[]>();
  for (const c of cs) {
    let l = m.get(c.name);
    if (!l) m.set(c.name, (l = []));
    l.push(c);
  }
  for (const l of m.values()) l.sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
  return m;
}

function formatDelay(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m0s`;
  return `${Math.round(ms / 1000)}s`;
}
