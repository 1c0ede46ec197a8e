/**
 * Static pods: manifests in `--static-pod-path` run without the apiserver; once it is reachable each one
 * appears in the API as a mirror pod (annotation kubernetes.io/config.mirror) that carries its status.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { parseAllDocuments } from 'yaml';
import type { ApiClient } from '../client/api.js';
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import type { core } from '../api/types.js';
import { podSpecDefaults } from '../api/poddefaults.js';
import { CONFIG_HASH_ANNOTATION, CONFIG_SOURCE_ANNOTATION, MIRROR_ANNOTATION } from './kubelet.js';

/** Reads every *.yaml / *.yml / *.json manifest of kind Pod in `dir`; UIDs are content hashes. */
export async function loadStaticPods(dir: string, nodeName: string, log: Logger): Promise<core.Pod[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => /\.(ya?ml|json)$/.test(f) && !f.startsWith('.')).sort();
  } catch (err) {
    log.warn({ dir, err: (err as Error).message }, 'static pod path unreadable');
    return [];
  }
  const out: core.Pod[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(join(dir, f), 'utf8');
    } catch (err) {
      // Removed between readdir and read (or unreadable): the others still run.
      log.warn({ file: f, err: (err as Error).message }, 'static pod manifest unreadable');
      continue;
    }
    const docs = parseAllDocuments(text);
    // A manifest caught half-written (or broken) parses into a partial object: never run that.
    const broken = docs.find((d) => d.errors.length > 0);
    if (broken) {
      log.warn({ file: f, err: broken.errors[0]?.message }, 'static pod manifest skipped: invalid YAML');
      continue;
    }
    for (const doc of docs) {
      const pod = doc.toJS() as core.Pod | null;
      if (!pod || pod.kind !== 'Pod' || !pod.metadata?.name || !pod.spec) {
        if (pod) log.warn({ file: f }, 'static pod manifest skipped: not a Pod with a name and spec');
        continue;
      }
      const hash = createHash('md5').update(nodeName).update(JSON.stringify(pod)).digest('hex');
      const spec = structuredClone(pod.spec) as core.PodSpec;
      podSpecDefaults(spec);
      spec.nodeName = nodeName;
      out.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          ...pod.metadata,
          name: `${pod.metadata.name}-${nodeName}`,
          namespace: pod.metadata.namespace ?? 'default',
          uid: hash,
          annotations: { ...(pod.metadata.annotations ?? {}), [CONFIG_SOURCE_ANNOTATION]: 'file', [CONFIG_HASH_ANNOTATION]: hash },
        },
        spec,
        status: { phase: 'Pending' },
      });
    }
  }
  return out;
}

/** The mirror pod of a static pod as it is in the API. */
export interface MirrorPod {
  name: string;
  /** The mirror's API uid: a new one means the mirror was recreated and needs its status written again. */
  uid: string;
}

/** Makes sure the mirror pod of a static pod exists (throws when the API cannot be reached). */
export async function ensureMirrorPod(client: ApiClient, pod: core.Pod, node: core.Node | undefined): Promise<MirrorPod> {
  const name = pod.metadata?.name ?? '';
  const namespace = pod.metadata?.namespace ?? 'default';
  const hash = pod.metadata?.uid ?? '';
  try {
    const cur = await client.get('pods', name, { namespace });
    if (cur.metadata?.annotations?.[MIRROR_ANNOTATION] === hash && !cur.metadata.deletionTimestamp) return { name, uid: cur.metadata.uid ?? '' };
    // A stale mirror (older manifest), a deleted one (kubectl delete: it comes back, as in Kubernetes)
    // or a regular pod in the way: replace it.
    await client.delete('pods', name, { namespace, gracePeriodSeconds: 0, preconditions: { uid: cur.metadata?.uid } });
  } catch (err) {
    if (!isNotFound(err) && !isConflict(err)) throw err;
  }
  const meta = pod.metadata ?? {};
  try {
    const created = await client.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace,
        labels: meta.labels,
        annotations: { ...(meta.annotations ?? {}), [MIRROR_ANNOTATION]: hash },
        ...(node?.metadata?.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.metadata.name ?? '', uid: node.metadata.uid, controller: true }] } : {}),
      },
      spec: pod.spec,
    });
    return { name, uid: created.metadata?.uid ?? '' };
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    // Lost a race with another writer: whatever is there now is checked again on the next pass.
    const cur = await client.get('pods', name, { namespace });
    return { name, uid: cur.metadata?.uid ?? '' };
  }
}

/**
 * Deletes the mirror pods on this node whose static pod is gone (manifest removed, or changed: the
 * mirror's annotation holds the old hash). Returns the names deleted.
 */
export async function removeOrphanMirrorPods(client: ApiClient, nodeName: string, staticPods: readonly core.Pod[]): Promise<string[]> {
  const keep = new Set(staticPods.map((p) => `${p.metadata?.namespace ?? 'default'}/${p.metadata?.name ?? ''}/${p.metadata?.uid ?? ''}`));
  const list = await client.list('pods', { fieldSelector: `spec.nodeName=${nodeName}` });
  const removed: string[] = [];
  for (const p of list.items) {
    const hash = p.metadata?.annotations?.[MIRROR_ANNOTATION];
    if (hash === undefined) continue;
    const namespace = p.metadata?.namespace ?? 'default';
    const name = p.metadata?.name ?? '';
    if (keep.has(`${namespace}/${name}/${hash}`)) continue;
    try {
      // The uid precondition spares a mirror that ensureMirrorPod recreated meanwhile.
      await client.delete('pods', name, { namespace, gracePeriodSeconds: 0, preconditions: { uid: p.metadata?.uid } });
      removed.push(`${namespace}/${name}`);
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
  return removed;
}
