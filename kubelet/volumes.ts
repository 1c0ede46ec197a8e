/**
 * Pod volumes as runtime (Docker) volumes. The kubelet runs in a container in the lab, so nothing is a
 * bind mount of a kubelet-local path: emptyDir and the file-projecting volumes (configMap, secret,
 * downwardAPI, projected) are Docker volumes labelled with the pod uid, filled through the Docker API;
 * hostPath is a Docker volume per node and path; a PVC bound to a local/hostPath PV is a Docker volume
 * named after the PV.
 *
 * An emptyDir with medium Memory is a Docker volume of the local driver with tmpfs options. Docker mounts
 * such a volume while at least one container uses it and drops its contents with the last one, so the
 * pod's sandbox mounts it too (`sandboxMounts`): the pod's containers then share one tmpfs that outlives
 * their restarts, and subPath directories made in it stay.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { ApiClient } from '../client/api.js';
import { quantityValue } from '../api/quantity.js';
import type { core } from '../api/types.js';
import { ContainerStartError } from './errors.js';
import { fieldValue, resourceValue, type EnvContext, type ObjectFetcher } from './env.js';
import { LABELS, type MountSpec, type Runtime, type VolumeFile, type VolumeOptions } from './runtime/types.js';

export interface VolumeContext {
  clusterName: string;
  nodeName: string;
  client: ApiClient;
  runtime: Runtime;
  fetch: ObjectFetcher;
  env: EnvContext;
  /** ServiceAccount tokens of projected serviceAccountToken sources. */
  tokens?: { token(pod: core.Pod, audience: string | undefined, expirationSeconds: number): Promise<string> };
}

function safe(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.-]/g, '_').replace(/^[_.-]+/, '');
}

export function podVolumeName(cluster: string, uid: string, volume: string): string {
  return `kubelab-${cluster}-${uid}-${safe(volume)}`;
}

export function hostPathVolumeName(cluster: string, node: string, path: string): string {
  const h = createHash('sha256').update(path).digest('hex').slice(0, 8);
  return `kubelab-${cluster}-${node}-hostpath-${safe(path).slice(0, 60)}-${h}`;
}

export function pvVolumeName(cluster: string, pv: string): string {
  return `kubelab-${cluster}-pv-${safe(pv)}`;
}

/** True for an emptyDir backed by memory (tmpfs). */
export function isMemoryEmptyDir(v: core.Volume): boolean {
  return v.emptyDir?.medium === 'Memory';
}

/** The pod's memory limit when every app container sets one (what its cgroup would hold), else undefined. */
function podMemoryLimit(spec: core.PodSpec | undefined): number | undefined {
  const limit = (c: core.Container): number | undefined => (c.resources?.limits?.memory !== undefined ? quantityValue(c.resources.limits.memory) : undefined);
  const app = (spec?.containers ?? []).map(limit);
  if (app.length === 0 || app.some((l) => l === undefined)) return undefined;
  const sum = app.reduce<number>((a, b) => a + (b ?? 0), 0);
  const init = (spec?.initContainers ?? []).map(limit);
  if (init.some((l) => l === undefined)) return undefined;
  return Math.max(sum, ...init.map((l) => l ?? 0));
}

/**
 * Size of a memory-backed emptyDir's tmpfs, as kubelet's calculateEmptyDirMemorySize: the node's
 * allocatable memory, lowered to the pod's memory limit, lowered to the volume's sizeLimit (each only
 * when positive and smaller).
 */
export function emptyDirMemoryBytes(pod: core.Pod, v: core.Volume, nodeMemoryBytes: number): number {
  let size = nodeMemoryBytes;
  const podLimit = podMemoryLimit(pod.spec);
  if (podLimit !== undefined && podLimit > 0 && podLimit <= size) size = podLimit;
  const sizeLimit = v.emptyDir?.sizeLimit !== undefined ? quantityValue(v.emptyDir.sizeLimit) : undefined;
  if (sizeLimit !== undefined && sizeLimit > 0 && sizeLimit <= size) size = sizeLimit;
  return Math.floor(size);
}

