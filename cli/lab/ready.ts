/**
 * Waiting for a lab to come up, one milestone at a time (etcd healthy → apiserver answering →
 * nodes Ready k/N → components healthy), reporting each milestone as it is reached.
 */
import type Docker from 'dockerode';
import type { ApiClient } from '../../client/api.js';
import { isNodeReady } from '../../api/objects.js';
import { Informer } from '../../client/informer.js';
import { waitFor, WaitTimeoutError } from '../../client/wait.js';
import { CLUSTER_LABEL, COMPONENT_LABEL } from './spec.js';
import { exec, listByLabels, nameOf } from './docker.js';
import type { Lab } from './lab.js';

export interface ReadyOptions {
  /** Node names that must be Ready. */
  nodes: string[];
  timeoutMs?: number;
  /** Called once per milestone (and per change of the Ready count). */
  onProgress?: (line: string) => void;
  /** Also wait for every component container's healthcheck to pass. */
  componentsHealthy?: boolean;
  /** Called once, when the apiserver first answers (`lab up` starts the scheduler, controller-managers and add-ons then). */
  onApiserverAnswering?: () => void;
}

/** The command of a container's Docker healthcheck, as `exec` takes it; undefined when it has none. */
export function healthcheckCommand(test: string[] | undefined): string[] | undefined {
  if (test?.[0] === 'CMD' && test.length > 1) return test.slice(1);
  if (test?.[0] === 'CMD-SHELL' && test[1] !== undefined) return ['/bin/sh', '-c', test[1]];
  return undefined;
}

/**
 * The endpoint a lab healthcheck GETs on the container's loopback (spec.ts healthScript, etcd's /health): its port
 * and path. Undefined for any other check (a custom one is run as it is).
 */
