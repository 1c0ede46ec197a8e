/**
 * The status manager (Kubernetes' status_manager.go): writes a pod's status through pods/status when it
 * changed, remembers what it wrote so that the watch echo of its own write triggers no sync, and
 * notices when someone else (the node lifecycle controller) overwrote it. A static pod's status goes to
 * its mirror pod.
 */
import type { ApiClient } from '../client/api.js';
import { isNotFound } from '../api/errors.js';
import { clone } from '../api/objects.js';
import type { Mutable, core } from '../api/types.js';
import { isStaticPod } from './pods.js';
import { isOwnStatusEcho, statusChanged } from './status.js';

export class StatusManager {
  /** Last status written per UID. */
  private readonly written = new Map<string, core.PodStatus>();
  /** resourceVersion our last status write produced: a stored pod newer than it carries someone else's write. */
  private readonly writtenRv = new Map<string, number>();
  /** Status being written per UID: its watch echo can arrive before the write's own response. */
  private readonly writing = new Map<string, core.PodStatus>();
  /** Mirror pod names of static pods, by static UID. */
  private readonly mirrors = new Map<string, string>();

  constructor(private readonly client: ApiClient) {}

  /** True when `next` only echoes a status this kubelet wrote or is writing (nothing for a sync to do). */
  isEcho(prev: core.Pod, next: core.Pod): boolean {
    const uid = next.metadata?.uid ?? '';
    return isOwnStatusEcho(prev, next, this.written.get(uid)) || isOwnStatusEcho(prev, next, this.writing.get(uid));
  }

  /**
   * The status a sync starts from: our last write, unless the stored pod is newer and its status differs
   * — then someone else wrote it, and the sync must compare against (and overwrite) theirs.
   */
  current(pod: core.Pod): core.PodStatus | undefined {
    const uid = pod.metadata?.uid ?? '';
    const own = this.written.get(uid);
    const foreign = own !== undefined && Number(pod.metadata?.resourceVersion ?? 0) > (this.writtenRv.get(uid) ?? Infinity) && statusChanged(own, pod.status ?? {});
    return foreign ? pod.status : (own ?? pod.status);
  }

  /** Writes the status (to the mirror pod for a static pod; kept until the mirror exists). */
  async write(pod: core.Pod, status: core.PodStatus): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    let name = pod.metadata?.name ?? '';
    if (isStaticPod(pod)) {
      const mirror = this.mirrors.get(uid);
      if (!mirror) {
        this.written.set(uid, status);
        return;
      }
      name = mirror;
    }
    const obj = clone(pod) as Mutable<core.Pod>;
    obj.metadata = { ...obj.metadata, name, resourceVersion: undefined, ...(isStaticPod(pod) ? { uid: undefined } : {}) };
    obj.status = status;
    this.writing.set(uid, status);
    try {
      const stored = await this.client.updateStatus('pods', obj);
      this.written.set(uid, status);
      this.writtenRv.set(uid, Number(stored.metadata?.resourceVersion ?? 0));
    } catch (err) {
      if (isNotFound(err)) {
        this.written.set(uid, status);
        return;
      }
      throw err;
    } finally {
      this.writing.delete(uid);
    }
  }

  /** Records the mirror pod name of a static pod; its status must be written there again. */
  setMirror(staticUid: string, name: string): void {
    this.mirrors.set(staticUid, name);
    this.written.delete(staticUid);
  }

  forget(uid: string): void {
    this.written.delete(uid);
    this.writtenRv.delete(uid);
  }
}