/** Where the sandbox holds a memory emptyDir (never seen by the pod's own containers). */
export const SANDBOX_VOLUME_DIR = '/.kubelab/volumes';

/**
 * Creates the pod's memory-backed emptyDirs and returns the mounts its sandbox keeps them alive with.
 * Call before the sandbox starts; `preparePodVolumes` later finds the same volumes.
 */
export async function sandboxMounts(pod: core.Pod, ctx: { clusterName: string; nodeName: string; runtime: Runtime; nodeMemoryBytes: number }): Promise<MountSpec[]> {
  const out: MountSpec[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (!isMemoryEmptyDir(v)) continue;
    const name = await ensureMemoryVolume(pod, v, ctx);
    out.push({ volume: name, target: `${SANDBOX_VOLUME_DIR}/${safe(v.name)}`, readOnly: true });
  }
  return out;
}

async function ensureMemoryVolume(pod: core.Pod, v: core.Volume, ctx: { clusterName: string; nodeName: string; runtime: Runtime; nodeMemoryBytes: number }): Promise<string> {
  const uid = pod.metadata?.uid ?? '';
  const name = podVolumeName(ctx.clusterName, uid, v.name);
  const opts: VolumeOptions = { medium: 'Memory', sizeBytes: emptyDirMemoryBytes(pod, v, ctx.nodeMemoryBytes) };
  await ctx.runtime.ensureVolume(name, { [LABELS.cluster]: ctx.clusterName, [LABELS.node]: ctx.nodeName, [LABELS.podUid]: uid, [LABELS.volume]: v.name }, opts);
  return name;
}

async function keyFiles(
  fetch: ObjectFetcher,
  kind: 'configmaps' | 'secrets',
  name: string,
  items: readonly core.KeyToPath[] | undefined,
  optional: boolean | undefined,
  mode: number,
): Promise<VolumeFile[]> {
  const data = await fetch.bytes(kind, name);
  if (!data) {
    if (optional) return [];
    throw new ContainerStartError('CreateContainerConfigError', `${kind === 'secrets' ? 'secret' : 'configmap'} "${name}" not found`);
  }
  if (!items?.length) return Object.entries(data).map(([k, v]) => ({ path: k, data: v, mode }));
  const out: VolumeFile[] = [];
  for (const it of items) {
    const v = data[it.key];
    if (v === undefined) {
      if (optional) continue;
      throw new ContainerStartError('CreateContainerConfigError', `couldn't find key ${it.key} in ${kind === 'secrets' ? 'Secret' : 'ConfigMap'} ${name}`);
    }
    out.push({ path: it.path, data: v, mode: it.mode ?? mode });
  }
  return out;
}

function downwardFiles(items: readonly core.DownwardAPIVolumeFile[] | undefined, mode: number, ctx: EnvContext): VolumeFile[] {
  return (items ?? []).map((it) => {
    const value = it.fieldRef
      ? fieldValue(it.fieldRef.fieldPath, ctx)
      : it.resourceFieldRef
        ? resourceValue(it.resourceFieldRef, ctx.pod.spec?.containers.find((c) => c.name === it.resourceFieldRef?.containerName), ctx)
        : '';
    return { path: it.path, data: Buffer.from(value), mode: it.mode ?? mode };
  });
}

