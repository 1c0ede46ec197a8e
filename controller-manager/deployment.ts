/**
 * Deployment controller: one ReplicaSet per template (named `<deploy>-<pod-template-hash>`), rolled with
 * RollingUpdate (maxSurge/maxUnavailable) or Recreate; revision annotations and history cleanup;
 * pause/resume; proportional scaling mid-rollout; the Progressing and Available conditions.
 * Rollback is client side (kubelab rollout undo copies an old template back), as in modern kubectl.
 */
import { isDeepStrictEqual } from 'node:util';
import { isAlreadyExists, isNotFound, TerminalError } from '../api/errors.js';
import { clone, controllerRef, nowTimestamp, ownerRefTo } from '../api/objects.js';
import { fromLabelSelector, matchesLabels } from '../api/selectors.js';
import { keyOf, splitKey, type apps } from '../api/types.js';
import { claimCandidates, matching, type Controller, type ControllerContext, type Enqueue } from './context.js';
import { enqueueFor, ownerKey, updateStatusIfChanged } from './handlers.js';
import { claim } from './ownership.js';
import {
  CHANGE_CAUSE,
  DESIRED_REPLICAS,
  HASH_LABEL,
  MAX_REPLICAS,
  REVISION,
  availableOf,
  byCreation,
  equalIgnoreHash,
  isComplete,
  isRollingUpdate,
  madeProgress,
  maxScaledDown,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  proportionalSizes,
  revisionOf,
  specReplicas,
  sumAvailable,
  sumSpec,
  templateHash,
} from '../api/deploymentutil.js';
import { writable, type Deployment, type ReplicaSet } from './types.js';

type Condition = apps.DeploymentCondition;

interface SyncFlags {
  created?: boolean;
  found?: boolean;
}

export class DeploymentController implements Controller {
  readonly name = 'deployment';
  readonly primary = 'deployments' as const;
  private readonly deps;
  private readonly rss;
  private readonly pods;

  constructor(private readonly ctx: ControllerContext) {
    this.deps = ctx.informers.get('deployments');
    this.rss = ctx.informers.get('replicasets');
    this.pods = ctx.informers.get('pods');
  }

  register(q: Enqueue): void {
    enqueueFor(this.deps, q);
    const forRS = (rs: ReplicaSet): void => {
      const ns = rs.metadata?.namespace ?? '';
      if (controllerRef(rs)) {
        const k = ownerKey(rs, 'Deployment');
        if (k) q.add(k);
        return;
      }
      const selects = (d: Deployment): boolean => {
        const sel = fromLabelSelector(d.spec?.selector);
        return !!sel?.length && matchesLabels(sel, rs.metadata?.labels);
      };
      for (const d of matching(this.deps.byNamespace(ns), selects)) q.add(keyOf(d));
    };
    this.rss.addHandler({ onAdd: forRS, onUpdate: (_o, rs) => forRS(rs), onDelete: forRS });
    // Recreate waits for the old pods to be gone.
    this.pods.addHandler({
      onDelete: (p) => {
        const rsKey = ownerKey(p, 'ReplicaSet');
        const rs = rsKey ? this.rss.get(rsKey) : undefined;
        const k = rs && ownerKey(rs, 'Deployment');
        if (k) q.add(k);
      },
    });
  }

  async reconcile(key: string): Promise<{ requeueAfter?: number } | void> {
    const d = this.deps.get(key);
    if (!d) return;
    const { namespace } = splitKey(key);
    const selector = fromLabelSelector(d.spec?.selector);
    if (!selector || selector.length === 0) {
      this.ctx.recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      throw new TerminalError(`deployment ${key} has an empty selector`);
    }
    const rsList = await claim(this.ctx.client, 'replicasets', d, ownerRefTo(d), selector, claimCandidates(this.rss, namespace, d.metadata?.uid));
    if (d.metadata?.deletionTimestamp) return this.syncStatus(d, rsList, undefined, {});
    if (d.spec?.paused) return this.syncPaused(d, rsList);
    if (this.isScalingEvent(d, rsList)) return this.syncScale(d, rsList);
    return isRollingUpdate(d) ? this.rolloutRolling(d, rsList) : this.rolloutRecreate(d, rsList);
  }

