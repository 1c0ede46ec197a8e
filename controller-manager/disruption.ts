/**
 * Disruption controller: keeps each PodDisruptionBudget's status (expected, healthy and desired healthy
 * pods, allowed disruptions) current as its pods come, go and change readiness, so `kubectl get pdb`
 * shows ALLOWED DISRUPTIONS. The eviction subresource in the apiserver does the same arithmetic
 * (api/disruption.ts) at eviction time, so a budget is honoured even before this status is written.
 */
import { isDeepStrictEqual } from 'node:util';
import { isConflict, isNotFound } from '../api/errors.js';
import { budgetSelects, computeBudget } from '../api/disruption.js';
import type { Condition } from 'kubernetes-types/meta/v1.js';
import { keyOf, splitKey, type policy } from '../api/types.js';
import { enqueueForPods, matching, type Controller, type ControllerContext, type Enqueue } from './context.js';
import { enqueueFor } from './handlers.js';
import type { Pod } from './types.js';

export class DisruptionController implements Controller {
  readonly name = 'disruption';
  readonly primary = 'poddisruptionbudgets' as const;
  private readonly pdbs;
  private readonly pods;

  constructor(private readonly ctx: ControllerContext) {
    this.pdbs = ctx.informers.get('poddisruptionbudgets');
    this.pods = ctx.informers.get('pods');
  }

  register(q: Enqueue): void {
    enqueueFor(this.pdbs, q, { deletes: false });
    enqueueForPods(this.pods, (p: Pod) => matching(this.pdbs.byNamespace(p.metadata?.namespace ?? ''), (b) => budgetSelects(b, p)).map(keyOf), q);
  }

  async reconcile(key: string): Promise<void> {
    const pdb = this.pdbs.get(key);
    if (!pdb) return;
    const { namespace } = splitKey(key);
    const budget = computeBudget(pdb, this.pods.byNamespace(namespace));
    const status: policy.PodDisruptionBudgetStatus = {
      ...pdb.status,
      observedGeneration: pdb.metadata?.generation,
      expectedPods: budget.expectedPods,
      currentHealthy: budget.currentHealthy,
      desiredHealthy: budget.desiredHealthy,
      disruptionsAllowed: budget.disruptionsAllowed,
      conditions: [disruptionAllowedCondition(pdb, budget.disruptionsAllowed > 0, this.ctx.clock.now())],
    };
    if (pdb.status && isDeepStrictEqual(stripTimes(status), stripTimes(pdb.status))) return;
    try {
      await this.ctx.client.updateStatus('poddisruptionbudgets', { ...pdb, status });
    } catch (err) {
      // A newer copy is on its way through the informer; it enqueues the key again.
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }
}

function disruptionAllowedCondition(pdb: policy.PodDisruptionBudget, allowed: boolean, now: number): Condition {
  const prev = pdb.status?.conditions?.find((c) => c.type === 'DisruptionAllowed');
  const status = allowed ? 'True' : 'False';
  return {
    type: 'DisruptionAllowed',
    status,
    reason: allowed ? 'SufficientPods' : 'InsufficientPods',
    message: '',
    observedGeneration: pdb.metadata?.generation,
    lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

function stripTimes(s: policy.PodDisruptionBudgetStatus): unknown {
  return { ...s, conditions: (s.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: undefined })) };
}
