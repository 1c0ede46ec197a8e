/** Pure Deployment arithmetic, as Kubernetes' deployment/util (tested in deploymentutil.test.ts). */
import { isDeepStrictEqual } from 'node:util';
import type { KObject, apps, core } from './types.js';

type Deployment = apps.Deployment & KObject;
type ReplicaSet = apps.ReplicaSet & KObject;

export const REVISION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const HASH_LABEL = 'pod-template-hash';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';

/** Resolves an int-or-percent against `total`; percentages round up or down as asked. */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean, dflt: string): number {
  const x = v ?? dflt;
  if (typeof x === 'number') return x;
  const m = /^(\d+)%$/.exec(x);
  if (!m) return Number(x) || 0;
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}

/** (maxSurge, maxUnavailable) as Kubernetes' ResolveFenceposts: surge rounds up, unavailable down, never both 0. */
export function resolveFenceposts(d: Deployment): { surge: number; unavailable: number } {
  const replicas = d.spec?.replicas ?? 1;
  const ru = d.spec?.strategy?.rollingUpdate;
  const surge = scaledValue(ru?.maxSurge, replicas, true, '25%');
  let unavailable = scaledValue(ru?.maxUnavailable, replicas, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

export function maxUnavailable(d: Deployment): number {
  const replicas = d.spec?.replicas ?? 1;
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, replicas);
}

export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? resolveFenceposts(d).surge : 0;
}

export const specReplicas = (rs: ReplicaSet | undefined): number => rs?.spec?.replicas ?? 0;
/** Available pods of an RS, never more than it is scaled to (its status lags a scale-down). */
export const availableOf = (rs: ReplicaSet | undefined): number => Math.min(rs?.status?.availableReplicas ?? 0, specReplicas(rs));
export const sumSpec = (rss: ReplicaSet[]): number => rss.reduce((n, r) => n + specReplicas(r), 0);
export const sumAvailable = (rss: ReplicaSet[]): number => rss.reduce((n, r) => n + availableOf(r), 0);

export function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } } | undefined): number {
  const v = Number(obj?.metadata?.annotations?.[REVISION] ?? '0');
  return Number.isFinite(v) ? v : 0;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-32a over the template's canonical JSON (+ collisionCount), encoded as Kubernetes' SafeEncodeString. */
export function templateHash(template: core.PodTemplateSpec | undefined, collisionCount?: number): string {
  const text = JSON.stringify(sortKeys(template ?? {})) + (collisionCount ? String(collisionCount) : '');
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [...String(h)].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join('');
}

/**
 * Go's semantic equality sees no difference between a field that is null, empty or absent (kubectl sends
 * `creationTimestamp: null` in the template it copies back on `rollout undo`): drop them all.
 */
export function semantic(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? v.map(semantic) : undefined;
  if (v === null || typeof v !== 'object') return v === null ? undefined : v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const n = semantic(x);
    if (n !== undefined) out[k] = n;
  }
  return Object.keys(out).length ? out : undefined;
}

function withoutHash(t: core.PodTemplateSpec | undefined): unknown {
  const c = structuredClone(t ?? {}) as core.PodTemplateSpec;
  if (c.metadata?.labels) delete c.metadata.labels[HASH_LABEL];
  return semantic(c) ?? {};
}

/** Template equality ignoring the pod-template-hash label (EqualIgnoreHash). */
export function equalIgnoreHash(a: core.PodTemplateSpec | undefined, b: core.PodTemplateSpec | undefined): boolean {
  return isDeepStrictEqual(withoutHash(a), withoutHash(b));
}

/** A template with the hash label removed: what `rollout undo` copies back into the Deployment. */
export function templateWithoutHash(t: core.PodTemplateSpec | undefined): core.PodTemplateSpec {
  return withoutHash(t) as core.PodTemplateSpec;
}

export const byCreation = (a: ReplicaSet, b: ReplicaSet): number =>
  Date.parse(a.metadata?.creationTimestamp ?? '') - Date.parse(b.metadata?.creationTimestamp ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');

/** Replicas the new RS should have now (NewRSNewReplicas). */
export function newRSNewReplicas(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet): number {
  const replicas = d.spec?.replicas ?? 1;
  if (!isRollingUpdate(d)) return replicas;
  const current = sumSpec(all);
  const maxTotal = replicas + maxSurge(d);
  if (current >= maxTotal) return specReplicas(newRS);
  const up = Math.min(maxTotal - current, replicas - specReplicas(newRS));
  return specReplicas(newRS) + Math.max(0, up);
}

/** How many old replicas may go now, given unavailability (reconcileOldReplicaSets' first bound). */
export function maxScaledDown(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined): number {
  const minAvailable = (d.spec?.replicas ?? 1) - maxUnavailable(d);
  const newUnavailable = specReplicas(newRS) - availableOf(newRS);
  return sumSpec(all) - minAvailable - newUnavailable;
}

/**
 * Proportional scaling of active RSs when the Deployment is resized mid-rollout (DeploymentController.scale):
 * returns new sizes by RS name.
 */
export function proportionalSizes(d: Deployment, active: ReplicaSet[], previousReplicas: number): Map<string, number> {
  const replicas = d.spec?.replicas ?? 1;
  const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
  const toAdd = allowed - sumSpec(active);
  const sorted = [...active].sort((a, b) => (toAdd > 0 ? specReplicas(b) - specReplicas(a) || byCreation(b, a) : specReplicas(b) - specReplicas(a) || byCreation(a, b)));
  const sizes = new Map<string, number>();
  let added = 0;
  for (const rs of sorted) {
    let proportion = 0;
    if (specReplicas(rs) > 0 && toAdd !== 0 && toAdd !== added) {
      const annotated = Number(rs.metadata?.annotations?.[MAX_REPLICAS] ?? '') || previousReplicas;
      const fraction = replicas === 0 ? -specReplicas(rs) : Math.round((specReplicas(rs) * allowed) / Math.max(1, annotated)) - specReplicas(rs);
      const left = toAdd - added;
      proportion = toAdd > 0 ? Math.min(fraction, left) : Math.max(fraction, left);
    }
    added += proportion;
    sizes.set(rs.metadata?.name ?? '', specReplicas(rs) + proportion);
  }
  if (sorted.length && added !== toAdd) {
    const first = sorted[0].metadata?.name ?? '';
    sizes.set(first, Math.max(0, (sizes.get(first) ?? 0) + toAdd - added));
  }
  return sizes;
}

/** Deployment is complete: all replicas updated and available, and the newest spec observed. */
export function isComplete(d: Deployment, s: apps.DeploymentStatus): boolean {
  const replicas = d.spec?.replicas ?? 1;
  return (s.updatedReplicas ?? 0) === replicas && (s.replicas ?? 0) === replicas && (s.availableReplicas ?? 0) === replicas && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/** The rollout made progress between two statuses (DeploymentProgressing). */
export function madeProgress(old: apps.DeploymentStatus, next: apps.DeploymentStatus): boolean {
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (next.replicas ?? 0) - (next.updatedReplicas ?? 0);
  return (
    (next.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (next.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (next.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}