  // ------------------------------------------------------------------ replica sets

  private async getAll(d: Deployment, rsList: ReplicaSet[], create: boolean): Promise<{ newRS?: ReplicaSet; old: ReplicaSet[]; flags: SyncFlags }> {
    const sorted = [...rsList].sort(byCreation);
    const existing = sorted.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
    const old = sorted.filter((rs) => rs !== existing);
    const newRevision = String(Math.max(0, ...old.map(revisionOf)) + 1);
    const flags: SyncFlags = {};
    let newRS: ReplicaSet | undefined;
    if (existing) {
      newRS = existing;
      const ann = existing.metadata?.annotations ?? {};
      const wantAnn = { ...ann, ...this.replicaAnnotations(d) };
      if (revisionOf(existing) < Number(newRevision)) wantAnn[REVISION] = newRevision;
      const cause = d.metadata?.annotations?.[CHANGE_CAUSE];
      if (cause) wantAnn[CHANGE_CAUSE] = cause;
      if (!isDeepStrictEqual(ann, wantAnn) || (existing.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0)) {
        const upd = writable(existing);
        upd.metadata = { ...upd.metadata, annotations: wantAnn };
        upd.spec = { ...upd.spec, minReadySeconds: d.spec?.minReadySeconds ?? 0 } as apps.ReplicaSetSpec;
        newRS = (await this.ctx.client.update('replicasets', upd)) as ReplicaSet;
      }
      if (!d.status?.conditions?.some((c) => c.type === 'Progressing')) flags.found = true;
    } else if (create) {
      newRS = await this.createNewRS(d, old, newRevision);
      flags.created = true;
    }
    const rev = newRS?.metadata?.annotations?.[REVISION];
    if (rev && d.metadata?.annotations?.[REVISION] !== rev) {
      await this.ctx.client.patch('deployments', d.metadata?.name ?? '', { metadata: { annotations: { [REVISION]: rev } } }, { namespace: d.metadata?.namespace });
    }
    return { newRS, old, flags };
  }

  private replicaAnnotations(d: Deployment): Record<string, string> {
    const replicas = d.spec?.replicas ?? 1;
    return { [DESIRED_REPLICAS]: String(replicas), [MAX_REPLICAS]: String(replicas + maxSurge(d)) };
  }

