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

export function snapshot(containers: readonly RuntimeContainer[]): Map<string, { podUid: string; state: ContainerState }> {
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
 * The PLEG's record of the last relist, in which a pod worker replaces its pod's containers by what it has
 * just listed. The worker already synced against those states, so the next relist must not turn them into events again (that would be
 * a second, redundant sync of every pod just started — a burst of Docker calls during a pod burst).
 * Later changes still differ from the recorded states and still produce events.
 */
export class PlegRecord {
  private snap = new Map<string, { podUid: string; state: ContainerState }>();
  /** Container ids per pod, so that one pod's entries are replaced without scanning the node's. */
  private byPod = new Map<string, Set<string>>();

  get snapshot(): RelistSnapshot {
    return this.snap;
  }

  /** Takes a relist's snapshot as the record (the map is the record's from now on). */
  reset(snap: Map<string, { podUid: string; state: ContainerState }>): void {
    this.snap = snap;
    this.byPod = new Map();
    for (const [id, c] of snap) {
      let ids = this.byPod.get(c.podUid);
      if (!ids) this.byPod.set(c.podUid, (ids = new Set()));
      ids.add(id);
    }
  }

  /** Replaces the pod's containers by `containers` (those of other pods are ignored): O(the pod's containers). */
  setPod(podUid: string, containers: readonly RuntimeContainer[]): void {
    for (const id of this.byPod.get(podUid) ?? []) this.snap.delete(id);
    const ids = new Set<string>();
    for (const c of containers) {
      if (c.podUid !== podUid) continue;
      this.snap.set(c.id, { podUid, state: c.state });
      ids.add(c.id);
    }
    if (ids.size > 0) this.byPod.set(podUid, ids);
    else this.byPod.delete(podUid);
  }
}

/**
 * A relist's snapshot with the pods in `newer` taken from `current` instead: their workers listed them
 * after this relist listed the runtime, so the relist's view of them is older than the one on record.
 */
export function preferNewer(
  relisted: Map<string, { podUid: string; state: ContainerState }>,
  current: RelistSnapshot,
  newer: ReadonlySet<string>,
): Map<string, { podUid: string; state: ContainerState }> {
  if (newer.size === 0) return relisted;
  const out = new Map<string, { podUid: string; state: ContainerState }>();
  for (const [id, c] of relisted) if (!newer.has(c.podUid)) out.set(id, c);
  for (const [id, c] of current) if (newer.has(c.podUid)) out.set(id, c);
  return out;
}
