/**
 * One scheduling decision: filter nodes (starting where the last search stopped, stopping once enough
 * feasible nodes are found, as kube-scheduler's percentageOfNodesToScore), score the feasible ones with
 * the weighted score plugins, and pick the best, breaking ties at random. Pure over the given NodeInfos.
 */
import { numFeasibleNodesToFind } from './config.js';
import { Diagnosis } from './diagnosis.js';
import type { FilterPlugin, NodeInfo, PodInfo, ScorePlugin, Status } from './framework.js';

export interface ScheduleResult {
  /** The chosen node, or undefined when none fits (see `diagnosis`). */
  readonly node?: NodeInfo;
  readonly evaluated: number;
  readonly feasible: number;
  readonly diagnosis?: Diagnosis;
}

export interface AlgorithmOptions {
  filters: readonly FilterPlugin[];
  scores: readonly ScorePlugin[];
  percentageOfNodesToScore?: number;
  /** Random source for tie-breaking (tests inject a fixed one). */
  random?: () => number;
}

export class Algorithm {
  private nextStart = 0;
  /** This attempt's filters (those whose preFilter did not skip) and their per-pod states, reused. */
  private readonly active: FilterPlugin[] = [];
  private readonly states: unknown[] = [];
  private feasible: NodeInfo[] = [];
  private total = new Float64Array(0);
  private scratch = new Float64Array(0);
  private readonly random: () => number;

  constructor(private readonly opts: AlgorithmOptions) {
    this.random = opts.random ?? Math.random;
  }

  /**
   * Runs every filter's preFilter once for the pod (kube-scheduler's PreFilter) and keeps the filters that
   * have something to check. Returns an error status when a preFilter throws.
   */
  prepare(pod: PodInfo, nodes: readonly NodeInfo[]): Status | undefined {
    this.active.length = 0;
    this.states.length = 0;
    for (const f of this.opts.filters) {
      let state: unknown;
      if (f.preFilter) {
        try {
          state = f.preFilter(pod, nodes);
        } catch (err) {
          return { code: 'Error', reasons: [`${f.name}: ${err instanceof Error ? err.message : String(err)}`] };
        }
        if (state === undefined) continue;
      }
      this.active.push(f);
      this.states.push(state);
    }
    return undefined;
  }

  /** Runs the prepared filters in order and returns the first failure (a throwing plugin counts as an error). */
  runFilters(pod: PodInfo, node: NodeInfo): Status | undefined {
    const active = this.active;
    for (let i = 0; i < active.length; i++) {
      const f = active[i];
      let s: Status;
      try {
        s = f.filter(pod, node, this.states[i]);
      } catch (err) {
        s = { code: 'Error', reasons: [`${f.name}: ${err instanceof Error ? err.message : String(err)}`] };
      }
      if (s.code !== 'Success') return s;
    }
    return undefined;
  }

  schedule(pod: PodInfo, nodes: readonly NodeInfo[]): ScheduleResult {
    const n = nodes.length;
    const want = numFeasibleNodesToFind(n, this.opts.percentageOfNodesToScore ?? 0);
    const feasible = this.feasible;
    feasible.length = 0;
    let diagnosis: Diagnosis | undefined;
    const broken = this.prepare(pod, nodes);
    if (broken) {
      diagnosis = new Diagnosis();
      for (let i = 0; i < n; i++) diagnosis.add(broken.reasons);
      return { evaluated: 0, feasible: 0, diagnosis };
    }
    const start = n > 0 ? this.nextStart % n : 0;
    let evaluated = 0;
    for (; evaluated < n && feasible.length < want; evaluated++) {
      const node = nodes[(start + evaluated) % n];
      const fail = this.runFilters(pod, node);
      if (!fail) feasible.push(node);
      else (diagnosis ??= new Diagnosis()).add(fail.reasons);
    }
    // Rotate the start so that successive pods look at different nodes first (no bias to the list head).
    this.nextStart = n > 0 ? (start + evaluated) % n : 0;
    if (feasible.length === 0) return { evaluated, feasible: 0, diagnosis: diagnosis ?? new Diagnosis() };
    if (feasible.length === 1) return { node: feasible[0], evaluated, feasible: 1 };
    return { node: this.pick(pod, feasible, nodes), evaluated, feasible: feasible.length };
  }

  private pick(pod: PodInfo, nodes: readonly NodeInfo[], allNodes: readonly NodeInfo[]): NodeInfo {
    const k = nodes.length;
    if (this.total.length < k) {
      this.total = new Float64Array(k * 2);
      this.scratch = new Float64Array(k * 2);
    }
    const total = this.total.subarray(0, k);
    const out = this.scratch.subarray(0, k);
    total.fill(0);
    for (const s of this.opts.scores) {
      if (s.relevant && !s.relevant(pod)) continue;
      s.score(pod, nodes, out, allNodes);
      for (let i = 0; i < k; i++) total[i] += s.weight * out[i];
    }
    // Reservoir choice among equal best scores: each tied node is equally likely.
    let best = 0;
    let ties = 1;
    for (let i = 1; i < k; i++) {
      if (total[i] > total[best]) {
        best = i;
        ties = 1;
      } else if (total[i] === total[best]) {
        ties++;
        if (this.random() * ties < 1) best = i;
      }
    }
    return nodes[best];
  }
}
