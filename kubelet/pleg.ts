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
