/**
 * PLEG: the pod lifecycle event generator. The kubelet relists the runtime periodically; the diff of two
 * relists (a pure function) says which pods need a sync.
 */
import type { ContainerState, RuntimeContainer } from './runtime/types.js';

export type PodLifecycleEventType = 'ContainerStarted' | 'ContainerDied' | 'ContainerRemoved' | 'ContainerChanged';

export interface PodLifecycleEvent {
  podUid: string;
  containerId: string;
  type: PodLifecycleEventType;
}

/** A relist snapshot: container id → (pod uid, state). */
export type RelistSnapshot = ReadonlyMap<string, { podUid: string; state: ContainerState }>;

export function snapshot(containers: readonly RuntimeContainer[]): RelistSnapshot {
  return new Map(containers.map((c) => [c.id, { podUid: c.podUid, state: c.state }]));
}

/** Events that turn `oldSnap` into `newSnap`. */
export function generateEvents(oldSnap: RelistSnapshot, newSnap: RelistSnapshot): PodLifecycleEvent[] {
  const events: PodLifecycleEvent[] = [];
  for (const [id, cur] of newSnap) {
    const prev = oldSnap.get(id);
    if (prev?.state === cur.state) continue;
    let type: PodLifecycleEventType;
    if (cur.state === 'running') type = 'ContainerStarted';
    else if (cur.state === 'exited' && (prev === undefined || prev.state === 'running' || prev.state === 'created')) type = 'ContainerDied';
    else type = 'ContainerChanged';
    events.push({ podUid: cur.podUid, containerId: id, type });
  }
  for (const [id, prev] of oldSnap) if (!newSnap.has(id)) events.push({ podUid: prev.podUid, containerId: id, type: 'ContainerRemoved' });
  return events;
}

/**
 * `snap` with one pod's containers replaced by what a pod worker has just listed. The worker already
 * synced against those states, so the next relist must not turn them into events again (that would be
 * a second, redundant sync of every pod just started — a burst of Docker calls during a pod burst).
 * Later changes still differ from the recorded states and still produce events.
 */
export function withPod(snap: RelistSnapshot, podUid: string, containers: readonly RuntimeContainer[]): RelistSnapshot {
  const out = new Map(snap);
  for (const [id, c] of snap) if (c.podUid === podUid) out.delete(id);
  for (const c of containers) if (c.podUid === podUid) out.set(c.id, { podUid, state: c.state });
  return out;
}

/**
 * A relist's snapshot with the pods in `newer` taken from `current` instead: their workers listed them
 * after this relist listed the runtime, so the relist's view of them is older than the one on record.
 */
export function preferNewer(relisted: RelistSnapshot, current: RelistSnapshot, newer: ReadonlySet<string>): RelistSnapshot {
  if (newer.size === 0) return relisted;
  const out = new Map<string, { podUid: string; state: ContainerState }>();
  for (const [id, c] of relisted) if (!newer.has(c.podUid)) out.set(id, c);
  for (const [id, c] of current) if (newer.has(c.podUid)) out.set(id, c);
  return out;
}
