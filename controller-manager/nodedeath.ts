/**
 * The lab's fast "unreachable" signal — not part of Kubernetes. In the lab a node is a Docker container,
 * so its death is a fact Docker reports (a `die` event, then the container stays stopped), not a guess
 * from missing heartbeats. This watches the Docker events of one lab cluster's node containers and calls
 * `onLost(node)` once a node container has died and stayed down for `confirmMs`, or is found stopped when
 * the watch begins (a `docker restart`, or
 * Docker's own restart after a crash, starts it again within that time and is not a loss); `onBack(node)`
 * when it starts again. Kubernetes has no such signal (a cloud provider's node lifecycle controller only
 * deletes nodes that are already NotReady); docs/timing.md says where the lab preset uses it.
 */
import Docker from 'dockerode';
import type { Logger } from 'pino';
import type { Clock } from '../component-base/clock.js';

export const CLUSTER_LABEL = 'io.kubelab.cluster';
export const COMPONENT_LABEL = 'io.kubelab.component';
export const WORKER_LABEL = 'io.kubelab.worker';

export interface NodeDeathWatchOptions {
  cluster: string;
  onLost: (node: string) => void;
  onBack: (node: string) => void;
  log: Logger;
  clock: Clock;
  /** How long a node container must stay stopped after `die` to count as lost. */
  confirmMs: number;
  docker?: Docker;
}

interface DockerEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** Runs until `signal` aborts; reconnects (1 s → 30 s backoff) when Docker's event stream ends. */
export async function watchNodeDeaths(o: NodeDeathWatchOptions, signal: AbortSignal): Promise<void> {
  const docker = o.docker ?? new Docker();
  const pending = new Map<string, AbortController>();
  let backoff = 1_000;
  const confirm = async (node: string, id: string, wait: AbortController): Promise<void> => {
    try {
      await o.clock.sleep(o.confirmMs, wait.signal);
    } catch {
      return; // started again (or shutting down)
    }
    pending.delete(node);
    try {
      const state = (await docker.getContainer(id).inspect()).State;
      if (state.Running || state.Restarting) return;
    } catch (err) {
      // A removed container (`node remove`) is as lost as a stopped one.
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
    o.log.info({ node, container: id.slice(0, 12) }, 'node container died and stayed down: node lost (lab signal)');
    o.onLost(node);
  };
  const onEvent = (ev: DockerEvent): void => {
    const action = ev.Action ?? ev.status ?? '';
    const attrs = ev.Actor?.Attributes ?? {};
    const node = attrs[WORKER_LABEL];
    const id = ev.Actor?.ID ?? ev.id ?? '';
    if (!node || !id) return;
    if (action === 'die' || action === 'destroy') {
      if (pending.has(node)) return;
      const wait = new AbortController();
      pending.set(node, wait);
      signal.addEventListener('abort', () => wait.abort(), { once: true });
      void confirm(node, id, wait).catch((err: unknown) => o.log.warn({ node, err: (err as Error).message }, 'node container inspect failed'));
    } else if (action === 'start') {
      pending.get(node)?.abort();
      pending.delete(node);
      o.onBack(node);
    }
  };
  while (!signal.aborted) {
    try {
      const stream = (await docker.getEvents({
        filters: { type: ['container'], event: ['die', 'destroy', 'start'], label: [`${CLUSTER_LABEL}=${o.cluster}`, `${COMPONENT_LABEL}=node`] },
        abortSignal: signal,
      } as Docker.GetEventsOptions)) as NodeJS.ReadableStream;
      backoff = 1_000;
      // List, then watch: a node container that died before this watch began (e.g. while no replica led)
      // has no event coming. One already stopped is lost without the confirmation wait.
      const down = await docker.listContainers({ all: true, filters: { label: [`${CLUSTER_LABEL}=${o.cluster}`, `${COMPONENT_LABEL}=node`], status: ['exited', 'dead'] } });
      for (const c of down) {
        const node = c.Labels[WORKER_LABEL];
        if (node && !pending.has(node)) o.onLost(node);
      }
      let buf = '';
      for await (const chunk of stream as AsyncIterable<Buffer | string>) {
        buf += chunk.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) onEvent(JSON.parse(line) as DockerEvent);
        }
      }
    } catch (err) {
      if (signal.aborted) break;
      o.log.warn({ err: (err as Error).message }, 'docker event stream failed; retrying');
    }
    if (signal.aborted) break;
    await o.clock.sleep(backoff, signal).catch(() => undefined);
    backoff = Math.min(30_000, backoff * 2);
  }
  for (const w of pending.values()) w.abort();
}
