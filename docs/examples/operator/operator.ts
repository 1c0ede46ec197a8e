/**
 * A tiny operator written with @kubernetes/client-node against kubelab: for every ConfigMap labelled
 * `example.kubelab.io/derive=true` it keeps a ConfigMap `<name>-derived` with `greeting: hello, <data.name>`,
 * owned by its source, and removes it when the source goes or loses the label.
 *
 * The shape is the sample-controller's: informer events only enqueue names; one worker reconciles a
 * name at a time from the informer's cache (never mutating it), writes with server-side apply under its
 * own field manager, and retries a failed name with backoff.
 */
import { CoreV1Api, KubernetesObjectApi, makeInformer, PatchStrategy, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';

export const DERIVE_LABEL = 'example.kubelab.io/derive';
export const FIELD_MANAGER = 'derive-operator';

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Where to report reconcile failures (default: stderr). */
  onError?: (name: string, err: unknown) => void;
}

const derivedName = (source: string): string => `${source}-derived`;

/** The ConfigMap this operator wants for a source. */
export function desiredFor(source: V1ConfigMap): V1ConfigMap {
  const name = source.metadata?.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: derivedName(name),
      namespace: source.metadata?.namespace,
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name, uid: source.metadata?.uid ?? '', controller: true }],
    },
    data: { greeting: `hello, ${source.data?.name ?? 'anonymous'}` },
  };
}

const isNotFound = (err: unknown): boolean => (err as { code?: number }).code === 404;

/** Starts the operator; the returned function stops it and waits for the worker to finish. */
export async function startOperator(o: OperatorOptions): Promise<() => Promise<void>> {
  const core = o.kubeConfig.makeApiClient(CoreV1Api);
  const objects = KubernetesObjectApi.makeApiClient(o.kubeConfig);
  const selector = `${DERIVE_LABEL}=true`;
  const informer = makeInformer<V1ConfigMap>(
    o.kubeConfig,
    `/api/v1/namespaces/${o.namespace}/configmaps`,
    () => core.listNamespacedConfigMap({ namespace: o.namespace, labelSelector: selector }),
    selector,
  );
  let stopped = false;
  const pending = new Set<string>();
  const failures = new Map<string, number>();
  let wake: (() => void) | undefined;
  const enqueue = (obj: V1ConfigMap): void => {
    const name = obj.metadata?.name;
    if (!name || stopped) return;
    pending.add(name);
    wake?.();
  };

  /** Level-triggered: the derived ConfigMap follows whatever the cache says about its source now. */
  const reconcile = async (name: string): Promise<void> => {
    const source = informer.get(name, o.namespace);
    if (source) {
      await objects.patch(desiredFor(source), undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      return;
    }
    try {
      await core.deleteNamespacedConfigMap({ name: derivedName(name), namespace: o.namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  };

  const worker = (async () => {
    while (!stopped) {
      const next = pending.values().next();
      if (next.done) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const name = next.value;
      pending.delete(name);
      try {
        await reconcile(name);
        failures.delete(name);
      } catch (err) {
        const n = (failures.get(name) ?? 0) + 1;
        failures.set(name, n);
        (o.onError ?? ((k, e) => process.stderr.write(`reconcile ${k} failed: ${e instanceof Error ? e.message : String(e)}\n`)))(name, err);
        // Backoff 0.5 s doubling to 30 s, then the name is tried again.
        setTimeout(() => enqueue({ metadata: { name } }), Math.min(500 * 2 ** (n - 1), 30_000));
      }
    }
  })();

  informer.on('add', enqueue);
  informer.on('update', enqueue);
  informer.on('delete', enqueue);
  // client-node's informer stops on an error (apiserver restarting, connection lost): start it again.
  informer.on('error', () => {
    if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 1000);
  });
  await informer.start();
  return async () => {
    stopped = true;
    wake?.();
    await informer.stop();
    await worker;
  };
}
