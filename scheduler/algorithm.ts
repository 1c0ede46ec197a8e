/**
 * One scheduling decision: filter nodes (starting where the last search stopped, stopping once enough
 * feasible nodes are found, as kube-scheduler's percentageOfNodesToScore), score the feasible ones with
 * the weighted score plugins, and pick the best, breaking ties at random. Pure over the given NodeInfos.
 */
import { numFeasibleNodesToFind } from './config.js';
import { Diagnosis } from './diagnosis.js';
import { runScorePlugin, type FilterPlugin, type NodeInfo, type PodInfo, type ScorePlugin, type Status } from './framework.js';
import { addPodToNode, cloneNodeInfo } from './nodeinfo.js';
import type { NominatedPods } from './nominator.js';

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
  /** Pods nominated to nodes by preemption; counted by the filters for pods of lower or equal priority. */
  nominated?: NominatedPods;
  /** Keep each attempt's per-node verdicts and per-plugin scores for `lastTrace` (the dashboard's insight). */
  trace?: boolean;
}

/**
 * Up to this many nodes a trace keeps every node's verdict and every feasible node's scores. In a bigger cluster it
 * keeps the failing nodes' verdicts (up to TRACE_MAX_FAILURES) and the TRACE_TOP_SCORES best-scored nodes: a
 * verdict and a score object for each of ~420 nodes per pod was most of the scheduler's memory in bench/scale.ts
 * (1000 nodes: 979 MiB peak RSS with them, ~370 without), for a table no one reads past its first rows.
 */
export const TRACE_FULL_NODES = 100;
export const TRACE_TOP_SCORES = 20;
export const TRACE_MAX_FAILURES = 100;

/** What the last `schedule` call saw (with `trace`): filtered nodes' verdicts, scored nodes' plugin scores. */
export interface ScheduleTrace {
  readonly filters: { node: string; status?: Status }[];
  readonly scores: { node: string; total: number; plugins: Record<string, number> }[];
  /** Nodes the filters ran on, and how many passed (`filters` and `scores` hold fewer in a big cluster). */
  evaluated: number;
  feasible: number;
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
  /** Set by `filterAll`: some filter's PreFilter state depends on the pods, so a what-if must recompute it. */
  private statefulFilters = false;
  /** The last attempt's trace (only with `opts.trace`). */
  lastTrace?: ScheduleTrace;

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

  /**
   * Runs the prepared filters on the node as if the pods nominated to it with a priority at least the
   * pod's were already there (kube-scheduler's RunFilterPluginsWithNominatedPods): a pod must not take
   * the room a preemption freed for a more important one. As there, the node must also pass without them
   * (nominated pods may not be there yet for affinity). Costs nothing when no pod is nominated to the node.
   */
  runFiltersWithNominated(pod: PodInfo, node: NodeInfo): Status | undefined {
    const nominated = this.opts.nominated;
    const here = nominated && nominated.size > 0 ? nominated.onNode(node.name) : undefined;
    if (!here) return this.runFilters(pod, node);
    let withNominated: NodeInfo | undefined;
    for (const p of here.values()) if (p.uid !== pod.uid && p.priority >= pod.priority) addPodToNode((withNominated ??= cloneNodeInfo(node)), p);
    if (!withNominated) return this.runFilters(pod, node);
    return this.runFilters(pod, withNominated) ?? this.runFilters(pod, node);
  }

  /**
   * Each node's filter verdict for the pod (undefined: fits), nominated pods counted — the per-node
   * statuses preemption needs to tell nodes it could help (Unschedulable) from the others.
   */
  filterAll(pod: PodInfo, nodes: readonly NodeInfo[]): (Status | undefined)[] {
    const broken = this.prepare(pod, nodes);
    if (broken) return nodes.map(() => broken);
    this.statefulFilters = this.active.some((f) => f.preFilter !== undefined);
    return nodes.map((n) => this.runFiltersWithNominated(pod, n));
  }

