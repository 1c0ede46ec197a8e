/**
 * Test-only stand-ins for the kubelet and the scheduler, for controller tests that gain nothing from
 * Docker: fake nodes register a Node, renew their Lease and turn bound pods Running/Ready (or
 * Succeeded/Failed when the pod carries the hollow runtime's exit annotations, `exitsWith(code)`: the
 * fake ends the pod on its next pass, whatever the delay says), and finish graceful
 * deletions at once. `crash(name)` stops a node dead: no more lease renewals, no more pod updates.
 * The fake scheduler binds pending pods to the least-loaded Ready node whose taints they tolerate.
 */
import { ApiClient } from '../../client/api.js';
import { isConflict, isNotFound } from '../../api/errors.js';
import { Informer } from '../../client/informer.js';
import { isNodeReady, nowMicroTime, nowTimestamp } from '../../api/objects.js';
import type { core } from '../../api/types.js';
import { HOLLOW_ANNOTATIONS, scriptedValue } from '../../kubelet/runtime/hollow.js';

/** Annotations that make a pod's containers exit with `code` once started, on a fake node or a hollow one alike. */
export function exitsWith(code: number): Record<string, string> {
  return { [HOLLOW_ANNOTATIONS.exitAfter]: '0s', [HOLLOW_ANNOTATIONS.exitCode]: String(code) };
}

/** The exit code a pod's annotations script for its (first) container, as the hollow runtime reads them. */
function scriptedExit(pod: core.Pod): string | undefined {
  const annotations = pod.metadata?.annotations;
  const container = pod.spec?.containers?.[0]?.name ?? '';
  if (scriptedValue(annotations, HOLLOW_ANNOTATIONS.exitAfter, container) === undefined) return undefined;
  return scriptedValue(annotations, HOLLOW_ANNOTATIONS.exitCode, container) ?? '0';
}

export interface FakeNodes {
  add(name: string): Promise<void>;
  /** Stops a node without telling anyone (lease and pod updates stop). */
  crash(name: string): void;
  close(): Promise<void>;
}

function ignore(err: unknown): void {
  if (!isNotFound(err) && !isConflict(err)) throw err;
}

