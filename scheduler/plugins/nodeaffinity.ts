/**
 * NodeAffinity: spec.nodeSelector and required node affinity (terms ORed, expressions ANDed; In, NotIn,
 * Exists, DoesNotExist, Gt, Lt; matchFields on metadata.name) filter nodes; preferred terms add their
 * weights to a node's score.
 */
import type { NodeSelectorRequirement, NodeSelectorTerm } from 'kubernetes-types/core/v1.js';
import { defaultNormalizeScore, SUCCESS, unresolvable, type FilterPlugin, type NodeInfo, type PodInfo, type ScorePlugin, type Status } from '../framework.js';

export const ERR_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";

function parseIntStrict(s: string | undefined): number | undefined {
  if (s === undefined || !/^-?\d+$/.test(s.trim())) return undefined;
  return Number(s);
}

export function requirementMatches(req: NodeSelectorRequirement, value: string | undefined): boolean {
  const has = value !== undefined;
  switch (req.operator) {
    case 'In':
      return has && (req.values ?? []).includes(value);
    case 'NotIn':
      return !has || !(req.values ?? []).includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      const v = parseIntStrict(value);
      const bound = req.values?.length === 1 ? parseIntStrict(req.values[0]) : undefined;
      if (v === undefined || bound === undefined) return false;
      return req.operator === 'Gt' ? v > bound : v < bound;
    }
    default:
      return false;
  }
}

/** An empty term (no expressions, no fields) matches nothing, as in Kubernetes. */
export function termMatches(term: NodeSelectorTerm, node: NodeInfo): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) {
    const v = Object.prototype.hasOwnProperty.call(node.labels, r.key) ? node.labels[r.key] : undefined;
    if (!requirementMatches(r, v)) return false;
  }
  for (const r of fields) {
    if (r.key !== 'metadata.name' || !requirementMatches(r, node.name)) return false;
  }
  return true;
}

export function nodeAffinity(pod: PodInfo, node: NodeInfo): Status {
  if (pod.nodeSelector) {
    for (const k in pod.nodeSelector) if (node.labels[k] !== pod.nodeSelector[k]) return unresolvable(ERR_NODE_AFFINITY);
  }
  if (pod.requiredTerms && !pod.requiredTerms.some((t) => termMatches(t, node))) return unresolvable(ERR_NODE_AFFINITY);
  return SUCCESS;
}

/** Raw score: the sum of the weights of matching preferred terms; normalised so the best node scores 100. */
export function scorePreferredAffinity(pod: PodInfo, nodes: readonly NodeInfo[], out: Float64Array): void {
  for (let i = 0; i < nodes.length; i++) {
    let s = 0;
    for (const p of pod.preferredTerms) if (termMatches(p.term, nodes[i])) s += p.weight;
    out[i] = s;
  }
}

export const NodeAffinity: FilterPlugin = { name: 'NodeAffinity', filter: nodeAffinity };

export const NodeAffinityScore: ScorePlugin = {
  name: 'NodeAffinity',
  weight: 2,
  relevant: (pod) => pod.preferredTerms.length > 0,
  score: scorePreferredAffinity,
  normalizeScore: defaultNormalizeScore(false),
};