  /**
   * Filters the pod on `changed`, a modified copy of one of `nodes` (preemption's "what if these pods
   * were gone"). When a filter's PreFilter state depends on other pods (inter-pod affinity, spread), it
   * is recomputed over the cluster with the copy in place — kube-scheduler updates it with AddPod/RemovePod.
   * Call after `filterAll` for the same pod.
   */
  filterWhatIf(pod: PodInfo, changed: NodeInfo, nodes: readonly NodeInfo[]): Status | undefined {
    if (this.statefulFilters) {
      const broken = this.prepare(
        pod,
        nodes.map((n) => (n.name === changed.name ? changed : n)),
      );
      if (broken) return broken;
    }
    return this.runFiltersWithNominated(pod, changed);
  }

  /**
   * Filters and scores the nodes for the pod. A pod nominated to a node by an earlier preemption tries
   * that node first and takes it when it fits (kube-scheduler's evaluateNominatedNode).
   */
  schedule(pod: PodInfo, nodes: readonly NodeInfo[], nominatedNode?: NodeInfo): ScheduleResult {
    const n = nodes.length;
    const want = numFeasibleNodesToFind(n, this.opts.percentageOfNodesToScore ?? 0);
    const feasible = this.feasible;
    feasible.length = 0;
    let diagnosis: Diagnosis | undefined;
    const trace: ScheduleTrace | undefined = this.opts.trace ? { filters: [], scores: [], evaluated: 0, feasible: 0 } : undefined;
    const compact = n > TRACE_FULL_NODES;
    this.lastTrace = trace;
    const broken = this.prepare(pod, nodes);
    if (broken) {
      diagnosis = new Diagnosis();
      for (let i = 0; i < n; i++) diagnosis.add(broken.reasons);
      if (trace) for (const node of compact ? nodes.slice(0, TRACE_MAX_FAILURES) : nodes) trace.filters.push({ node: node.name, status: broken });
      return { evaluated: 0, feasible: 0, diagnosis };
    }
    if (nominatedNode && !this.runFiltersWithNominated(pod, nominatedNode)) {
      trace?.filters.push({ node: nominatedNode.name });
      if (trace) trace.evaluated = trace.feasible = 1;
      return { node: nominatedNode, evaluated: 1, feasible: 1 };
    }
    const withNominated = this.opts.nominated !== undefined && this.opts.nominated.size > 0;
    const start = n > 0 ? this.nextStart % n : 0;
    let evaluated = 0;
    for (; evaluated < n && feasible.length < want; evaluated++) {
      const node = nodes[(start + evaluated) % n];
      const fail = withNominated ? this.runFiltersWithNominated(pod, node) : this.runFilters(pod, node);
      if (!fail) feasible.push(node);
      else (diagnosis ??= new Diagnosis()).add(fail.reasons);
      // A big cluster's trace: failures here, the best-scored nodes' passing verdicts in pick.
      if (trace && (!compact || (fail && trace.filters.length < TRACE_MAX_FAILURES))) trace.filters.push({ node: node.name, status: fail });
    }
    if (trace) {
      trace.evaluated = evaluated;
      trace.feasible = feasible.length;
      if (compact && feasible.length === 1 && feasible[0]) trace.filters.push({ node: feasible[0].name });
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
    const trace = this.lastTrace;
    // Each plugin's scores, kept for the trace: in one array per plugin, turned into per-node records only for the
    // nodes the trace keeps.
    const perPlugin: [string, Float64Array][] | undefined = trace ? [] : undefined;
    for (const s of this.opts.scores) {
      if (s.relevant && !s.relevant(pod)) continue;
      runScorePlugin(s, pod, nodes, out, allNodes);
      for (let i = 0; i < k; i++) total[i] += s.weight * out[i];
      perPlugin?.push([s.name, Float64Array.from(out)]);
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
    if (trace && perPlugin) {
      const compact = allNodes.length > TRACE_FULL_NODES;
      let keep = Array.from({ length: k }, (_, i) => i);
      // The chosen node first (among tied best scores it may not sort first), then the best of the others.
      if (compact) keep = [best, ...keep.filter((i) => i !== best).sort((a, b) => total[b] - total[a]).slice(0, TRACE_TOP_SCORES - 1)];
      for (const i of keep) {
        const plugins: Record<string, number> = {};
        for (const [name, scores] of perPlugin) plugins[name] = scores[i];
        trace.scores.push({ node: nodes[i].name, total: total[i], plugins });
        if (compact) trace.filters.push({ node: nodes[i].name });
      }
    }
    return nodes[best];
  }
}