  private async createNewRS(d: Deployment, old: ReplicaSet[], revision: string): Promise<ReplicaSet> {
    const collision = d.status?.collisionCount ?? 0;
    const hash = templateHash(d.spec?.template, collision);
    const template = clone(d.spec?.template ?? {});
    template.metadata = { ...template.metadata, labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash } };
    const sel = clone(d.spec?.selector ?? {});
    sel.matchLabels = { ...(sel.matchLabels ?? {}), [HASH_LABEL]: hash };
    const name = `${d.metadata?.name}-${hash}`;
    const draft: ReplicaSet = { metadata: { name }, spec: { replicas: 0, selector: sel, template } };
    const replicas = newRSNewReplicas(d, old, draft);
    const cause = d.metadata?.annotations?.[CHANGE_CAUSE];
    const rs: apps.ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: d.metadata?.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        annotations: { ...this.replicaAnnotations(d), [REVISION]: revision, ...(cause ? { [CHANGE_CAUSE]: cause } : {}) },
        ownerReferences: [ownerRefTo(d)],
      },
      spec: { replicas, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector: sel, template },
    };
    try {
      const created = (await this.ctx.client.create('replicasets', rs)) as ReplicaSet;
      this.ctx.log.info({ deployment: keyOf(d), replicaset: name, replicas }, 'created new replica set');
      if (replicas > 0) this.ctx.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} to ${replicas}`);
      return created;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const cur = (await this.ctx.client.get('replicasets', name, { namespace: d.metadata?.namespace })) as ReplicaSet;
      if (controllerRef(cur)?.uid === d.metadata?.uid && equalIgnoreHash(cur.spec?.template, d.spec?.template)) return cur;
      // A hash collision with someone else's RS: bump collisionCount and try another name next time.
      const upd = writable(d);
      upd.status = { ...upd.status, collisionCount: collision + 1 };
      await this.ctx.client.updateStatus('deployments', upd);
      throw new Error(`replica set ${name} exists with a different template; collisionCount is now ${collision + 1}`);
    }
  }

  /** Scales an RS (and stamps the replica annotations); returns the RS as stored. */
  private async scaleRS(d: Deployment, rs: ReplicaSet, size: number): Promise<ReplicaSet> {
    const ann = { ...(rs.metadata?.annotations ?? {}), ...this.replicaAnnotations(d) };
    if (specReplicas(rs) === size && isDeepStrictEqual(ann, rs.metadata?.annotations ?? {})) return rs;
    const before = specReplicas(rs);
    const upd = writable(rs);
    upd.metadata = { ...upd.metadata, annotations: ann };
    upd.spec = { ...upd.spec, replicas: size } as apps.ReplicaSetSpec;
    const res = (await this.ctx.client.update('replicasets', upd)) as ReplicaSet;
    if (before !== size)
      this.ctx.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${size > before ? 'up' : 'down'} replica set ${rs.metadata?.name} to ${size}`);
    return res;
  }

  private isScalingEvent(d: Deployment, rsList: ReplicaSet[]): boolean {
    const replicas = String(d.spec?.replicas ?? 1);
    return rsList.some((rs) => specReplicas(rs) > 0 && rs.metadata?.annotations?.[DESIRED_REPLICAS] !== undefined && rs.metadata.annotations[DESIRED_REPLICAS] !== replicas);
  }

  // ------------------------------------------------------------------ strategies

  private async rolloutRolling(d: Deployment, rsList: ReplicaSet[]): Promise<{ requeueAfter?: number } | void> {
    const { newRS: created, old, flags } = await this.getAll(d, rsList, true);
    let newRS = created as ReplicaSet;
    const all = (): ReplicaSet[] => [...old, newRS];
    const replicas = d.spec?.replicas ?? 1;
    // Scale up the new RS as far as maxSurge allows.
    if (specReplicas(newRS) !== replicas) {
      const size = specReplicas(newRS) > replicas ? replicas : newRSNewReplicas(d, all(), newRS);
      if (size !== specReplicas(newRS)) {
        newRS = await this.scaleRS(d, newRS, size);
        return this.syncStatus(d, all(), newRS, flags);
      }
    }
    // Scale down old RSs as far as maxUnavailable allows.
    if (sumSpec(old) > 0) {
      let budget = maxScaledDown(d, all(), newRS);
      let scaled = 0;
      if (budget > 0) {
        // First the unhealthy replicas: they do not count as available anyway.
        for (const [i, rs] of old.entries()) {
          if (budget <= 0) break;
          const unhealthy = specReplicas(rs) - availableOf(rs);
          if (specReplicas(rs) === 0 || unhealthy <= 0) continue;
          const n = Math.min(budget, unhealthy);
          old[i] = await this.scaleRS(d, rs, specReplicas(rs) - n);
          budget -= n;
          scaled += n;
        }
        const minAvailable = replicas - maxUnavailable(d);
        let down = sumAvailable(all()) - minAvailable;
        for (const [i, rs] of old.entries()) {
          if (down <= 0) break;
          if (specReplicas(rs) === 0) continue;
          const n = Math.min(specReplicas(rs), down);
          old[i] = await this.scaleRS(d, rs, specReplicas(rs) - n);
          down -= n;
          scaled += n;
        }
      }
      if (scaled > 0) return this.syncStatus(d, all(), newRS, flags);
    }
    const status = this.calculateStatus(d, all(), newRS);
    if (isComplete(d, status)) await this.cleanup(d, old);
    return this.syncStatus(d, all(), newRS, flags);
  }

  private async rolloutRecreate(d: Deployment, rsList: ReplicaSet[]): Promise<{ requeueAfter?: number } | void> {
    const got = await this.getAll(d, rsList, false);
    const old = got.old;
    let scaled = false;
    for (const [i, rs] of old.entries()) {
      if (specReplicas(rs) === 0) continue;
      old[i] = await this.scaleRS(d, rs, 0);
      scaled = true;
    }
    if (scaled) return this.syncStatus(d, [...old, ...(got.newRS ? [got.newRS] : [])], got.newRS, got.flags);
    const oldPods = old.some((rs) => this.pods.byIndex('owner', rs.metadata?.uid ?? '').some((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'));
    if (oldPods) return this.syncStatus(d, [...old, ...(got.newRS ? [got.newRS] : [])], got.newRS, got.flags);
    const { newRS: created, flags } = got.newRS ? got : await this.getAll(d, rsList, true);
    let newRS = created as ReplicaSet;
    newRS = await this.scaleRS(d, newRS, d.spec?.replicas ?? 1);
    const status = this.calculateStatus(d, [...old, newRS], newRS);
    if (isComplete(d, status)) await this.cleanup(d, old);
    return this.syncStatus(d, [...old, newRS], newRS, flags);
  }

  private async syncPaused(d: Deployment, rsList: ReplicaSet[]): Promise<{ requeueAfter?: number } | void> {
    const { newRS, old, flags } = await this.getAll(d, rsList, false);
    const all = [...old, ...(newRS ? [newRS] : [])];
    if (this.isScalingEvent(d, rsList)) await this.scaleProportionally(d, newRS, old);
    await this.cleanup(d, old);
    return this.syncStatus(d, all, newRS, flags);
  }

  private async syncScale(d: Deployment, rsList: ReplicaSet[]): Promise<{ requeueAfter?: number } | void> {
    const { newRS, old, flags } = await this.getAll(d, rsList, false);
    const sized = await this.scaleProportionally(d, newRS, old);
    return this.syncStatus(d, sized, sized.find((r) => r.metadata?.uid === newRS?.metadata?.uid), flags);
  }

  /** Spreads a replica change over the active RSs in proportion to their sizes. */
  private async scaleProportionally(d: Deployment, newRS: ReplicaSet | undefined, old: ReplicaSet[]): Promise<ReplicaSet[]> {
    const all = [...old, ...(newRS ? [newRS] : [])];
    const active = all.filter((rs) => specReplicas(rs) > 0);
    const replicas = d.spec?.replicas ?? 1;
    const out: ReplicaSet[] = [];
    if (active.length <= 1) {
      const target = active[0] ?? newRS ?? [...all].sort(byCreation).pop();
      for (const rs of all) out.push(rs === target ? await this.scaleRS(d, rs, replicas) : rs);
      return out;
    }
    const previous = Number(active[0].metadata?.annotations?.[DESIRED_REPLICAS] ?? '') || (d.status?.replicas ?? replicas);
    const sizes = proportionalSizes(d, active, previous);
    for (const rs of all) {
      const size = sizes.get(rs.metadata?.name ?? '');
      out.push(size === undefined ? rs : await this.scaleRS(d, rs, size));
    }
    return out;
  }

  /** Deletes old, fully scaled-down RSs beyond revisionHistoryLimit, oldest revision first. */
  private async cleanup(d: Deployment, old: ReplicaSet[]): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit ?? 10;
    const candidates = old
      .filter((rs) => specReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata?.deletionTimestamp)
      .sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of candidates.slice(0, Math.max(0, candidates.length - limit))) {
      try {
        await this.ctx.client.delete('replicasets', rs.metadata?.name ?? '', { namespace: rs.metadata?.namespace, preconditions: { uid: rs.metadata?.uid } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  // ------------------------------------------------------------------ status

  private calculateStatus(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined): apps.DeploymentStatus {
    const replicas = d.spec?.replicas ?? 1;
    const sum = (f: (s: apps.ReplicaSetStatus) => number | undefined): number => all.reduce((n, rs) => n + (f((rs.status ?? {}) as apps.ReplicaSetStatus) ?? 0), 0);
    const available = sum((s) => s.availableReplicas);
    return {
      observedGeneration: d.metadata?.generation,
      replicas: sum((s) => s.replicas),
      updatedReplicas: newRS?.status?.replicas ?? 0,
      readyReplicas: sum((s) => s.readyReplicas),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, replicas - available),
      ...(d.status?.collisionCount ? { collisionCount: d.status.collisionCount } : {}),
    };
  }

  private async syncStatus(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined, flags: SyncFlags): Promise<{ requeueAfter?: number } | void> {
    const now = this.ctx.clock.now();
    const ts = nowTimestamp(now);
    const prev = (d.status ?? {}) as apps.DeploymentStatus;
    const status = this.calculateStatus(d, all, newRS);
    const conds: Condition[] = [...(prev.conditions ?? [])].map((c) => ({ ...c }));
    const set = (c: Condition, keepUpdateTime = false): void => {
      const i = conds.findIndex((x) => x.type === c.type);
      const cur = i >= 0 ? conds[i] : undefined;
      if (cur && cur.status === c.status && cur.reason === c.reason && keepUpdateTime) return;
      const next: Condition = { ...c, lastUpdateTime: ts, lastTransitionTime: cur && cur.status === c.status ? cur.lastTransitionTime : ts };
      if (i >= 0) conds[i] = next;
      else conds.push(next);
    };
    const replicas = d.spec?.replicas ?? 1;
    const minAvailable = replicas - maxUnavailable(d);
    if ((status.availableReplicas ?? 0) >= minAvailable)
      set({ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }, true);
    else set({ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }, true);

    const deadline = d.spec?.progressDeadlineSeconds;
    const rsName = newRS?.metadata?.name ?? '';
    const progressing = conds.find((c) => c.type === 'Progressing');
    let requeueAfter: number | undefined;
    if (d.spec?.paused) {
      set({ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }, true);
    } else if (deadline !== undefined && deadline !== null) {
      const complete = isComplete(d, status);
      if (complete && newRS) {
        set({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` }, true);
      } else if (flags.created) {
        set({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` });
      } else if (flags.found && newRS) {
        set({ type: 'Progressing', status: 'True', reason: 'FoundNewReplicaSet', message: `Found new replica set "${rsName}"` });
      } else if (progressing?.reason === 'DeploymentPaused') {
        set({ type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' });
      } else if (newRS && (madeProgress(prev, status) || progressing?.reason === 'NewReplicaSetAvailable')) {
        set({ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` });
      } else if (progressing && progressing.reason !== 'ProgressDeadlineExceeded' && progressing.reason !== 'NewReplicaSetAvailable') {
        const from = Date.parse(progressing.lastUpdateTime ?? progressing.lastTransitionTime ?? ts);
        const due = from + deadline * 1000;
        if (now >= due) {
          set({ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.` });
          this.ctx.recorder.event(d, 'Warning', 'ProgressDeadlineExceeded', `Deployment "${d.metadata?.name}" has timed out progressing.`);
        } else requeueAfter = due - now + 100;
      }
      const p = conds.find((c) => c.type === 'Progressing');
      if (!complete && p?.status === 'True' && requeueAfter === undefined) {
        const from = Date.parse(p.lastUpdateTime ?? ts);
        requeueAfter = Math.max(100, from + deadline * 1000 - now + 100);
      }
    }
    if (conds.length) status.conditions = conds;
    await updateStatusIfChanged(this.ctx.client, 'deployments', d, status, () => isDeepStrictEqual(JSON.parse(JSON.stringify(prev)), JSON.parse(JSON.stringify(status))));
    return requeueAfter !== undefined ? { requeueAfter } : undefined;
  }
}
