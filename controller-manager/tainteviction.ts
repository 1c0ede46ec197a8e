/**
 * Taint-based eviction (the NoExecute taint manager): a pod on a node with NoExecute taints is deleted
 * when a taint is not tolerated, or once its tolerationSeconds (the apiserver adds 300 s, or the lab's
 * --default-toleration-seconds, for not-ready/unreachable) have run out since the taint was added.
 */
import { isNotFound } from '../api/errors.js';
import { keyOf } from '../api/types.js';
import type { Controller, ControllerContext, Enqueue } from './context.js';
import { evictionTime } from './taints.js';

export class TaintEvictionController implements Controller {
  readonly name = 'taint-eviction';
  readonly primary = 'pods' as const;
  private readonly pods;
  private readonly nodes;
  private readonly firstSeen = new Map<string, number>();

  constructor(private readonly ctx: ControllerContext) {
    this.pods = ctx.informers.get('pods');
    this.nodes = ctx.informers.get('nodes');
  }

  register(q: Enqueue): void {
    this.pods.addHandler({
      onAdd: (p) => p.spec?.nodeName && q.add(keyOf(p)),
      onUpdate: (o, p) => p.spec?.nodeName && (o.spec?.nodeName !== p.spec.nodeName || o.spec?.tolerations !== p.spec.tolerations) && q.add(keyOf(p)),
      onDelete: (p) => this.firstSeen.delete(keyOf(p)),
    });
    this.nodes.addHandler({
      onUpdate: (o, n) => {
        if (JSON.stringify(o.spec?.taints ?? []) === JSON.stringify(n.spec?.taints ?? [])) return;
        for (const p of this.pods.byIndex('node', n.metadata?.name ?? '')) q.add(keyOf(p));
      },
    });
  }

  async reconcile(key: string): Promise<{ requeueAfter: number } | void> {
    const pod = this.pods.get(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName || pod.metadata?.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
      this.firstSeen.delete(key);
      return;
    }
    const taints = (this.nodes.get(nodeName)?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
    if (taints.length === 0) {
      this.firstSeen.delete(key);
      return;
    }
    const now = this.ctx.clock.now();
    if (!this.firstSeen.has(key)) this.firstSeen.set(key, now);
    const at = evictionTime(taints, pod.spec?.tolerations ?? [], now, this.firstSeen.get(key));
    if (at === Infinity) return;
    if (at > now) return { requeueAfter: at - now + 20 };
    try {
      await this.ctx.client.delete('pods', pod.metadata?.name ?? '', { namespace: pod.metadata?.namespace, preconditions: { uid: pod.metadata?.uid } });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    this.firstSeen.delete(key);
    this.ctx.log.info({ pod: key, node: nodeName, taints: taints.map((t) => t.key) }, 'evicted pod for NoExecute taint');
    this.ctx.recorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
  }
}