export async function startFakeNodes(address: string, names: string[], opts: { leaseRenewMs?: number } = {}): Promise<FakeNodes> {
  const client = new ApiClient(address);
  const ctl = new AbortController();
  const live = new Map<string, NodeJS.Timeout>();
  const renewMs = opts.leaseRenewMs ?? 1000;
  let ipSeq = 2;
  const pods = new Informer(client, 'pods', {});
  const inflight = new Set<string>();

  const handle = (pod: core.Pod): void => {
    const node = pod.spec?.nodeName;
    if (!node || !live.has(node)) return;
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}/${pod.metadata?.resourceVersion}`;
    if (inflight.has(key)) return;
    const work = async (): Promise<void> => {
      if (pod.metadata?.deletionTimestamp) {
        await client.delete('pods', pod.metadata.name ?? '', { namespace: pod.metadata.namespace, gracePeriodSeconds: 0 }).catch(ignore);
        return;
      }
      const phase = pod.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') return;
      const exit = scriptedExit(pod);
      const now = nowTimestamp();
      const names = (pod.spec?.containers ?? []).map((c) => c.name);
      if (exit !== undefined && phase === 'Running') {
        const code = Number(exit);
        await client
          .updateStatus('pods', {
            ...pod,
            status: {
              ...pod.status,
              phase: code === 0 ? 'Succeeded' : 'Failed',
              conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now }],
              containerStatuses: names.map((n) => ({ name: n, ready: false, restartCount: 0, image: 'x', imageID: 'x', state: { terminated: { exitCode: code, reason: code === 0 ? 'Completed' : 'Error' } } })),
            },
          })
          .catch(ignore);
        return;
      }
      if (phase === 'Running') return;
      const ip = `10.244.${Math.floor(ipSeq / 250)}.${(ipSeq++ % 250) + 2}`;
      await client
        .updateStatus('pods', {
          ...pod,
          status: {
            ...pod.status,
            phase: 'Running',
            podIP: ip,
            podIPs: [{ ip }],
            hostIP: '127.0.0.1',
            startTime: now,
            conditions: [
              { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
              { type: 'Initialized', status: 'True', lastTransitionTime: now },
              { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
              { type: 'Ready', status: exit === undefined ? 'True' : 'False', lastTransitionTime: now },
            ],
            containerStatuses: names.map((n) => ({ name: n, ready: exit === undefined, restartCount: 0, image: 'x', imageID: 'x', started: true, state: { running: { startedAt: now } } })),
          },
        })
        .catch(ignore);
    };
    inflight.add(key);
    work()
      .catch(() => undefined)
      .finally(() => inflight.delete(key));
  };
  pods.addHandler({ onAdd: handle, onUpdate: (_o, p) => handle(p) });
  pods.start(ctl.signal);
  await pods.waitForSync();

  const renew = async (name: string): Promise<void> => {
    const now = nowMicroTime();
    try {
      const lease = await client.get('leases', name, { namespace: 'kube-node-lease' });
      await client.update('leases', { ...lease, spec: { ...lease.spec, renewTime: now } });
    } catch (err) {
      if (!isNotFound(err)) return;
      await client
        .create('leases', {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace: 'kube-node-lease' },
          spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: now },
        })
        .catch(() => undefined);
    }
    // A returning node reports Ready again, as the kubelet does on its status loop.
    try {
      const node = await client.get('nodes', name);
      if (!isNodeReady(node)) {
        const ts = nowTimestamp();
        const conds = (node.status?.conditions ?? []).filter((c) => c.type !== 'Ready');
        conds.push({ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: ts, lastTransitionTime: ts });
        await client.updateStatus('nodes', { ...node, status: { ...node.status, conditions: conds } });
      }
    } catch {
      /* next renewal retries */
    }
  };

  const add = async (name: string): Promise<void> => {
    const ts = nowTimestamp();
    try {
      await client.create('nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
        spec: {},
        status: {
          capacity: { cpu: '4', memory: '8Gi', pods: '110' },
          allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
          addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: name }],
          conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: ts, lastTransitionTime: ts }],
        },
      });
    } catch (err) {
      if (!(err instanceof Error && /already exists/.test(err.message))) throw err;
    }
    await renew(name);
    live.set(
      name,
      setInterval(() => void renew(name), renewMs),
    );
    for (const p of pods.list()) handle(p);
  };
  for (const n of names) await add(n);

  return {
    add,
    crash: (name) => {
      clearInterval(live.get(name));
      live.delete(name);
    },
    close: async () => {
      for (const t of live.values()) clearInterval(t);
      live.clear();
      ctl.abort();
      await pods.stopped();
      client.close();
    },
  };
}

function tolerates(tols: core.Toleration[], taint: core.Taint): boolean {
  return tols.some(
    (t) =>
      (!t.effect || t.effect === taint.effect) &&
      ((t.operator === 'Exists' && (!t.key || t.key === taint.key)) || (t.key === taint.key && (t.value ?? '') === (taint.value ?? ''))),
  );
}

function fits(pod: core.Pod, node: core.Node): boolean {
  if (!isNodeReady(node) || node.spec?.unschedulable) return false;
  const tols = pod.spec?.tolerations ?? [];
  if ((node.spec?.taints ?? []).some((t) => t.effect !== 'PreferNoSchedule' && !tolerates(tols, t))) return false;
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (node.metadata?.labels?.[k] !== v) return false;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms?.length) {
    const ok = terms.some((term) =>
      (term.matchFields ?? []).every((f) => f.key === 'metadata.name' && f.operator === 'In' && (f.values ?? []).includes(node.metadata?.name ?? '')),
    );
    if (!ok) return false;
  }
  return true;
}

/** Binds pending pods to the least-loaded fitting node until closed. */
export async function startFakeScheduler(address: string): Promise<{ close(): Promise<void> }> {
  const client = new ApiClient(address);
  const ctl = new AbortController();
  const pods = new Informer(client, 'pods', {});
  const nodes = new Informer(client, 'nodes', {});
  const binding = new Set<string>();
  const schedule = (): void => {
    for (const pod of pods.list()) {
      if (pod.spec?.nodeName || pod.metadata?.deletionTimestamp) continue;
      const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
      if (binding.has(key)) continue;
      const load = new Map<string, number>();
      for (const p of pods.list()) if (p.spec?.nodeName) load.set(p.spec.nodeName, (load.get(p.spec.nodeName) ?? 0) + 1);
      const cands = nodes.list().filter((n) => fits(pod, n));
      if (!cands.length) continue;
      cands.sort((a, b) => (load.get(a.metadata?.name ?? '') ?? 0) - (load.get(b.metadata?.name ?? '') ?? 0));
      binding.add(key);
      client
        .bind(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', cands[0].metadata?.name ?? '', pod.metadata?.uid)
        .catch(() => undefined)
        .finally(() => binding.delete(key));
    }
  };
  pods.addHandler({ onAdd: schedule, onUpdate: schedule });
  nodes.addHandler({ onAdd: schedule, onUpdate: schedule });
  pods.start(ctl.signal);
  nodes.start(ctl.signal);
  await Promise.all([pods.waitForSync(), nodes.waitForSync()]);
  const timer = setInterval(schedule, 500);
  return {
    close: async () => {
      clearInterval(timer);
      ctl.abort();
      await Promise.all([pods.stopped(), nodes.stopped()]);
      client.close();
    },
  };
}
