/**
 * ReplicaSet controller: keeps `spec.replicas` active pods matching the selector. Creation/deletion
 * expectations stop it from acting twice on a slow watch; creations go in slow-start batches; pods to
 * delete are picked as Kubernetes does (podsToDelete).
 */
import { isDeepStrictEqual } from 'node:util';
import { isNotFound } from '../api/errors.js';
import { isPodActive, isPodReady, ownerRefTo } from '../api/objects.js';
import { fromLabelSelector, matchesLabels } from '../api/selectors.js';
import { keyOf, splitKey, type apps } from '../api/types.js';
import type { Pod, ReplicaSet } from './types.js';
import { TerminalError } from '../api/errors.js';
import { claimCandidates, matching, type Controller, type ControllerContext, type Enqueue } from './context.js';
import { enqueueFor, ownerKey, updateStatusIfChanged } from './handlers.js';
import { Expectations } from './expectations.js';
import { claim } from './ownership.js';
import { isPodAvailable, podFromTemplate, podsToDelete, slowStart } from './podutil.js';

/** Kubernetes' burstReplicas: at most this many creations/deletions per sync. */
const BURST = 500;

export class ReplicaSetController implements Controller {
  readonly name = 'replicaset';
  readonly primary = 'replicasets' as const;
  readonly expectations: Expectations;
  private readonly rsInf;
  private readonly podInf;

  constructor(private readonly ctx: ControllerContext) {
    this.expectations = new Expectations(ctx.clock);
    this.rsInf = ctx.informers.get('replicasets');
    this.podInf = ctx.informers.get('pods');
  }

  register(q: Enqueue): void {
    enqueueFor(this.rsInf, q, { forget: (k) => this.expectations.delete(k) });
    const owner = (pod: Pod): string | undefined => ownerKey(pod, 'ReplicaSet');
    // Orphans (and pods whose labels changed) may concern any ReplicaSet whose selector matches them.
    const selecting = (pod: Pod): string[] =>
      matching(this.rsInf.byNamespace(pod.metadata?.namespace ?? ''), (rs) => {
        const sel = fromLabelSelector(rs.spec?.selector);
        return sel !== undefined && sel.length > 0 && matchesLabels(sel, pod.metadata?.labels);
      }).map((rs) => keyOf(rs));
    this.podInf.addHandler({
      onAdd: (pod) => {
        const k = owner(pod);
        if (k) {
          this.expectations.creationObserved(k);
          q.add(k);
        } else selecting(pod).forEach((x) => q.add(x));
        if (pod.metadata?.deletionTimestamp && k) this.expectations.deletionObserved(k, keyOf(pod));
      },
      onUpdate: (old, pod) => {
        const k = owner(pod);
        const ok = owner(old);
        if (pod.metadata?.deletionTimestamp && k) this.expectations.deletionObserved(k, keyOf(pod));
        if (ok && ok !== k) q.add(ok);
        if (k) q.add(k);
        else selecting(pod).forEach((x) => q.add(x));
        // Availability flips after minReadySeconds: come back then.
        if (k && !isPodReady(old) && isPodReady(pod)) {
          const rs = this.rsInf.get(k);
          const mrs = rs?.spec?.minReadySeconds ?? 0;
          if (mrs > 0) q.addAfter(k, mrs * 1000 + 100);
        }
      },
      onDelete: (pod) => {
        const k = owner(pod);
        if (k) {
          this.expectations.deletionObserved(k, keyOf(pod));
          q.add(k);
        }
      },
    });
  }

