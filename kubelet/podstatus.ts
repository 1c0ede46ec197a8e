/**
 * The pod status a sync reports, from what the runtime holds after it acted (Kubernetes'
 * generateAPIPodStatus). Pure, like computePodActions: probes' view and time come in as inputs.
 */
import type { core } from '../api/types.js';
import { crashLoopBackOff, groupByName, restartsAfterExit, type PodActionsContext } from './actions.js';
import { SANDBOX, type RuntimeContainer } from './runtime/types.js';
import { buildPodStatus, containerStatus, ephemeralContainerStatus, type Eviction, type Waiting } from './status.js';

export interface PodStatusContext extends Pick<PodActionsContext, 'now' | 'crashBackoff' | 'backoffResetMs'> {
  /** The status the sync started from (conditions keep their transition times, a terminal phase stays). */
  previous: core.PodStatus | undefined;
  /** Waiting states the sync set (back-off, image pull, config errors), by container name. */
  waiting: ReadonlyMap<string, Waiting>;
  /** No container is restarted any more (terminal or evicted pod): none shows CrashLoopBackOff. */
  stopping: boolean;
  evicted?: Eviction;
  /** The probes' view of a running container (undefined: no probe worker for it). */
  probeState(containerId: string): { started: boolean; ready: boolean } | undefined;
  runtimeKind: 'docker' | 'hollow';
  podIp: string | undefined;
  hostIp: string;
  qosClass: string;
}

export function generatePodStatus(pod: core.Pod, containers: readonly RuntimeContainer[], ctx: PodStatusContext): core.PodStatus {
  const spec = pod.spec ?? { containers: [] };
  const byName = groupByName(containers);
  const sandbox = containers.find((c) => c.name === SANDBOX && c.state === 'running') ?? containers.find((c) => c.name === SANDBOX);
  const initDone = (spec.initContainers ?? []).every((ic) => {
    const l = byName.get(ic.name)?.[0];
    return l?.state === 'exited' && l.exitCode === 0;
  });
  const policy = spec.restartPolicy ?? 'Always';
  const statusOf = (c: core.Container, isInit: boolean): core.ContainerStatus => {
    const [latest, previous] = byName.get(c.name) ?? [];
    const ps = latest?.state === 'running' ? ctx.probeState(latest.id) : undefined;
    let w = ctx.waiting.get(c.name);
    if (!w && !latest && !isInit && !initDone) w = { reason: 'PodInitializing' };
    if (!w && latest?.state === 'exited' && !ctx.stopping && restartsAfterExit(policy, latest.exitCode, isInit)) {
      w = crashLoopBackOff(pod, c.name, latest, ctx)?.waiting;
    }
    return containerStatus({ spec: c, latest, previous, waiting: w, ready: isInit ? false : ps?.ready ?? false, started: ps?.started ?? false, runtime: ctx.runtimeKind });
  };
  return buildPodStatus({
    pod: { ...pod, status: ctx.previous },
    init: (spec.initContainers ?? []).map((c) => statusOf(c, true)),
    app: spec.containers.map((c) => statusOf(c, false)),
    ephemeral: (spec.ephemeralContainers ?? []).map((ec) => ephemeralContainerStatus(ec, byName.get(ec.name)?.[0], ctx.waiting.get(ec.name), ctx.runtimeKind)),
    podIp: ctx.podIp,
    hostIp: ctx.hostIp,
    now: ctx.now,
    startTime: sandbox?.createdAt,
    qosClass: ctx.qosClass,
    evicted: ctx.evicted,
  });
}
