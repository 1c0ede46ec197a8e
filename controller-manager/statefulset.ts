/**
 * StatefulSet controller: pods `<name>-<ordinal>` with hostname = pod name and subdomain = serviceName,
 * one PVC per volumeClaimTemplate and ordinal (`<tpl>-<sts>-<ordinal>`, never deleted by scale-down or
 * pod deletion), OrderedReady (one at a time, in order; scale down from the highest ordinal) or Parallel,
 * RollingUpdate in reverse ordinal down to `partition` using the controller-revision-hash label.
 * A pod that still exists (even terminating on a lost node) blocks its ordinal: at most one pod each.
 */
import { isAlreadyExists, isNotFound } from '../api/errors.js';
import { clone, controllerRef, isPodReady, ownerRefTo } from '../api/objects.js';
import { fromLabelSelector } from '../api/selectors.js';
import { splitKey, type apps, type core } from '../api/types.js';
import type { Controller, ControllerContext, Enqueue } from './context.js';
import { enqueueFor, enqueueOwner, updateStatusIfChanged } from './handlers.js';
import { templateHash } from '../api/deploymentutil.js';
import { claim } from './ownership.js';
import type { Pod, StatefulSet } from './types.js';

export const REVISION_LABEL = 'controller-revision-hash';
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export function ordinalOf(stsName: string, podName: string): number {
  const m = new RegExp(`^${stsName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`).exec(podName);
  return m ? Number(m[1]) : -1;
}

export function claimName(tpl: string, sts: string, ordinal: number): string {
  return `${tpl}-${sts}-${ordinal}`;
}

const runningAndReady = (p: Pod): boolean => p.status?.phase === 'Running' && isPodReady(p);

export class StatefulSetController implements Controller {
  readonly name = 'statefulset';
  readonly primary = 'statefulsets' as const;
  private readonly sets;
  private readonly pods;
  private readonly pvcs;

  constructor(private readonly ctx: ControllerContext) {
    this.sets = ctx.informers.get('statefulsets');
    this.pods = ctx.informers.get('pods');
    this.pvcs = ctx.informers.get('persistentvolumeclaims');
  }

  register(q: Enqueue): void {
    enqueueFor(this.sets, q, { deletes: false });
    enqueueOwner(this.pods, 'StatefulSet', q);
  }

  async reconcile(key: string): Promise<void> {
    const sts = this.sets.get(key);
    if (!sts || sts.metadata?.deletionTimestamp) return;
    const { namespace } = splitKey(key);
    const name = sts.metadata?.name ?? '';
    const selector = fromLabelSelector(sts.spec?.selector);
    if (!selector?.length) return;
    const candidates = this.pods.byNamespace(namespace).filter((p) => ordinalOf(name, p.metadata?.name ?? '') >= 0 || controllerRef(p)?.uid === sts.metadata?.uid);
    const pods = await claim(this.ctx.client, 'pods', sts, ownerRefTo(sts), selector, candidates);
    const byOrdinal = new Map<number, Pod>();
    for (const p of pods) byOrdinal.set(ordinalOf(name, p.metadata?.name ?? ''), p);
    const replicas = sts.spec?.replicas ?? 1;
    const parallel = sts.spec?.podManagementPolicy === 'Parallel';
    const updateRevision = `${name}-${templateHash(sts.spec?.template)}`;
    await this.ensureRevision(sts, updateRevision);

    let blocked = false;
    // Create / replace pods 0..replicas-1 in order.
    for (let i = 0; i < replicas && !blocked; i++) {
      const pod = byOrdinal.get(i);
      if (!pod) {
        await this.createPod(sts, i, updateRevision);
        if (!parallel) blocked = true;
        continue;
      }
      if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') {
        if (!pod.metadata?.deletionTimestamp) await this.deletePod(sts, pod);
        if (!parallel) blocked = true;
        continue;
      }
      if (!parallel && (pod.metadata?.deletionTimestamp || !runningAndReady(pod))) blocked = true;
    }
    // Scale down: highest ordinal first, one at a time unless Parallel.
    const condemned = [...byOrdinal.entries()].filter(([i]) => i >= replicas).sort((a, b) => b[0] - a[0]);
    if (!blocked) {
      for (const [, pod] of condemned) {
        if (pod.metadata?.deletionTimestamp) {
          if (!parallel) break;
          continue;
        }
        await this.deletePod(sts, pod);
        if (!parallel) break;
      }
    }
    // Rolling update: reverse ordinal down to partition, one pod at a time, only when all are healthy.
    const strategy = sts.spec?.updateStrategy;
    const live = [...byOrdinal.entries()].filter(([i]) => i < replicas);
    const healthy = live.length === replicas && live.every(([, p]) => !p.metadata?.deletionTimestamp && runningAndReady(p));
    if (!blocked && condemned.length === 0 && (strategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && healthy) {
      const partition = strategy?.rollingUpdate?.partition ?? 0;
      for (let i = replicas - 1; i >= partition; i--) {
        const pod = byOrdinal.get(i);
        if (pod && pod.metadata?.labels?.[REVISION_LABEL] !== updateRevision) {
          await this.deletePod(sts, pod);
          break;
        }
      }
    }
    await this.updateStatus(sts, pods, updateRevision);
  }

