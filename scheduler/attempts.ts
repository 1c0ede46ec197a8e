/**
 * The last scheduling attempt of each pod, as kube-scheduler-simulator shows it: the per-node Filter
 * verdict (first failing plugin and its reasons) and the per-plugin Score of every feasible node. Kept in
 * a bounded in-memory store (oldest pods forgotten first) served read-only on the admin endpoint
 * `/debug/attempts?namespace=NS&name=POD`, for the dashboard's scheduler panel. In memory, not an
 * annotation: recording must not cost an API write per pod, and only the leader schedules.
 */
import type { Status } from './framework.js';

/** One node's Filter verdict: `Success`, or the code and reasons of the first plugin that rejected it. */
export interface NodeVerdict {
  readonly node: string;
  readonly code: Status['code'];
  readonly reasons: readonly string[];
}

/** Per-plugin raw scores (0..100) of one feasible node and its weighted total. */
export interface NodeScore {
  readonly node: string;
  readonly total: number;
  readonly plugins: Readonly<Record<string, number>>;
}

export interface AttemptRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** ISO time of the attempt. */
  readonly time: string;
  readonly result: 'Scheduled' | 'Unschedulable' | 'Error';
  /** The chosen node (Scheduled). */
  readonly node?: string;
  /** FailedScheduling message (Unschedulable/Error). */
  readonly message?: string;
  /** Nodes in the cluster when the pod was tried, and how many the filters ran on. */
  readonly nodes: number;
  /** Nodes the filters ran on and how many passed; in a big cluster `filters` and `scores` keep only the failing and best-scored nodes. */
  readonly evaluated?: number;
  readonly feasible?: number;
  readonly filters: readonly NodeVerdict[];
  readonly scores: readonly NodeScore[];
  /** Plugin weights, to read `scores`. */
  readonly weights: Readonly<Record<string, number>>;
  /** Node nominated by preemption (victims are deleted with a `Preempted` event naming it). */
  readonly nominatedNode?: string;
  /** The pods this attempt's preemption deletes to make room (`namespace/name`), and how many PDBs that violates. */
  readonly victims?: readonly string[];
  readonly pdbViolations?: number;
}

/** How much a record holds: its per-node verdicts and scores (one of each per node in a big cluster). */
function weight(r: AttemptRecord): number {
  return 1 + r.filters.length + r.scores.length;
}

/**
 * Bounded map pod key (namespace/name) → its last attempt. Insertion order is age: the oldest goes first. Bounded
 * both in pods (`capacity`) and in per-node entries (`maxEntries`): at 1000 nodes a record holds ~2000 entries,
 * and 2000 such records took the scheduler past 1 GiB in bench/scale.ts.
 */
export class AttemptStore {
  private readonly byKey = new Map<string, AttemptRecord>();
  private entries = 0;

  constructor(
    readonly capacity = 2000,
    readonly maxEntries = 200_000,
  ) {}

  record(r: AttemptRecord): void {
    const key = `${r.namespace}/${r.name}`;
    // The attempt that binds a preemptor keeps what its preemption did: the panel still tells why it got there.
    const prev = this.byKey.get(key);
    if (r.result === 'Scheduled' && !r.victims && prev?.uid === r.uid && prev.victims?.length)
      r = { ...r, victims: prev.victims, pdbViolations: prev.pdbViolations, nominatedNode: prev.nominatedNode };
    if (prev) {
      this.entries -= weight(prev);
      this.byKey.delete(key);
    }
    this.byKey.set(key, r);
    this.entries += weight(r);
    // The newest record always stays, even alone over the entry bound.
    while (this.byKey.size > 1 && (this.byKey.size > this.capacity || this.entries > this.maxEntries)) {
      const [oldestKey, oldest] = this.byKey.entries().next().value as [string, AttemptRecord];
      this.byKey.delete(oldestKey);
      this.entries -= weight(oldest);
    }
  }

  /** Per-node entries held now (for tests and the bound). */
  get entryCount(): number {
    return this.entries;
  }

  get(namespace: string, name: string): AttemptRecord | undefined {
    return this.byKey.get(`${namespace}/${name}`);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The admin route: 400 without namespace/name, 404 when this scheduler has no record of the pod. */
  route(query: URLSearchParams): { status: number; body: unknown } {
    const namespace = query.get('namespace');
    const name = query.get('name');
    if (!namespace || !name) return { status: 400, body: { error: 'give ?namespace=NS&name=POD' } };
    const r = this.get(namespace, name);
    if (!r) return { status: 404, body: { error: `no scheduling attempt of pod ${namespace}/${name} is recorded by this scheduler (it schedules only as leader, and keeps the last ${this.capacity} pods, fewer in a big cluster)` } };
    return { status: 200, body: r };
  }
}
