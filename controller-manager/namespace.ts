/**
 * Namespace controller: a namespace being deleted has everything in it deleted (background
 * propagation), and once nothing is left its `kubernetes` finalizer is removed through
 * namespaces/finalize, which lets the apiserver remove the namespace.
 */
import { isConflict, isNotFound } from '../api/errors.js';
import { RESOURCES } from '../api/resources.js';
import type { Controller, ControllerContext, Enqueue } from './context.js';

export class NamespaceController implements Controller {
  readonly name = 'namespace';
  readonly primary = 'namespaces' as const;
  private readonly nss;

  constructor(private readonly ctx: ControllerContext) {
    this.nss = ctx.informers.get('namespaces');
  }

  register(q: Enqueue): void {
    this.nss.addHandler({
      onAdd: (n) => n.metadata?.deletionTimestamp && q.add(n.metadata.name ?? ''),
      onUpdate: (_o, n) => n.metadata?.deletionTimestamp && q.add(n.metadata.name ?? ''),
    });
  }

  async reconcile(name: string): Promise<{ requeueAfter: number } | void> {
    const ns = this.nss.get(name);
    if (!ns?.metadata?.deletionTimestamp || !ns.spec?.finalizers?.includes('kubernetes')) return;
    const { client } = this.ctx;
    let remaining = 0;
    for (const info of RESOURCES) {
      // Virtual kinds (the reviews, LocalSubjectAccessReview is namespaced) are answered, never stored.
      if (!info.namespaced || info.virtual) continue;
      const list = await client.list(info.resource, { namespace: name });
      for (const o of list.items) {
        remaining++;
        if (o.metadata?.deletionTimestamp) continue;
        try {
          await client.delete(info.resource, o.metadata?.name ?? '', { namespace: name, propagationPolicy: 'Background' });
        } catch (err) {
          if (!isNotFound(err) && !isConflict(err)) throw err;
        }
      }
    }
    // Graceful pod deletions and finalizers take a while: poll, as Kubernetes' namespace controller does.
    if (remaining > 0) return { requeueAfter: 500 };
    try {
      await client.update('namespaces', { ...ns, spec: { finalizers: ns.spec.finalizers.filter((f) => f !== 'kubernetes') } }, { subresource: 'finalize' });
      this.ctx.log.info({ namespace: name }, 'namespace emptied and finalized');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