  async reconcile(key: string): Promise<{ requeueAfter?: number } | void> {
    const cached = this.rsInf.get(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const rs = cached;
    const { namespace } = splitKey(key);
    const selector = fromLabelSelector(rs.spec?.selector);
    if (!selector || selector.length === 0) throw new TerminalError(`replicaset ${key} has an empty selector`);
    const needsSync = this.expectations.satisfied(key);
    const expiresInMs = this.expectations.expiresInMs(key); // undefined: nothing pending
    if (needsSync && expiresInMs === 0) {
      this.ctx.log.warn({ key, pending: this.expectations.pending(key) }, 'expected pod creations or deletions were never observed within 5 minutes; syncing anyway');
    }
    const all = claimCandidates(this.podInf, namespace, rs.metadata?.uid).filter(isPodActive);
    const pods = await claim(this.ctx.client, 'pods', rs, ownerRefTo(rs), selector, all);
    let manageError: unknown;
    if (needsSync && !rs.metadata?.deletionTimestamp) {
      try {
        await this.manageReplicas(key, rs, pods);
      } catch (err) {
        manageError = err;
      }
    }
    const requeue = await this.updateStatus(rs, pods, manageError);
    if (manageError) throw manageError;
    // Held by expectations: come back when they expire, not only on the next event about this ReplicaSet.
    if (!needsSync && expiresInMs !== undefined) return { requeueAfter: Math.min(requeue?.requeueAfter ?? Infinity, expiresInMs + 100) };
    return requeue;
  }

  private async manageReplicas(key: string, rs: ReplicaSet, pods: Pod[]): Promise<void> {
    const want = rs.spec?.replicas ?? 1;
    const diff = pods.length - want;
    const { client, recorder } = this.ctx;
    if (diff < 0) {
      const n = Math.min(-diff, BURST);
      this.expectations.expectCreations(key, n);
      const template = rs.spec?.template ?? {};
      const owner = ownerRefTo(rs);
      const res = await slowStart(n, async () => {
        const pod = podFromTemplate(template, rs.metadata?.namespace ?? '', owner, `${rs.metadata?.name}-`);
        try {
          const created = await client.create('pods', pod);
          recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
        } catch (err) {
          // No pod was made, so none will be observed: count it now, or the ReplicaSet waits for its expectations. An
          // AlreadyExists (8 generated names taken) is an error like any other: the ReplicaSet is synced again after a backoff.
          this.expectations.creationObserved(key);
          recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
          throw err;
        }
      });
      // Creations skipped after a failed batch will never be observed.
      const skipped = n - res.ok - res.errors.length;
      for (let i = 0; i < skipped; i++) this.expectations.creationObserved(key);
      if (res.errors.length) throw res.errors[0];
    } else if (diff > 0) {
      const victims = podsToDelete(pods, Math.min(diff, BURST));
      this.expectations.expectDeletions(key, victims.map((p) => keyOf(p)));
      const results = await Promise.allSettled(
        victims.map(async (p) => {
          try {
            await client.delete('pods', p.metadata?.name ?? '', { namespace: p.metadata?.namespace, preconditions: { uid: p.metadata?.uid } });
            recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`);
          } catch (err) {
            this.expectations.deletionObserved(key, keyOf(p));
            if (isNotFound(err)) return;
            recorder.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
            throw err;
          }
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  /** Writes status if it changed; returns a requeue when availability will flip after minReadySeconds. */
  private async updateStatus(rs: ReplicaSet, pods: Pod[], manageError: unknown): Promise<{ requeueAfter?: number } | void> {
    const now = this.ctx.clock.now();
    const mrs = rs.spec?.minReadySeconds ?? 0;
    const tplLabels = rs.spec?.template?.metadata?.labels ?? {};
    const ready = pods.filter(isPodReady);
    const available = pods.filter((p) => isPodAvailable(p, mrs, now));
    const conditions = (rs.status?.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
    if (manageError && !isNotFound(manageError))
      conditions.push({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: (manageError as Error).message, lastTransitionTime: new Date(now).toISOString() });
    const status: apps.ReplicaSetStatus = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.filter((p) => Object.entries(tplLabels).every(([k, v]) => p.metadata?.labels?.[k] === v)).length,
      readyReplicas: ready.length,
      availableReplicas: available.length,
      observedGeneration: rs.metadata?.generation,
      ...(conditions.length ? { conditions } : {}),
    };
    await updateStatusIfChanged(this.ctx.client, 'replicasets', rs, status, sameReplicaSetStatus);
    if (mrs > 0 && ready.length !== available.length) return { requeueAfter: mrs * 1000 };
  }
}

/** The counts, observed generation and condition types: what a ReplicaSet status write would change. */
function sameReplicaSetStatus(cur: apps.ReplicaSetStatus = { replicas: 0 }, status: apps.ReplicaSetStatus): boolean {
  return (
    (cur.replicas ?? 0) === status.replicas &&
    (cur.fullyLabeledReplicas ?? 0) === status.fullyLabeledReplicas &&
    (cur.readyReplicas ?? 0) === status.readyReplicas &&
    (cur.availableReplicas ?? 0) === status.availableReplicas &&
    cur.observedGeneration === status.observedGeneration &&
    isDeepStrictEqual((cur.conditions ?? []).map((c) => c.type), (status.conditions ?? []).map((c) => c.type))
  );
}
