/**
 * The node agent: registers (or, after a restart, updates) the Node, renews its Lease in
 * `kube-node-lease`, and reports conditions. As in Kubernetes, an unchanged status is written only every
 * `nodeStatusReportFrequencyMs`; the Lease is the heartbeat.
 */
import { arch, hostname, release } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { ApiClient } from '../client/api.js';
import { realClock, type Clock } from '../component-base/clock.js';
import { isAlreadyExists, isConflict, isNotFound } from '../api/errors.js';
import { formatBytes, formatMillis } from '../api/quantity.js';
import { KUBERNETES_VERSION } from '../api/resources.js';
import { nowMicroTime, nowTimestamp } from '../api/objects.js';
import type { core, coordination } from '../api/types.js';
import type { KubeletConfig } from './config.js';

export const KUBELET_VERSION = `${KUBERNETES_VERSION.gitVersion}-kubelab`;
export const LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeAgentOptions {
  client: ApiClient;
  config: KubeletConfig;
  log: Logger;
  /** The port the logs/exec server listens on (status.daemonEndpoints.kubeletEndpoint.Port). */
  kubeletPort: number;
  runtimeVersion: string;
  /** Runtime health: true, or the reason the node is not ready. */
  healthy: () => true | string;
  /** Heartbeat times and intervals (default: the wall clock). */
  clock?: Clock;
}

function goArch(): string {
  const a = arch();
  return a === 'x64' ? 'amd64' : a === 'arm64' ? 'arm64' : a;
}

export class NodeAgent {
  private node?: core.Node;
  private lease?: coordination.Lease;
  private lastReport = 0;
  private readonly cfg: KubeletConfig;
  private readonly clock: Clock;

  constructor(private readonly o: NodeAgentOptions) {
    this.cfg = o.config;
    this.clock = o.clock ?? realClock;
  }

  private labels(): Record<string, string> {
    return {
      'kubernetes.io/hostname': this.cfg.nodeName,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': goArch(),
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': goArch(),
      ...this.cfg.nodeLabels,
    };
  }

  /** The status this kubelet reports now (conditions keep their transition times). */
  desiredStatus(prev: core.NodeStatus | undefined, now = this.clock.now()): core.NodeStatus {
    const health = this.o.healthy();
    const cond = (type: string, ok: boolean, reason: string, message: string): core.NodeCondition => {
      const status = type === 'Ready' ? (ok ? 'True' : 'False') : ok ? 'False' : 'True';
      const old = prev?.conditions?.find((c) => c.type === type);
      return {
        type,
        status,
        reason,
        message,
        lastHeartbeatTime: nowTimestamp(now),
        lastTransitionTime: old?.status === status && old.lastTransitionTime ? old.lastTransitionTime : nowTimestamp(now),
      };
    };
    const resources = { cpu: formatMillis(this.cfg.cpuMillis), memory: formatBytes(this.cfg.memoryBytes), pods: String(this.cfg.maxPods), 'ephemeral-storage': '100Gi' };
    return {
      capacity: resources,
      allocatable: resources,
      conditions: [
        cond('MemoryPressure', true, 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', true, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', true, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        health === true ? cond('Ready', true, 'KubeletReady', 'kubelet is posting ready status') : cond('Ready', false, 'KubeletNotReady', health),
      ],
      addresses: [
        { type: 'InternalIP', address: this.cfg.nodeIp },
        { type: 'Hostname', address: this.cfg.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.o.kubeletPort } },
      nodeInfo: {
        machineID: this.cfg.nodeName,
        systemUUID: this.cfg.nodeName,
        bootID: String(process.pid),
        kernelVersion: release(),
        osImage: `kubelab (${this.cfg.runtime} runtime on ${hostname()})`,
        containerRuntimeVersion: this.o.runtimeVersion,
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: goArch(),
      },
    };
  }

  /** Creates the Node, or updates labels/status of the one a previous run registered. */
  async register(): Promise<core.Node> {
    const c = this.o.client;
    const name = this.cfg.nodeName;
    let node: core.Node;
    try {
      node = await c.create('nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: this.labels() },
        spec: this.cfg.taints.length ? { taints: this.cfg.taints } : {},
      });
      this.o.log.info({ node: name }, 'node registered');
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      node = await c.get('nodes', name);
      const labels = { ...(node.metadata?.labels ?? {}), ...this.labels() };
      if (!isDeepStrictEqual(labels, node.metadata?.labels)) {
        node = await c.update('nodes', { ...node, metadata: { ...node.metadata, labels, resourceVersion: undefined } });
      }
      this.o.log.info({ node: name }, 'node already registered; updating it');
    }
    this.node = await c.updateStatus('nodes', { ...node, metadata: { ...node.metadata, resourceVersion: undefined }, status: this.desiredStatus(node.status) });
    this.lastReport = this.clock.now();
    return this.node;
  }