/** Files a projecting volume holds, or undefined for volumes that are not projected. */
async function projectedFiles(v: core.Volume, ctx: VolumeContext): Promise<VolumeFile[] | undefined> {
  if (v.configMap) return keyFiles(ctx.fetch, 'configmaps', v.configMap.name ?? '', v.configMap.items, v.configMap.optional, v.configMap.defaultMode ?? 0o644);
  if (v.secret) return keyFiles(ctx.fetch, 'secrets', v.secret.secretName ?? '', v.secret.items, v.secret.optional, v.secret.defaultMode ?? 0o644);
  if (v.downwardAPI) return downwardFiles(v.downwardAPI.items, v.downwardAPI.defaultMode ?? 0o644, ctx.env);
  if (v.projected) {
    const mode = v.projected.defaultMode ?? 0o644;
    const out: VolumeFile[] = [];
    for (const src of v.projected.sources ?? []) {
      if (src.configMap) out.push(...(await keyFiles(ctx.fetch, 'configmaps', src.configMap.name ?? '', src.configMap.items, src.configMap.optional, mode)));
      if (src.secret) out.push(...(await keyFiles(ctx.fetch, 'secrets', src.secret.name ?? '', src.secret.items, src.secret.optional, mode)));
      if (src.downwardAPI) out.push(...downwardFiles(src.downwardAPI.items, mode, ctx.env));
      if (src.serviceAccountToken) {
        if (!ctx.tokens) throw new ContainerStartError('CreateContainerConfigError', 'serviceAccountToken volumes need a token source');
        const token = await ctx.tokens.token(ctx.env.pod, src.serviceAccountToken.audience || undefined, src.serviceAccountToken.expirationSeconds ?? 3600);
        out.push({ path: src.serviceAccountToken.path, data: Buffer.from(token), mode });
      }
    }
    return out;
  }
  return undefined;
}

/**
 * Kubernetes' atomic writer layout, so that a projected volume can be updated under running containers:
 * the files live in a fresh `..<timestamp>` directory, `..data` links to it, and each top-level name is a
 * link into `..data`. An update writes a new directory and replaces `..data` (and adds links for new
 * names; the link of a removed key dangles, so the file is gone to readers).
 */
export function atomicLayout(files: readonly VolumeFile[], now: Date): VolumeFile[] {
  const stamp = `..${now.toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '')}`;
  const top = new Set(files.map((f) => f.path.split('/')[0]));
  return [
    ...files.map((f) => ({ ...f, path: `${stamp}/${f.path}` })),
    { path: '..data', data: Buffer.alloc(0), mode: 0o777, linkTarget: basename(stamp) },
    ...[...top].map((t) => ({ path: t, data: Buffer.alloc(0), mode: 0o777, linkTarget: `..data/${t}` })),
  ];
}

/** A digest of what a projected volume holds, to tell whether it changed. */
export function filesDigest(files: readonly VolumeFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) h.update(`${f.path}\0${f.mode}\0`).update(f.data).update('\0');
  return h.digest('hex');
}

/**
 * Rewrites the pod's configMap/secret/downwardAPI/projected volumes whose content changed since
 * `digests` (volume name → digest) was recorded, as the kubelet's periodic volume sync does. A source that
 * cannot be read now (deleted ConfigMap, API away) leaves the volume as it is.
 */
export async function refreshProjectedVolumes(pod: core.Pod, ctx: VolumeContext, digests: Map<string, string>, now: Date): Promise<string[]> {
  const updated: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (!projected(v)) continue;
    const files = await projectedFiles(v, ctx).catch(() => undefined);
    if (!files) continue;
    const digest = filesDigest(files);
    if (digests.get(v.name) === digest) continue;
    await ctx.runtime.writeVolume(podVolumeName(ctx.clusterName, pod.metadata?.uid ?? '', v.name), atomicLayout(files, now));
    digests.set(v.name, digest);
    updated.push(v.name);
  }
  return updated;
}

/**
 * Creates (and fills) every volume of the pod; returns pod volume name → runtime volume name.
 * Throws ContainerStartError when a referenced object is missing or a PVC is not bound yet.
 */