export function healthEndpoint(test: string[] | undefined): { port: number; path: string } | undefined {
  const script = test?.[0] === 'CMD' && test[1] === 'bash' && test[2] === '-c' ? test[3] : undefined;
  const m = script?.match(/^exec 3<>\/dev\/tcp\/127\.0\.0\.1\/(\d{1,5}) && printf 'GET (\/[\w/.-]*) HTTP\/1\.0/);
  if (!m?.[1] || !m[2]) return undefined;
  const port = Number(m[1]);
  return port > 0 && port < 65536 ? { port, path: m[2] } : undefined;
}

/**
 * The healthcheck's GET sent from here to the container's address (kubelab's admin servers listen on every address):
 * 'healthy' on 200, 'starting' on another answer; undefined when nothing answers there — not listening yet, listening
 * on loopback only (etcd's /health), no route from this host (a remote engine) — so the caller runs the check in the
 * container instead.
 */
async function healthOverNetwork(info: Docker.ContainerInspectInfo, endpoint: { port: number; path: string }): Promise<string | undefined> {
  const ip = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
  if (!ip) return undefined;
  try {
    const res = await fetch(`http://${ip}:${endpoint.port}${endpoint.path}`, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.status === 200 ? 'healthy' : 'starting';
  } catch {
    return undefined;
  }
}

/**
 * Docker's health of a container — or, while Docker still says "starting", the container's own healthcheck run
 * now. Docker runs its first check one interval after the start (20.10 has no start_interval), and the lab's
 * interval is long (spec.ts HEALTHCHECK_INTERVAL_MS), so waiting for Docker's verdict would hold `lab up` ~30 s.
 * A lab healthcheck (a GET of an admin /healthz) is sent over the network from here: run in the container, each
 * was a `runc exec` of ~0.13 s of CPU in dockerd, containerd and runc, a dozen of them ~1.7 s of a lab's start.
 */
async function health(docker: Docker, id: string): Promise<string> {
  const container = docker.getContainer(id);
  const info = await container.inspect();
  const status = info.State.Health?.Status ?? (info.State.Running ? 'running' : info.State.Status);
  const cmd = healthcheckCommand(info.Config.Healthcheck?.Test);
  if (status !== 'starting' || !info.State.Running || !cmd) return status;
  // etcd answers /health on its loopback only (and sits on the internal control-plane network): checked inside.
  const endpoint = info.Config.Labels?.[COMPONENT_LABEL] === 'etcd' ? undefined : healthEndpoint(info.Config.Healthcheck?.Test);
  const viaNetwork = endpoint ? await healthOverNetwork(info, endpoint) : undefined;
  if (viaNetwork !== undefined) return viaNetwork;
  const r = await exec(container, cmd, 5_000).catch(() => undefined);
  return r?.exitCode === 0 ? 'healthy' : 'starting';
}

export interface ComponentState {
  name: string;
  id: string;
  component: string;
  /** Docker health ('healthy', 'starting', 'unhealthy'), 'completed' for a one-shot job that exited 0, or the state of a container that is not running. */
  health: string;
}

/** Components that run once and exit (the compose lab's `pki` issues certificates): done at exit code 0. */
const ONE_SHOT = new Set(['pki']);

/**
 * Health of every component container of the cluster, by container name. `healthy`: ids already seen healthy
 * (their check is not run again while Docker says "starting"); the ids found healthy now are added to it.
 */
export async function componentHealth(lab: Lab, healthy = new Set<string>()): Promise<ComponentState[]> {
  const list = await listByLabels(lab.docker, { [CLUSTER_LABEL]: lab.spec.cluster, [COMPONENT_LABEL]: undefined });
  const out = await Promise.all(
    list.map(async (c) => {
      const state = c.State === 'running' ? (healthy.has(c.Id) ? 'healthy' : await health(lab.docker, c.Id)) : c.State === 'exited' && ONE_SHOT.has(c.Labels[COMPONENT_LABEL] ?? '') && / \(0\)/.test(c.Status) ? 'completed' : c.State;
      if (state === 'healthy') healthy.add(c.Id);
      return { name: nameOf(c), id: c.Id, component: c.Labels[COMPONENT_LABEL] ?? '', health: state };
    }),
  );
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Until every named node is Ready, from a watch of the Nodes (an informer: list, then watch; a broken watch
 * resumes), not by polling. `onChange` is called with the count of Ready ones whenever it changes.
 */
export async function nodesReady(client: ApiClient, names: string[], timeoutMs: number, onChange: (ready: number) => void): Promise<void> {
  const ctl = new AbortController();
  const informer = new Informer(client, 'nodes');
  let last = -1;
  try {
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        const ready = names.filter((n) => {
          const node = informer.get(n);
          return node !== undefined && isNodeReady(node);
        }).length;
        if (ready !== last) {
          last = ready;
          onChange(ready);
        }
        if (ready === names.length) resolve();
      };
      informer.addHandler({ onAdd: check, onUpdate: check, onDelete: check });
      const timer = setTimeout(() => {
        const missing = names.filter((n) => !isNodeReady(informer.get(n) ?? {}));
        reject(new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for nodes ${missing.join(', ')} to be Ready (${last < 0 ? 'no answer from the apiserver' : `${last}/${names.length} Ready`})`));
      }, timeoutMs);
      ctl.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
      informer.start(ctl.signal);
      void informer.waitForSync(ctl.signal).then(check, () => undefined);
    });
  } finally {
    ctl.abort();
    await informer.stopped().catch(() => undefined);
  }
}

export async function waitForLab(lab: Lab, client: ApiClient, opts: ReadyOptions): Promise<void> {
  const t0 = Date.now();
  const deadline = t0 + (opts.timeoutMs ?? 120_000);
  const left = (): number => Math.max(1000, deadline - Date.now());
  const say = (line: string): void => opts.onProgress?.(`${line} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);

  // The apiserver is asked from the start, beside etcd's health check: an apiserver that answers has its etcd, so
  // etcd's milestone never holds up the next.
  let answering = false;
  const apiserver = waitFor(() => client.list('namespaces').then(() => true), { timeoutMs: left(), intervalMs: 100, what: 'the apiserver to answer' }).then(() => {
    answering = true;
  });
  // Every member: an HA control plane's members form their cluster together (each waits for quorum).
  const members = await lab.componentContainers('etcd');
  if (members.length > 0) {
    try {
      await waitFor(async () => answering || (await Promise.all(members.map((m) => health(lab.docker, m.Id)))).every((h) => h === 'healthy'), {
        timeoutMs: left(),
        intervalMs: 500,
        what: members.length > 1 ? `the ${members.length} etcd members to be healthy` : 'etcd to be healthy',
      });
    } catch (err) {
      apiserver.catch(() => undefined);
      throw err;
    }
    say(members.length > 1 ? `etcd healthy (${members.length} members)` : 'etcd healthy');
  }
  await apiserver;
  say('apiserver answering');
  opts.onApiserverAnswering?.();

  await nodesReady(client, opts.nodes, left(), (ready) => say(`nodes Ready ${ready}/${opts.nodes.length}`));

  if (opts.componentsHealthy) await waitForComponents(lab, client, { timeoutMs: left(), onProgress: opts.onProgress });
}

/**
 * Until every component container is healthy (its own healthcheck, run once while Docker still says "starting") and
 * every kube-system pod is Running.
 */
export async function waitForComponents(lab: Lab, client: ApiClient, opts: { timeoutMs?: number; onProgress?: (line: string) => void }): Promise<void> {
  const t0 = Date.now();
  const deadline = t0 + (opts.timeoutMs ?? 120_000);
  const left = (): number => Math.max(1000, deadline - Date.now());
  const say = (line: string): void => opts.onProgress?.(`${line} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  const healthy = new Set<string>();
  await waitFor(
    async () => {
      const h = await componentHealth(lab, healthy);
      return h.every((s) => s.health === 'healthy' || s.health === 'running' || s.health === 'completed');
    },
    { timeoutMs: left(), intervalMs: 500, what: 'every component container to be healthy' },
  );
  say('components healthy');
  const pods = (await client.list('pods', { namespace: 'kube-system' })).items;
  if (pods.length > 0) {
    await waitFor(
      async () => (await client.list('pods', { namespace: 'kube-system' })).items.every((p) => p.status?.phase === 'Running' || p.status?.phase === 'Succeeded'),
      { timeoutMs: left(), intervalMs: 500, what: 'kube-system pods to be Running' },
    );
  }
  say(`system pods running (${pods.length} in kube-system)`);
}
