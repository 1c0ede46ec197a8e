/**
 * Hollow nodes: many kubelets with the in-memory runtime in one process, sharing one ApiClient and one
 * pod informer (dispatching by spec.nodeName), for scheduler/controller tests and scale benchmarks.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { ApiClient } from '../client/api.js';
import { Informer } from '../client/informer.js';
import { nullLogger } from '../component-base/log.js';
import type { core } from '../api/types.js';
import type { TimingPreset } from '../component-base/timing.js';
import { compileKubeletConfig } from './config.js';
import { HollowRuntime } from './runtime/hollow.js';
import { startKubelet, type RunningKubelet } from './start.js';

export interface HollowNodesOptions {
  apiserver: string;
  /** Bearer token of the process's kubelets (one identity for all of them); none: the apiserver's anonymous user. */
  token?: string;
  count: number;
  namePrefix?: string;
  cpu?: string;
  memory?: string;
  maxPods?: number;
  labels?: Record<string, string>;
  timing?: TimingPreset;
  /** Delay from container start to Running (default 1000 ms). */
  startDelayMs?: number;
  logger?: Logger;
  /** Serve each node's kubelet port (logs, exec, `/stats/summary` for the metrics scraper); default true. */
  serve?: boolean;
}

export interface HollowNodes {
  nodeNames: string[];
  /**
   * A crash of some nodes, as the API sees one: their kubelets stop at once (no more Lease renewals or status
   * reports; nothing is deleted or marked), while the other nodes of the process run on.
   */
  crash(names: string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startHollowNodes(opts: HollowNodesOptions, signal: AbortSignal): Promise<HollowNodes> {
  const log = opts.logger ?? nullLogger();
  const client = new ApiClient(opts.apiserver, { token: opts.token });
  // The nodes' Leases and status on a connection of their own, as a kubelet's heartbeat client.
  const heartbeatClient = new ApiClient(opts.apiserver, { token: opts.token, ownConnection: true });
  const prefix = opts.namePrefix ?? 'hollow-node-';
  const kubelets = new Map<string, RunningKubelet>();
  const ctl = new AbortController();
  // Every hollow kubelet listens on this one signal: a thousand listeners are expected, not a leak.
  setMaxListeners(0, ctl.signal);
  const onAbort = (): void => ctl.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const names = Array.from({ length: opts.count }, (_, i) => `${prefix}${i}`);
  // Start in batches so that a thousand registrations do not arrive at once.
  for (let i = 0; i < names.length; i += 50) {
    const batch = await Promise.all(
      names.slice(i, i + 50).map((nodeName) => {
        const cfg = compileKubeletConfig({
          apiserver: opts.apiserver,
          nodeName,
          runtime: 'hollow',
          cpu: opts.cpu,
          memory: opts.memory,
          maxPods: opts.maxPods,
          nodeLabels: { 'kubelab.io/hollow': 'true', ...(opts.labels ?? {}) },
          timing: opts.timing,
          hollowStartDelayMs: opts.startDelayMs,
          port: 0,
          // Hollow containers change only when the kubelet acts or a scripted timer fires: relist less often.
          relistPeriodMs: 2_000,
        });
        return startKubelet(cfg, ctl.signal, {
          client,
          heartbeatClient,
          logger: log,
          runtime: new HollowRuntime({ startDelayMs: cfg.hollowStartDelayMs }),
          externalPodSource: true,
          heartbeatJitterMs: cfg.leaseRenewIntervalMs,
          serve: opts.serve ?? true,
          admin: false,
        });
      }),
    );
    for (const k of batch) kubelets.set(k.nodeName, k);
  }
  const informer = new Informer(client, 'pods', { logger: log });
  const owner = (p: core.Pod): RunningKubelet | undefined => kubelets.get(p.spec?.nodeName ?? '');
  informer.addHandler({
    onAdd: (p) => owner(p)?.kubelet.upsert(p),
    onUpdate: (o, p) => {
      const before = owner(o);
      const now = owner(p);
      if (before && before !== now) before.kubelet.remove(o);
      now?.kubelet.upsert(p);
    },
    onDelete: (p) => owner(p)?.kubelet.remove(p),
  });
  informer.start(ctl.signal);
  await informer.waitForSync(ctl.signal);
  for (const k of kubelets.values()) k.kubelet.markSourcesReady();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    signal.removeEventListener('abort', onAbort);
    ctl.abort();
    await informer.stopped();
    await Promise.all([...kubelets.values()].map((k) => k.stop()));
    client.close();
    heartbeatClient.close();
  };
  signal.addEventListener('abort', () => void stop(), { once: true });
  const crash = async (which: string[]): Promise<void> => {
    await Promise.all(
      which.map(async (n) => {
        const k = kubelets.get(n);
        if (!k) return;
        kubelets.delete(n);
        await k.stop();
      }),
    );
  };
  return { nodeNames: names, crash, stop };
}
