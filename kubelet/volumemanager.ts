/**
 * The volume manager (Kubernetes' volumemanager): prepares a pod's volumes once before its first
 * container starts, keeps configMap/secret/downwardAPI/projected volumes of running pods up to date with
 * their sources (only rewriting a volume whose content digest changed), and removes the volumes of pods
 * that are gone.
 */
import type { Logger } from 'pino';
import type { ApiClient } from '../client/api.js';
import type { Clock } from '../component-base/clock.js';
import type { core } from '../api/types.js';
import type { KubeletConfig } from './config.js';
import { ObjectFetcher, type EnvContext } from './env.js';
import { podKey } from './pods.js';
import type { Runtime } from './runtime/types.js';
import { TokenManager } from './tokens.js';
import { preparePodVolumes, refreshProjectedVolumes, type VolumeContext } from './volumes.js';

export interface VolumeManagerOptions {
  client: ApiClient;
  runtime: Runtime;
  config: KubeletConfig;
  log: Logger;
  clock: Clock;
}

export class VolumeManager {
  /** Runtime volume names per pod UID and pod volume name, once prepared. */
  private readonly volumes = new Map<string, Map<string, string>>();
  /** Digest of what each projected volume holds, per pod UID and volume name (see refresh). */
  private readonly digests = new Map<string, Map<string, string>>();
  private lastRefresh: number;
  private readonly tokens: TokenManager;

  constructor(private readonly o: VolumeManagerOptions) {
    this.lastRefresh = o.clock.now();
    this.tokens = new TokenManager(o.client, o.clock);
  }

  /** The context volume writers resolve sources and downward API fields in. */
  context(pod: core.Pod, env: EnvContext, fetch = new ObjectFetcher(this.o.client, pod.metadata?.namespace ?? 'default')): VolumeContext {
    return { clusterName: this.o.config.clusterName, nodeName: this.o.config.nodeName, client: this.o.client, runtime: this.o.runtime, fetch, env, tokens: this.tokens };
  }

  /** The pod's volumes (runtime volume name by pod volume name), prepared on first use. */
  async podVolumes(pod: core.Pod, ctx: VolumeContext): Promise<Map<string, string>> {
    const uid = pod.metadata?.uid ?? '';
    let vols = this.volumes.get(uid);
    if (!vols) {
      vols = await preparePodVolumes(pod, ctx, this.digestsOf(uid));
      this.volumes.set(uid, vols);
    }
    return vols;
  }

  /** True once a volume sync period has passed since the last refresh. */
  refreshDue(): boolean {
    return this.o.clock.now() - this.lastRefresh >= this.o.config.volumeSyncPeriodMs;
  }

  /**
   * Brings the configMap/secret/downwardAPI/projected volumes of running pods up to date with their
   * sources, as the kubelet's periodic sync does (subPath mounts keep what they had, as in Kubernetes).
   * One pod's failure is logged and costs that pod only.
   */
  async refresh(pods: Iterable<core.Pod>, envOf: (pod: core.Pod) => EnvContext, stopped: () => boolean): Promise<void> {
    this.lastRefresh = this.o.clock.now();
    // One read of each ConfigMap/Secret per namespace and pass, shared by the pods that mount it (as the kubelet's
    // object cache): every pod mounts kube-root-ca.crt, and a GET per pod per pass was 500 GETs a second at
    // 30,000 pods (bench/scale.ts).
    const fetchers = new Map<string, ObjectFetcher>();
    for (const pod of pods) {
      if (stopped()) return;
      // Running pods only (their volumes exist; after a kubelet restart, adopted pods too).
      if (pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Running' || !pod.spec?.volumes?.length) continue;
      const ns = pod.metadata?.namespace ?? 'default';
      let fetch = fetchers.get(ns);
      if (!fetch) fetchers.set(ns, (fetch = new ObjectFetcher(this.o.client, ns)));
      try {
        const updated = await refreshProjectedVolumes(pod, this.context(pod, envOf(pod), fetch), this.digestsOf(pod.metadata?.uid ?? ''), new Date(this.o.clock.now()));
        if (updated.length) this.o.log.info({ pod: podKey(pod), volumes: updated }, 'volume contents updated');
      } catch (err) {
        this.o.log.warn({ pod: podKey(pod), err: (err as Error).message }, 'volume update failed');
      }
    }
  }

  /** Removes the runtime volumes of every pod UID for which `inUse` is false. */
  async cleanup(inUse: (uid: string) => boolean): Promise<void> {
    for (const uid of await this.o.runtime.podVolumeUids()) if (!inUse(uid)) await this.o.runtime.removePodVolumes(uid);
  }

  forget(uid: string): void {
    this.tokens.forget(uid);
    this.volumes.delete(uid);
    this.digests.delete(uid);
  }

  private digestsOf(uid: string): Map<string, string> {
    let d = this.digests.get(uid);
    if (!d) this.digests.set(uid, (d = new Map()));
    return d;
  }
}
