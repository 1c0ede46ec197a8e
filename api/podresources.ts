/**
 * A pod's effective resource requests, as Kubernetes computes them (the scheduler's NodeResourcesFit and
 * the dashboard's requested-vs-allocatable bars use this one function).
 */
import { cpuMillis, quantityValue } from './quantity.js';
import type { core } from './types.js';

export interface Requests {
  cpu: number;
  memory: number;
  ephemeral: number;
  scalars: Map<string, number>;
}

export function emptyRequests(): Requests {
  return { cpu: 0, memory: 0, ephemeral: 0, scalars: new Map() };
}

function addResourceList(into: Requests, list: Record<string, string | number> | undefined): void {
  if (!list) return;
  for (const [name, q] of Object.entries(list)) {
    if (name === 'cpu') into.cpu += cpuMillis(q);
    else if (name === 'memory') into.memory += quantityValue(q);
    else if (name === 'ephemeral-storage') into.ephemeral += quantityValue(q);
    else if (name !== 'pods') into.scalars.set(name, (into.scalars.get(name) ?? 0) + quantityValue(q));
  }
}

function maxInto(into: Requests, other: Requests): void {
  into.cpu = Math.max(into.cpu, other.cpu);
  into.memory = Math.max(into.memory, other.memory);
  into.ephemeral = Math.max(into.ephemeral, other.ephemeral);
  for (const [k, v] of other.scalars) into.scalars.set(k, Math.max(into.scalars.get(k) ?? 0, v));
}

/**
 * Effective pod requests as Kubernetes computes them: init containers run one at a time before the app
 * containers, so the pod needs max(sum of app containers, largest init container), plus pod overhead.
 */
export function podRequests(spec: core.PodSpec | undefined): Requests {
  const sum = emptyRequests();
  for (const c of spec?.containers ?? []) addResourceList(sum, c.resources?.requests as Record<string, string> | undefined);
  for (const ic of spec?.initContainers ?? []) {
    const one = emptyRequests();
    addResourceList(one, ic.resources?.requests as Record<string, string> | undefined);
    maxInto(sum, one);
  }
  addResourceList(sum, spec?.overhead as Record<string, string> | undefined);
  return sum;
}