export async function preparePodVolumes(pod: core.Pod, ctx: VolumeContext, digests?: Map<string, string>): Promise<Map<string, string>> {
  const uid = pod.metadata?.uid ?? '';
  const out = new Map<string, string>();
  const podLabels = { [LABELS.cluster]: ctx.clusterName, [LABELS.node]: ctx.nodeName, [LABELS.podUid]: uid };
  for (const v of pod.spec?.volumes ?? []) {
    if (v.hostPath) {
      const name = hostPathVolumeName(ctx.clusterName, ctx.nodeName, v.hostPath.path);
      await ctx.runtime.ensureVolume(name, { [LABELS.cluster]: ctx.clusterName, [LABELS.node]: ctx.nodeName, 'io.kubelab.hostpath': v.hostPath.path });
      out.set(v.name, name);
      continue;
    }
    if (v.persistentVolumeClaim) {
      const claim = v.persistentVolumeClaim.claimName;
      const pvc = await ctx.client.get('persistentvolumeclaims', claim, { namespace: pod.metadata?.namespace }).catch(() => undefined);
      if (!pvc) throw new ContainerStartError('CreateContainerConfigError', `persistentvolumeclaim "${claim}" not found`);
      const pvName = pvc.spec?.volumeName;
      if (!pvName || pvc.status?.phase !== 'Bound') throw new ContainerStartError('CreateContainerConfigError', `persistentvolumeclaim "${claim}" is not bound`);
      const pv = await ctx.client.get('persistentvolumes', pvName);
      if (!pv.spec?.local && !pv.spec?.hostPath)
        throw new ContainerStartError('CreateContainerConfigError', `persistentvolume "${pvName}" is neither local nor hostPath; kubelab mounts only those`);
      const name = pvVolumeName(ctx.clusterName, pvName);
      await ctx.runtime.ensureVolume(name, { [LABELS.cluster]: ctx.clusterName, 'io.kubelab.pv': pvName });
      out.set(v.name, name);
      continue;
    }
    if (isMemoryEmptyDir(v)) {
      out.set(v.name, await ensureMemoryVolume(pod, v, { ...ctx, nodeMemoryBytes: ctx.env.nodeMemoryBytes }));
      continue;
    }
    const name = podVolumeName(ctx.clusterName, uid, v.name);
    const files = await projectedFiles(v, ctx);
    if (files === undefined && !v.emptyDir) continue; // unsupported volume types are ignored (logged by the caller)
    await ctx.runtime.ensureVolume(name, { ...podLabels, [LABELS.volume]: v.name });
    if (files) {
      await ctx.runtime.writeVolume(name, atomicLayout(files, new Date()));
      digests?.set(v.name, filesDigest(files));
    }
    out.set(v.name, name);
  }
  return out;
}

/** True for volumes the kubelet projects files into (mounted read-only, as Kubernetes does). */
function projected(v: core.Volume | undefined): boolean {
  return !!(v && (v.configMap || v.secret || v.downwardAPI || v.projected));
}

/** Volumes every mount of which is read-only: projected ones, and a claim the pod asked for read-only. */
function forcedReadOnly(v: core.Volume | undefined): boolean {
  return projected(v) || v?.persistentVolumeClaim?.readOnly === true;
}

/** The container's mounts; subPath directories are created first. */
export async function containerMounts(pod: core.Pod, c: core.Container, volumes: Map<string, string>, runtime: Runtime, env: EnvContext): Promise<MountSpec[]> {
  const out: MountSpec[] = [];
  for (const m of c.volumeMounts ?? []) {
    const vol = volumes.get(m.name);
    if (!vol) throw new ContainerStartError('CreateContainerConfigError', `volume "${m.name}" is not available on this node`);
    const spec = pod.spec?.volumes?.find((v) => v.name === m.name);
    const sub = m.subPathExpr ? m.subPathExpr.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_a, n: string) => (n === 'POD_NAME' ? env.pod.metadata?.name ?? '' : '')) : m.subPath;
    if (sub && (sub.startsWith('/') || sub.split('/').includes('..')))
      throw new ContainerStartError('CreateContainerConfigError', `subPath "${sub}" must be a relative path without '..'`);
    if (sub && !projected(spec)) await runtime.mkdirVolume(vol, sub);
    out.push({ volume: vol, target: m.mountPath, readOnly: m.readOnly === true || forcedReadOnly(spec), ...(sub ? { subPath: sub } : {}) });
  }
  return out;
}
