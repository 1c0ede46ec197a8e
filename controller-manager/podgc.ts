/**
 * Pod garbage collector. Force-deletes (gracePeriodSeconds 0):
 *  - pods bound to a node that no longer exists (checked against the API, not only the cache);
 *  - with --force-delete-lost-pods (lab preset): terminating pods on a node that is not Ready and
 *    carries the unreachable/not-ready NoExecute taint, once their grace period is over. Kubernetes only
 *    does this for nodes with the `node.kubernetes.io/out-of-service` taint (also honoured here); the lab
 *    assumes a lost node container is really gone, so StatefulSet pods come back without an admin step.
 */
import { isNotFound } from '../api/errors.js';
import { isNodeReady } from '../api/objects.js';
import { keyOf } from '../api/types.js';
import type { Controller, ControllerContext, Enqueue } from './context.js';
import { TAINT_NOT_READY, TAINT_UNREACHABLE } from './taints.js';

export const TAINT_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

export class PodGcController implements Controller {
  readonly name = 'podgc';
  readonly primary = 'pods' as const;
  private readonly pods;
  private readonly nodes;
  private q?: Enqueue;

  constructor(private readonly ctx: ControllerContext) {
    this.pods = ctx.informers.get('pods');
    this.nodes = ctx.informers.get('nodes');
  }

  register(q: Enqueue): void {
    this.q = q;
    this.pods.addHandler({
      onAdd: (p) => p.spec?.nodeName && q.add(keyOf(p)),
      onUpdate: (_o, p) => p.spec?.nodeName && p.metadata?.deletionTimestamp && q.add(keyOf(p)),
    });
    const nodePods = (n: { metadata?: { name?: string } }): void => {
      for (const p of this.pods.byIndex('node', n.metadata?.name ?? '')) q.add(keyOf(p));
    };
    this.nodes.addHandler({ onUpdate: (_o, n) => nodePods(n), onDelete: nodePods });
  }

  async afterSync(): Promise<void> {
    for (const p of this.pods.list()) if (p.spec?.nodeName) this.q?.add(keyOf(p));
  }

  async reconcile(key: string): Promise<{ requeueAfter: number } | void> {
    const pod = this.pods.get(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName) return;
    const node = this.nodes.get(nodeName);
    if (!node) {
      try {
        await this.ctx.client.get('nodes', nodeName);
        return { requeueAfter: this.ctx.config.podGcPeriodMs };
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      await this.forceDelete(key, pod.metadata?.uid, `node ${nodeName} no longer exists`);
      return;
    }
    if (!pod.metadata?.deletionTimestamp) return;
    const taints = node.spec?.taints ?? [];
    const outOfService = taints.some((t) => t.key === TAINT_OUT_OF_SERVICE && t.effect === 'NoExecute');
    const lost = taints.some((t) => (t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY) && t.effect === 'NoExecute');
    if (isNodeReady(node) || !(outOfService || (this.ctx.config.forceDeleteLostPods && lost))) return;
    const due = Date.parse(pod.metadata.deletionTimestamp);
    const now = this.ctx.clock.now();
    if (!outOfService && due > now) return { requeueAfter: Math.min(due - now + 50, this.ctx.config.podGcPeriodMs) };
    await this.forceDelete(key, pod.metadata.uid, `terminating pod on lost node ${nodeName}`);
  }

  private async forceDelete(key: string, uid: string | undefined, why: string): Promise<void> {
    const [namespace, name] = key.split('/');
    try {
      await this.ctx.client.delete('pods', name, { namespace, gracePeriodSeconds: 0, preconditions: uid ? { uid } : undefined });
      this.ctx.log.info({ pod: key, why }, 'force-deleted pod');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