  /** Writes the node status when it changed, or when the report interval has passed. */
  async updateStatus(): Promise<void> {
    const c = this.o.client;
    const now = this.clock.now();
    let node = this.node;
    if (!node) return;
    // Compare with the stored status, not our last write: the node lifecycle controller may have set
    // Ready=Unknown while we were cut off, and only a fresh write clears it (and the taints).
    try {
      node = await c.get('nodes', node.metadata?.name ?? '');
    } catch (err) {
      if (isNotFound(err)) {
        await this.register();
        return;
      }
    }
    const next = this.desiredStatus(node.status, now);
    const strip = (s: core.NodeStatus | undefined): unknown =>
      JSON.parse(JSON.stringify({ ...s, conditions: s?.conditions?.map((x) => ({ ...x, lastHeartbeatTime: undefined })) })) as unknown;
    if (isDeepStrictEqual(strip(next), strip(node.status)) && now - this.lastReport < this.cfg.nodeStatusReportFrequencyMs) return;
    try {
      node = await c.updateStatus('nodes', { ...node, metadata: { ...node.metadata, resourceVersion: undefined }, status: next });
      this.node = node;
      this.lastReport = now;
    } catch (err) {
      if (isNotFound(err)) {
        // Someone deleted our Node: register again, as the kubelet does.
        await this.register();
        return;
      }
      throw err;
    }
  }

  /** Creates or renews the node's Lease. */
  async renewLease(): Promise<void> {
    const c = this.o.client;
    const name = this.cfg.nodeName;
    const spec = {
      holderIdentity: name,
      leaseDurationSeconds: Math.max(1, Math.round(this.cfg.nodeLeaseDurationMs / 1000)),
      renewTime: nowMicroTime(this.clock.now()),
    };
    // As Kubernetes' heartbeat client: a call may take min(status update frequency, lease duration), not
    // the client's 30 s, so one stuck call cannot hold back the renewals that follow.
    const call = { timeoutMs: Math.min(this.cfg.nodeStatusUpdateFrequencyMs, this.cfg.nodeLeaseDurationMs) };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (!this.lease) this.lease = await c.get('leases', name, { namespace: LEASE_NAMESPACE, ...call });
        this.lease = await c.update('leases', { ...this.lease, spec: { ...this.lease.spec, ...spec } }, call);
        return;
      } catch (err) {
        if (isNotFound(err)) {
          try {
            this.lease = await c.create('leases', {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: {
                name,
                namespace: LEASE_NAMESPACE,
                ...(this.node?.metadata?.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: this.node.metadata.uid }] } : {}),
              },
              spec: { ...spec, acquireTime: spec.renewTime },
            }, call);
            return;
          } catch (e) {
            if (!isAlreadyExists(e)) throw e;
            this.lease = undefined;
          }
        } else if (isConflict(err)) this.lease = undefined;
        else throw err;
      }
    }
  }

  /** Runs the heartbeat loops until the signal aborts; `jitterMs` spreads many hollow nodes. */
  run(signal: AbortSignal, jitterMs = 0): void {
    const loop = async (intervalMs: number, fn: () => Promise<void>, what: string): Promise<void> => {
      const sleep = (ms: number): Promise<boolean> => this.clock.sleep(ms, signal).then(
        () => true,
        () => false,
      );
      for (let delay = Math.floor(Math.random() * jitterMs); await sleep(delay); delay = intervalMs) {
        await fn().catch((err: unknown) => this.o.log.warn({ err: (err as Error).message, node: this.cfg.nodeName }, `${what} failed`));
      }
    };
    void loop(this.cfg.leaseRenewIntervalMs, () => this.renewLease(), 'lease renewal');
    void loop(this.cfg.nodeStatusUpdateFrequencyMs, () => this.updateStatus(), 'node status update');
  }
}
