/**
 * DaemonSet controller: one pod on every eligible node (nodeSelector, required node affinity, taints the
 * pod tolerates once the DaemonSet tolerations Kubernetes adds are included), pinned with node affinity
 * on metadata.name; follows nodes as they join and leave; RollingUpdate replaces old-template pods
 * node by node within maxUnavailable.
 */
import { isNotFound } from '../api/errors.js';
import { clone, controllerRef, isPodReady, ownerRefTo } from '../api/objects.js';
import { keyOf, type apps, type core } from '../api/types.js';
import type { Controller, ControllerContext, Enqueue } from './context.js';
import { enqueueFor, enqueueOwner, updateStatusIfChanged } from './handlers.js';
import { scaledValue, templateHash } from '../api/deploymentutil.js';
import { REVISION_LABEL } from './statefulset.js';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, untoleratedTaints } from './taints.js';
import type { DaemonSet, Node, Pod } from './types.js';
import { Expectations } from './expectations.js';

/** Tolerations Kubernetes adds to every DaemonSet pod, so daemons survive node trouble. */
export const DAEMON_TOLERATIONS: core.Toleration[] = [
  { key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute' },
  { key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: TAINT_UNSCHEDULABLE, operator: 'Exists', effect: 'NoSchedule' },
];

function withDaemonTolerations(spec: core.PodSpec | undefined): core.Toleration[] {
  const tols = [...(spec?.tolerations ?? [])];
  for (const t of DAEMON_TOLERATIONS) if (!tols.some((x) => x.key === t.key && x.effect === t.effect)) tols.push(t);
  if (spec?.hostNetwork) tols.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return tols;
}

function matchesNodeAffinity(spec: core.PodSpec | undefined, node: Node): boolean {
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (node.metadata?.labels?.[k] !== v) return false;
  const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms?.length) return true;
  const labels = node.metadata?.labels ?? {};
  return terms.some((t) =>
    (t.matchExpressions ?? []).every((e) => {
      const has = e.key in labels;
      switch (e.operator) {
        case 'In':
          return has && (e.values ?? []).includes(labels[e.key]);
        case 'NotIn':
          return !has || !(e.values ?? []).includes(labels[e.key]);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
        default:
          return false;
      }
    }) && (t.matchFields ?? []).every((f) => f.key !== 'metadata.name' || (f.operator === 'In') === (f.values ?? []).includes(node.metadata?.name ?? '')),
  );
}

/** Whether a new daemon pod should start on the node, and whether an existing one may keep running. */
export function nodeShouldRunDaemon(ds: DaemonSet, node: Node): { shouldRun: boolean; shouldContinue: boolean } {
  const spec = ds.spec?.template?.spec;
  if (!matchesNodeAffinity(spec, node)) return { shouldRun: false, shouldContinue: false };
  const tols = withDaemonTolerations(spec);
  const taints = node.spec?.taints ?? [];
  return {
    shouldRun: untoleratedTaints(taints, tols, ['NoSchedule', 'NoExecute']).length === 0,
    shouldContinue: untoleratedTaints(taints, tols, ['NoExecute']).length === 0,
  };
}

export class DaemonSetController implements Controller {
  readonly name = 'daemonset';
  readonly primary = 'daemonsets' as const;
  private readonly sets;
  private readonly pods;
  private readonly nodes;
  private readonly expectations: Expectations;

  constructor(private readonly ctx: ControllerContext) {
    this.expectations = new Expectations(ctx.clock);
    this.sets = ctx.informers.get('daemonsets');
    this.pods = ctx.informers.get('pods');
    this.nodes = ctx.informers.get('nodes');
  }

  register(q: Enqueue): void {
    enqueueFor(this.sets, q, { deletes: false });
    enqueueOwner(this.pods, 'DaemonSet', q, { created: (k) => this.expectations.creationObserved(k) });
    const all = (): void => this.sets.list().forEach((s) => q.add(keyOf(s)));
    this.nodes.addHandler({
      onAdd: all,
      onDelete: all,
      onUpdate: (o, n) => {
        if (JSON.stringify([o.metadata?.labels, o.spec?.taints]) !== JSON.stringify([n.metadata?.labels, n.spec?.taints])) all();
      },
    });
  }