  private async ensureRevision(sts: StatefulSet, revision: string): Promise<void> {
    const ns = sts.metadata?.namespace;
    try {
      await this.ctx.client.create('controllerrevisions', {
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        metadata: { name: revision, namespace: ns, labels: { ...(sts.spec?.selector?.matchLabels ?? {}), [REVISION_LABEL]: revision }, ownerReferences: [ownerRefTo(sts)] },
        data: { spec: { template: sts.spec?.template } },
        revision: sts.metadata?.generation ?? 1,
      } as apps.ControllerRevision);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  private async createPod(sts: StatefulSet, ordinal: number, revision: string): Promise<void> {
    const name = sts.metadata?.name ?? '';
    const ns = sts.metadata?.namespace ?? '';
    const podName = `${name}-${ordinal}`;
    for (const tpl of sts.spec?.volumeClaimTemplates ?? []) {
      const cn = claimName(tpl.metadata?.name ?? '', name, ordinal);
      if (this.pvcs.get(`${ns}/${cn}`)) continue;
      try {
        await this.ctx.client.create('persistentvolumeclaims', {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: cn, namespace: ns, labels: { ...(sts.spec?.selector?.matchLabels ?? {}), ...(tpl.metadata?.labels ?? {}) }, ...(tpl.metadata?.annotations ? { annotations: tpl.metadata.annotations } : {}) },
          spec: clone(tpl.spec ?? {}),
        });
        this.ctx.recorder.event(sts, 'Normal', 'SuccessfulCreate', `create Claim ${cn} Pod ${podName} in StatefulSet ${name} success`);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
    const t = clone(sts.spec?.template ?? {});
    const spec = (t.spec ?? { containers: [] }) as core.PodSpec;
    const claims = (sts.spec?.volumeClaimTemplates ?? []).map((tpl) => tpl.metadata?.name ?? '');
    spec.volumes = [
      ...(spec.volumes ?? []).filter((v) => !claims.includes(v.name)),
      ...claims.map((c) => ({ name: c, persistentVolumeClaim: { claimName: claimName(c, name, ordinal) } })),
    ];
    if (!spec.volumes.length) delete spec.volumes;
    spec.hostname = podName;
    if (sts.spec?.serviceName) spec.subdomain = sts.spec.serviceName;
    const pod: core.Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace: ns,
        labels: { ...(t.metadata?.labels ?? {}), [REVISION_LABEL]: revision, [POD_NAME_LABEL]: podName, [POD_INDEX_LABEL]: String(ordinal) },
        ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
        ownerReferences: [ownerRefTo(sts)],
      },
      spec,
    };
    try {
      await this.ctx.client.create('pods', pod);
      this.ctx.recorder.event(sts, 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${name} successful`);
    } catch (err) {
      // The previous pod of this ordinal is still terminating: wait for its DELETE event.
      if (!isAlreadyExists(err)) throw err;
    }
  }

  private async deletePod(sts: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.ctx.client.delete('pods', pod.metadata?.name ?? '', { namespace: pod.metadata?.namespace, preconditions: { uid: pod.metadata?.uid } });
      this.ctx.recorder.event(sts, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata?.name} in StatefulSet ${sts.metadata?.name} successful`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async updateStatus(sts: StatefulSet, pods: Pod[], updateRevision: string): Promise<void> {
    const active = pods.filter((p) => !p.metadata?.deletionTimestamp);
    const updated = active.filter((p) => p.metadata?.labels?.[REVISION_LABEL] === updateRevision).length;
    const replicas = sts.spec?.replicas ?? 1;
    const prev = (sts.status ?? {}) as apps.StatefulSetStatus;
    const done = updated === replicas && active.length === replicas;
    const currentRevision = done ? updateRevision : (prev.currentRevision ?? updateRevision);
    const status: apps.StatefulSetStatus = {
      observedGeneration: sts.metadata?.generation,
      replicas: active.length,
      readyReplicas: active.filter(isPodReady).length,
      availableReplicas: active.filter(isPodReady).length,
      currentReplicas: active.filter((p) => p.metadata?.labels?.[REVISION_LABEL] === currentRevision).length,
      updatedReplicas: updated,
      currentRevision,
      updateRevision,
      collisionCount: prev.collisionCount ?? 0,
    };
    await updateStatusIfChanged(
      this.ctx.client,
      'statefulsets',
      sts,
      status,
      () => JSON.stringify(status) === JSON.stringify({ ...status, ...prev, conditions: undefined }) && prev.observedGeneration === status.observedGeneration,
    );
  }
}