  async reconcile(key: string): Promise<{ requeueAfter: number } | void> {
    const ds = this.sets.get(key);
    if (!ds || ds.metadata?.deletionTimestamp) return;
    const uid = ds.metadata?.uid ?? '';
    const hash = templateHash(ds.spec?.template);
    const pods = this.pods.byIndex('owner', uid).filter((p) => controllerRef(p)?.uid === uid);
    const byNode = new Map<string, Pod[]>();
    for (const p of pods) {
      const n = p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] ?? p.spec?.nodeName ?? '';
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }
    const nodes = this.nodes.list();
    const toDelete: Pod[] = [];
    const toCreate: string[] = [];
    let desired = 0;
    for (const node of nodes) {
      const name = node.metadata?.name ?? '';
      const { shouldRun, shouldContinue } = nodeShouldRunDaemon(ds, node);
      if (shouldRun) desired++;
      const here = (byNode.get(name) ?? []).filter((p) => !p.metadata?.deletionTimestamp);
      byNode.delete(name);
      const failed = here.filter((p) => p.status?.phase === 'Failed');
      toDelete.push(...failed);
      const ok = here.filter((p) => p.status?.phase !== 'Failed');
      if (shouldRun && ok.length === 0 && failed.length === 0 && !(byNodeTerminating(pods, name))) toCreate.push(name);
      else if (!shouldContinue && ok.length) toDelete.push(...ok);
      else if (ok.length > 1) {
        const sorted = [...ok].sort((a, b) => Date.parse(a.metadata?.creationTimestamp ?? '') - Date.parse(b.metadata?.creationTimestamp ?? ''));
        toDelete.push(...sorted.slice(1));
      }
    }
    // Pods for nodes that no longer exist.
    for (const ps of byNode.values()) toDelete.push(...ps.filter((p) => !p.metadata?.deletionTimestamp));
    // Rolling update: replace old-template pods while within maxUnavailable.
    if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const maxUnavailable = Math.max(1, scaledValue(ds.spec?.updateStrategy?.rollingUpdate?.maxUnavailable, desired, true, '1'));
      const live = pods.filter((p) => !p.metadata?.deletionTimestamp && !toDelete.includes(p));
      let unavailable = desired - live.filter(isPodReady).length;
      for (const p of live) {
        if (unavailable >= maxUnavailable) break;
        if (p.metadata?.labels?.[REVISION_LABEL] !== hash && isPodReady(p)) {
          toDelete.push(p);
          unavailable++;
        }
      }
    }
    // A slow watch must not make a second pod for a node: wait until our creations have been seen.
    if (toCreate.length && this.expectations.satisfied(key)) {
      this.expectations.expectCreations(key, toCreate.length);
      for (const [i, node] of toCreate.entries()) {
        try {
          await this.createPod(ds, node, hash);
        } catch (err) {
          for (let j = i; j < toCreate.length; j++) this.expectations.creationObserved(key);
          throw err;
        }
      }
    }
    for (const p of toDelete) {
      try {
        await this.ctx.client.delete('pods', p.metadata?.name ?? '', { namespace: p.metadata?.namespace, preconditions: { uid: p.metadata?.uid } });
        this.ctx.recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    await this.updateStatus(ds, pods, nodes, hash);
    // Held by expectations (creations not yet observed): come back when they expire, as the ReplicaSet controller does.
    const held = this.expectations.expiresInMs(key);
    if (held !== undefined) return { requeueAfter: held + 100 };
  }

  private async createPod(ds: DaemonSet, node: string, hash: string): Promise<void> {
    const t = clone(ds.spec?.template ?? {});
    const spec = (t.spec ?? { containers: [] }) as core.PodSpec;
    spec.tolerations = withDaemonTolerations(spec);
    const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [{}];
    spec.affinity = {
      ...spec.affinity,
      nodeAffinity: {
        ...spec.affinity?.nodeAffinity,
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: terms.map((term) => ({ ...term, matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] })),
        },
      },
    };
    const created = await this.ctx.client.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${ds.metadata?.name}-`,
        namespace: ds.metadata?.namespace,
        labels: { ...(t.metadata?.labels ?? {}), [REVISION_LABEL]: hash, 'pod-template-generation': String(ds.metadata?.generation ?? 1) },
        ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
        ownerReferences: [ownerRefTo(ds)],
      },
      spec,
    });
    this.ctx.recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
  }

  private async updateStatus(ds: DaemonSet, pods: Pod[], nodes: Node[], hash: string): Promise<void> {
    const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
    const onNode = (n: string): Pod[] => live.filter((p) => p.spec?.nodeName === n || p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] === n);
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let updated = 0;
    for (const node of nodes) {
      const n = node.metadata?.name ?? '';
      const { shouldRun } = nodeShouldRunDaemon(ds, node);
      const here = onNode(n);
      if (shouldRun) {
        desired++;
        if (here.length) current++;
        if (here.some(isPodReady)) ready++;
        if (here.some((p) => p.metadata?.labels?.[REVISION_LABEL] === hash)) updated++;
      } else if (here.length) misscheduled++;
    }
    const status: apps.DaemonSetStatus = {
      desiredNumberScheduled: desired,
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      numberReady: ready,
      numberAvailable: ready,
      numberUnavailable: Math.max(0, desired - ready),
      updatedNumberScheduled: updated,
      observedGeneration: ds.metadata?.generation,
    };
    await updateStatusIfChanged(this.ctx.client, 'daemonsets', ds, status, (cur) => {
      const prev = (cur ?? {}) as Record<string, unknown>;
      return Object.entries(status).every(([k, v]) => prev[k] === v || (v === 0 && prev[k] === undefined));
    });
  }
}

function byNodeTerminating(pods: Pod[], node: string): boolean {
  return pods.some((p) => p.metadata?.deletionTimestamp && (p.spec?.nodeName === node));
}
