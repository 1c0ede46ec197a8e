/**
 * One running lab cluster seen through Docker: create it (test clusters), inject faults into its
 * nodes and components, and remove it. Used by `kubelab node …`, `kubelab lab …` and test/cluster.
 *
 * Fault model (docs/lab.md):
 * - crash: SIGKILL of the node container and every pod container of the node, all at once.
 * - partition: iptables DROP inside the node container's own network namespace, to and from every
 *   control-plane container. The kubelet loses the apiserver; the pods (own namespaces, own
 *   addresses on the cluster network) keep running and stay reachable. heal removes the rules.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import * as tar from 'tar-stream';
import { ensurePki } from '../../client/pki/pki.js';
import type { ApiClient } from '../../client/api.js';
import { isNotFound } from '../../api/errors.js';
import {
  CLUSTER_LABEL,
  COMPONENT_LABEL,
  POD_NODE_LABEL,
  PKI_PATH,
  NETWORK_ROLE_LABEL,
  PREFIX_LABEL,
  TIMING_LABEL,
  WORKER_LABEL,
  addressPlan,
  componentContainer,
  composeLabSpec,
  controlPlaneNetwork,
  controlPlaneNetworkLabels,
  labPki,
  networkLabels,
  pkiFilesOf,
  workerContainer,
  workerIp,
  workerName,
  workerNumber,
  checkHa,
  type ComponentName,
  type LabSpec,
  type TimingPreset,
  ingressImageFor,
} from './spec.js';
import { cidrsOverlap, exec, ignoreGone, ipOn, killAll, listByLabels, nameOf, removeAll, removeCluster, statusCode } from './docker.js';
import { copyImages, engine, ensureManager, ensureMember, reachable, remoteEngines } from './hosts.js';

/** Thrown when the lab is asked about a node or component it does not have. */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

const PARTITION_CHAIN = 'KUBELAB-PARTITION';

/** Lease each leader-elected component holds in kube-system. */
const LEADER_LEASES: Partial<Record<ComponentName, string>> = {
  scheduler: 'kube-scheduler',
  'controller-manager': 'kube-controller-manager',
};

/** Images a worker on another Docker engine needs there (its own, the pod sandbox, the lab's pod image). */
const NODE_IMAGES = ['kubelab/pause:latest', 'kubelab/busybox:latest'];

/** A worker container and the Docker engine it runs on. */
interface Worker {
  info: Docker.ContainerInfo;
  docker: Docker;
}

export class Lab {
  /** Other Docker engines with workers of this lab (docs/multihost.md), by their URL. */
  private readonly remotes = new Map<string, Docker>();

  constructor(
    readonly spec: LabSpec,
    /** The engine of the control plane (and of every worker of a one-host lab). */
    readonly docker: Docker = new Docker(),
    remoteUrls: string[] = [],
  ) {
    for (const url of remoteUrls) this.remotes.set(url, engine(url));
  }

  /** The URLs of the other Docker engines this lab has workers on. */
  hosts(): string[] {
    return [...this.remotes.keys()];
  }

  /**
   * Issues what the PKI lacks for these workers (and renews what is near expiry) before containers
   * start. A lab without TLS has nothing to issue.
   */
  async ensurePki(workers: { name: string; ip: string }[]): Promise<void> {
    if (!this.spec.secure) return;
    if (!this.spec.pkiDir) throw new LabError(`cluster ${this.spec.cluster} is secure but has no PKI directory (LabSpec.pkiDir)`);
    await ensurePki(this.spec.pkiDir, labPki(this.spec, workers));
  }

  /**
   * Copies a container's own certificates (pkiFilesOf: never the CA key) into it at PKI_PATH, between
   * create and start: through the Docker API, so no host path needs to be visible to the Docker engine.
   */
  private async putPki(c: Docker.Container, component: ComponentName | 'node', node?: string): Promise<void> {
    if (!this.spec.secure || !this.spec.pkiDir) return;
    const dir = this.spec.pkiDir;
    const pack = tar.pack();
    const dirs = new Set<string>();
    for (const f of pkiFilesOf(component, node)) {
      const path = `${PKI_PATH.slice(1)}/${f}`;
      const parts = path.split('/').slice(0, -1);
      for (let i = 1; i <= parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (!dirs.has(d)) {
          dirs.add(d);
          pack.entry({ name: d, type: 'directory', mode: 0o755 });
        }
      }
      pack.entry({ name: path, mode: f.endsWith('.key') ? 0o600 : 0o644 }, await readFile(join(dir, f)));
    }
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
    await c.putArchive(Buffer.concat(chunks), { path: '/' });
  }

  /** The lab named `cluster`, rebuilt from the labels on its Docker network (`pkiDir`: where its PKI is kept). */
  static async fromDocker(cluster: string, docker: Docker = new Docker(), pkiDir?: string): Promise<Lab> {
    const nets = await docker.listNetworks({ filters: JSON.stringify({ label: [`${CLUSTER_LABEL}=${cluster}`] }) });
    // The pod network: the control-plane network (etcd's) carries a role label.
    const net = nets.find((n) => !n.Labels?.[NETWORK_ROLE_LABEL]);
    if (!net) throw new LabError(`no Docker network labelled ${CLUSTER_LABEL}=${cluster}: is the lab running? (npm run lab)`);
    const subnet = net.IPAM?.Config?.[0]?.Subnet;
    if (!subnet) throw new LabError(`network ${net.Name} has no subnet`);
    const base = composeLabSpec();
    const components = await listByLabels(docker, { [CLUSTER_LABEL]: cluster, [COMPONENT_LABEL]: undefined });
    const count = (component: ComponentName): number => components.filter((c) => c.Labels[COMPONENT_LABEL] === component).length;
    const apiserver = components.find((c) => c.Labels[COMPONENT_LABEL] === 'apiserver');
    const labels = net.Labels ?? {};
    const overlay = net.Driver === 'overlay';
    return new Lab(
      {
        ...base,
        cluster,
        network: net.Name,
        ...(overlay ? { overlay } : {}),
        subnet,
        prefix: labels[PREFIX_LABEL] ?? `${cluster}-`,
        timing: (labels[TIMING_LABEL] as TimingPreset | undefined) ?? 'lab',
        image: apiserver?.Image ?? base.image,
        ingressImage: ingressImageFor(apiserver?.Image ?? base.image),
        restartPolicy: 'unless-stopped',
        // A lab's apiserver runs --insecure only when it was made without TLS.
        secure: !(apiserver?.Command ?? '').includes('--insecure'),
        // An HA control plane has a load balancer in front of its apiservers.
        ...(count('lb') > 0 ? { ha: { etcdMembers: count('etcd'), apiservers: count('apiserver') } } : {}),
        pkiDir,
      },
      docker,
      overlay ? await remoteEngines(docker) : [],
    );
  }

  /**
   * Worker containers by node name, with their engine. An engine that does not answer (a lost host) adds
   * nothing: its nodes are as gone for the lab as they are for the cluster.
   */
  private async workers(): Promise<Map<string, Worker>> {
    const out = new Map<string, Worker>();
    const engines = [this.docker, ...this.remotes.values()];
    const lists = await Promise.all(
      engines.map((docker, i) =>
        listByLabels(docker, { [CLUSTER_LABEL]: this.spec.cluster, [COMPONENT_LABEL]: 'node' }).catch((err: unknown) => {
          if (i === 0) throw err;
          return [];
        }),
      ),
    );
    lists.forEach((list, i) => {
      for (const c of list) {
        const node = c.Labels[WORKER_LABEL];
        if (node) out.set(node, { info: c, docker: engines[i] });
      }
    });
    return out;
  }

  /** Where each worker runs: 'local' (the control plane's engine) or the URL of another host's engine. */
  async nodeHosts(): Promise<Map<string, string>> {
    const urlOf = new Map<Docker, string>([...this.remotes].map(([url, d]) => [d, url]));
    return new Map([...(await this.workers())].map(([node, w]) => [node, urlOf.get(w.docker) ?? 'local']));
  }

  /** Worker containers by node name (on every engine of the lab). */
  async workerContainers(): Promise<Map<string, Docker.ContainerInfo>> {
    return new Map([...(await this.workers())].map(([node, w]) => [node, w.info]));
  }

  /** Node names of the workers that exist as containers (running or not), in worker order. */
  async nodes(): Promise<string[]> {
    return [...(await this.workerContainers()).keys()].sort((a, b) => (workerNumber(a) ?? 1e9) - (workerNumber(b) ?? 1e9) || a.localeCompare(b));
  }

  private async worker(node: string): Promise<Worker> {
    const w = (await this.workers()).get(node);
    if (!w) throw new LabError(`no worker container for node "${node}" in cluster ${this.spec.cluster} (workers: ${(await this.nodes()).join(', ') || 'none'})`);
    return w;
  }

  /** Pod containers the kubelet of `node` created (on the node's engine). */
  async podContainers(node: string, all = true): Promise<Docker.ContainerInfo[]> {
    const docker = (await this.workers()).get(node)?.docker ?? this.docker;
    return listByLabels(docker, { [CLUSTER_LABEL]: this.spec.cluster, [POD_NODE_LABEL]: node }, all);
  }

  /** Power loss: the node container and all of its pod containers die at once. */
  async crash(node: string): Promise<void> {
    const w = await this.worker(node);
    const pods = await this.podContainers(node, false);
    await killAll(w.docker, [w.info.Id, ...pods.map((p) => p.Id)]);
  }

  /** Starts a crashed (or stopped) node container again; its kubelet rebuilds state from Docker. */
  async restart(node: string): Promise<void> {
    const w = await this.worker(node);
    const c = w.docker.getContainer(w.info.Id);
    if (w.info.State === 'running') await c.restart({ t: 0 });
    else await c.start();
  }

  private async controlPlaneIps(): Promise<string[]> {
    const list = await listByLabels(this.docker, { [CLUSTER_LABEL]: this.spec.cluster, [COMPONENT_LABEL]: undefined });
    const ips = new Set<string>([addressPlan(this.spec).apiserver]);
    for (const c of list) {
      if (c.Labels[COMPONENT_LABEL] === 'node' || c.Labels[COMPONENT_LABEL] === 'reaper') continue;
      const ip = ipOn(c, this.spec.network);
      if (ip) ips.add(ip);
    }
    return [...ips].sort();
  }

  /** Cuts the node off from the control plane; its pods keep running (see the file comment). */
  async partition(node: string): Promise<void> {
    const w = await this.worker(node);
    if (w.info.State !== 'running') throw new LabError(`node ${node} is not running (state ${w.info.State}); partition needs a running node`);
    const ips = await this.controlPlaneIps();
    const rules = ips.flatMap((ip) => [`iptables -A ${PARTITION_CHAIN} -s ${ip} -j DROP`, `iptables -A ${PARTITION_CHAIN} -d ${ip} -j DROP`]);
    const script = [
      `iptables -N ${PARTITION_CHAIN} 2>/dev/null || iptables -F ${PARTITION_CHAIN}`,
      ...rules,
      `iptables -C INPUT -j ${PARTITION_CHAIN} 2>/dev/null || iptables -I INPUT 1 -j ${PARTITION_CHAIN}`,
      `iptables -C OUTPUT -j ${PARTITION_CHAIN} 2>/dev/null || iptables -I OUTPUT 1 -j ${PARTITION_CHAIN}`,
    ].join(' && ');
    const r = await exec(w.docker.getContainer(w.info.Id), ['sh', '-c', script]);
    if (r.exitCode !== 0) throw new LabError(`partitioning ${node} failed (exit ${r.exitCode}): ${r.output.trim()}`);
  }

  /** Reverses partition(); a node that is not partitioned is left as it is. */
  async heal(node: string): Promise<void> {
    const w = await this.worker(node);
    if (w.info.State !== 'running') throw new LabError(`node ${node} is not running (state ${w.info.State}); use restart for a crashed node`);
    const script = [
      `while iptables -D INPUT -j ${PARTITION_CHAIN} 2>/dev/null; do :; done`,
      `while iptables -D OUTPUT -j ${PARTITION_CHAIN} 2>/dev/null; do :; done`,
      `(iptables -F ${PARTITION_CHAIN} 2>/dev/null; iptables -X ${PARTITION_CHAIN} 2>/dev/null; true)`,
    ].join('; ');
    const r = await exec(w.docker.getContainer(w.info.Id), ['sh', '-c', script]);
    if (r.exitCode !== 0) throw new LabError(`healing ${node} failed (exit ${r.exitCode}): ${r.output.trim()}`);
  }

  /** Is the node container cut off by partition()? */
  async isPartitioned(node: string): Promise<boolean> {
    const w = await this.worker(node);
    if (w.info.State !== 'running') return false;
    const r = await exec(w.docker.getContainer(w.info.Id), ['iptables', '-C', 'OUTPUT', '-j', PARTITION_CHAIN]);
    return r.exitCode === 0;
  }

  /**
   * Starts a new worker (default name: the next worker-<n>) that joins the cluster at runtime. `host`: on
   * another Docker engine (tcp://…, ssh://…), which joins the lab's swarm and gets the node's images first;
   * the lab must have been made with an overlay network (docs/multihost.md).
   */
  async addNode(name?: string, opts: { host?: string; say?: (line: string) => void } = {}): Promise<string> {
    const existing = await this.workerContainers();
    const used = new Set([...existing.values()].map((c) => ipOn(c, this.spec.network)).filter(Boolean));
    let n = 1;
    if (name === undefined) {
      n = Math.max(0, ...[...existing.keys()].map((k) => workerNumber(k) ?? 0)) + 1;
      name = workerName(n);
    } else {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new LabError(`"${name}" is not a valid node name (lower-case letters, digits, '-')`);
      if (existing.has(name)) throw new LabError(`node ${name} already exists`);
      n = workerNumber(name) ?? 1;
    }
    // The address follows the worker number when it is free, else the first free one.
    while (used.has(workerIp(this.spec, n))) n++;
    const ip = workerIp(this.spec, n);
    const docker = opts.host ? await this.joinHost(opts.host, opts.say) : this.docker;
    await this.ensurePki([{ name, ip }]);
    const c = await docker.createContainer(workerContainer(this.spec, name, ip));
    await this.putPki(c, 'node', name);
    await c.start();
    return name;
  }

  /** Another Docker engine becomes a host of this lab: swarm member, with the node images. Returns its client. */
  private async joinHost(url: string, say: (line: string) => void = () => undefined): Promise<Docker> {
    if (!this.spec.overlay) {
      throw new LabError(`cluster ${this.spec.cluster} has a bridge network on one Docker engine; a node on another host needs a lab made with an overlay network (kubelab lab up --multihost, startCluster({ overlay: true }); docs/multihost.md)`);
    }
    const remote = this.remotes.get(url) ?? engine(url);
    await reachable(remote, url);
    await ensureMember(this.docker, remote, url, say);
    await copyImages(this.docker, remote, [this.spec.image, ...NODE_IMAGES], say);
    this.remotes.set(url, remote);
    return remote;
  }

  /** Removes the node: its container, its pod containers and (with a client) its Node object. */
  async removeNode(node: string, client?: ApiClient): Promise<void> {
    const w = await this.worker(node);
    await killAll(w.docker, [w.info.Id]);
    await removeAll(w.docker, [w.info.Id, ...(await this.podContainers(node)).map((p) => p.Id)]);
    if (client) {
      try {
        await client.delete('nodes', node);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** Containers of a control-plane component, by container name. */
  async componentContainers(component: ComponentName): Promise<Docker.ContainerInfo[]> {
    const list = await listByLabels(this.docker, { [CLUSTER_LABEL]: this.spec.cluster, [COMPONENT_LABEL]: component });
    return list.sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  }

  /** The container name of the current leader (from its Lease), for leader-elected components. */
  async leader(component: ComponentName, client: ApiClient): Promise<string | undefined> {
    const lease = LEADER_LEASES[component];
    if (!lease) return undefined;
    try {
      const l = await client.get('leases', lease, { namespace: 'kube-system' });
      const holder = (l as { spec?: { holderIdentity?: string } }).spec?.holderIdentity;
      return holder ? holder.split('_')[0] : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * SIGKILLs a component: `which` = 'all' replicas, or 'leader' (the replica holding the Lease;
   * needs `client`). Returns the container names stopped.
   */
  async stopComponent(component: ComponentName, which: 'all' | 'leader' = 'all', client?: ApiClient): Promise<string[]> {
    let list = (await this.componentContainers(component)).filter((c) => c.State === 'running');
    if (which === 'leader') {
      if (!client) throw new LabError('stopping the leader needs an API client');
      const leader = await this.leader(component, client);
      if (!leader) throw new LabError(`${component} has no leader (no Lease ${LEADER_LEASES[component] ?? '-'} held)`);
      // Compose names scaled replicas' hosts after their container id.
      list = list.filter((c) => nameOf(c) === leader || c.Id.startsWith(leader));
      if (list.length === 0) throw new LabError(`the ${component} leader ${leader} is not a running container of cluster ${this.spec.cluster}`);
    }
    await killAll(this.docker, list.map((c) => c.Id));
    return list.map(nameOf);
  }

  /** Starts every stopped container of the component. Returns the container names started. */
  async startComponent(component: ComponentName): Promise<string[]> {
    const list = (await this.componentContainers(component)).filter((c) => c.State !== 'running');
    await Promise.all(list.map((c) => ignoreGone(this.docker.getContainer(c.Id).start())));
    return list.map(nameOf);
  }

  /**
   * Creates the network and every container of a new cluster (test clusters; the compose lab is
   * made by docker compose). Resolves once etcd, the apiserver (and its load balancer) and the nodes have started —
   * what "nodes Ready" waits for — with `startRest`, which starts the scheduler, controller-managers and add-ons
   * (created, not started yet): the caller calls it when the apiserver answers (waitForLab's onApiserverAnswering),
   * so their start does not slow the apiserver's; calling it again returns the same start. On failure, whatever was
   * created is removed (after a failed `startRest`, the caller's `destroy` does).
   */
  async create(opts: { workers: number; schedulers?: number; controllerManagers?: number; ingress?: boolean; dashboard?: boolean }): Promise<{ startRest: () => Promise<void> }> {
    try {
      // Multi-host: the pod network is a swarm overlay (attachable, so plain containers join it on every host).
      if (this.spec.overlay) await ensureManager(this.docker, undefined, this.spec.apiHost);
      // The certificates (CPU, ~0.2 s) are issued while Docker makes the networks and containers: they are needed
      // only when copied into the created containers.
      const workers = Array.from({ length: opts.workers }, (_, i) => ({ name: workerName(i + 1), ip: workerIp(this.spec, i + 1) }));
      const pki = this.ensurePki(workers);
      pki.catch(() => undefined); // awaited below; a failure before then must not be an unhandled rejection
      const podNetwork = this.docker.createNetwork({
        Name: this.spec.network,
        Driver: this.spec.overlay ? 'overlay' : 'bridge',
        ...(this.spec.overlay ? { Attachable: true } : {}),
        CheckDuplicate: true,
        Labels: networkLabels(this.spec),
        IPAM: { Driver: 'default', Config: [{ Subnet: this.spec.subnet, IPRange: addressPlan(this.spec).podRange, Gateway: addressPlan(this.spec).gateway }] },
      });
      // Internal either way. Multi-host: an overlay too, because Docker publishes no port of a container that is on
      // an overlay and a bridge network (the apiserver is on both); on two overlays it publishes through docker_gwbridge.
      const controlPlane = this.docker.createNetwork({
        Name: controlPlaneNetwork(this.spec),
        Driver: this.spec.overlay ? 'overlay' : 'bridge',
        ...(this.spec.overlay ? { Attachable: true } : {}),
        Internal: true,
        CheckDuplicate: true,
        Labels: controlPlaneNetworkLabels(this.spec),
      });
      // Both settle before anything is thrown, so a failed create leaves nothing half-made behind `destroy`.
      const networks = await Promise.allSettled([podNetwork, controlPlane]);
      for (const r of networks) if (r.status === 'rejected') throw r.reason;
      type Def = { def: Docker.ContainerCreateOptions; component: ComponentName | 'node'; node?: string };
      const defs: Def[] = [];
      if (this.spec.ha) {
        checkHa(this.spec.ha);
        for (let i = 1; i <= this.spec.ha.etcdMembers; i++) defs.push({ def: componentContainer(this.spec, 'etcd', i), component: 'etcd' });
        for (let i = 1; i <= this.spec.ha.apiservers; i++) defs.push({ def: componentContainer(this.spec, 'apiserver', i), component: 'apiserver' });
        defs.push({ def: componentContainer(this.spec, 'lb'), component: 'lb' });
      } else {
        defs.push({ def: componentContainer(this.spec, 'etcd'), component: 'etcd' }, { def: componentContainer(this.spec, 'apiserver'), component: 'apiserver' });
      }
      for (let i = 1; i <= (opts.schedulers ?? 2); i++) defs.push({ def: componentContainer(this.spec, 'scheduler', i), component: 'scheduler' });
      for (let i = 1; i <= (opts.controllerManagers ?? 2); i++) defs.push({ def: componentContainer(this.spec, 'controller-manager', i), component: 'controller-manager' });
      defs.push({ def: componentContainer(this.spec, 'dns'), component: 'dns' });
      if (opts.ingress) defs.push({ def: componentContainer(this.spec, 'ingress'), component: 'ingress' });
      if (opts.dashboard) defs.push({ def: componentContainer(this.spec, 'dashboard'), component: 'dashboard' });
      for (const w of workers) defs.push({ def: workerContainer(this.spec, w.name, w.ip), component: 'node', node: w.name });
      // Every container is created at once; then etcd, the apiserver (and the load balancer) and the nodes start, and
      // the rest when the apiserver answers (startRest). Docker starts containers concurrently but CPU-bound (~0.45 s
      // each here, docs/benchmarks.md), and each component's boot is ~0.4 s of CPU: started all at once, the apiserver —
      // on everyone's path — came up with the last container. The nodes are on the path to "Ready": their start
      // overlaps the apiserver's boot (a kubelet retries until it answers) instead of following it; the scheduler,
      // controller-manager and add-ons are needed later, and their start overlaps the nodes' registration.
      // Settled, not raced: on a failure every create has finished before `destroy` lists what to remove.
      const settled = await Promise.allSettled(
        defs.map(async (d) => {
          const c = await this.docker.createContainer(d.def);
          // Docker ≤ 20.10 creates a container on one network: the apiserver joins etcd's before it starts.
          if (d.component === 'apiserver') await this.docker.getNetwork(controlPlaneNetwork(this.spec)).connect({ Container: c.id });
          await pki;
          await this.putPki(c, d.component, d.node);
          return { ...d, c };
        }),
      );
      const created = settled.map((r) => {
        if (r.status === 'rejected') throw r.reason;
        return r.value;
      });
      const first = (d: Def): boolean => d.component === 'etcd' || d.component === 'apiserver' || d.component === 'lb' || d.component === 'node';
      await Promise.all(created.filter(first).map((d) => d.c.start()));
      let rest: Promise<void> | undefined;
      const startRest = (): Promise<void> => (rest ??= Promise.all(created.filter((d) => !first(d)).map((d) => d.c.start())).then(() => undefined));
      return { startRest };
    } catch (err) {
      await this.destroy().catch(() => undefined);
      throw err;
    }
  }

  /** Removes every container (incl. pod containers), network and volume of the cluster. */
  async destroy(): Promise<void> {
    // Other hosts first (their containers hold the overlay network); a host that is gone is skipped.
    await Promise.all([...this.remotes.values()].map((docker) => removeCluster(docker, this.spec.cluster, { networks: false }).catch(() => undefined)));
    await removeCluster(this.docker, this.spec.cluster);
  }

  /**
   * The inspect data (host ports, state) of the container that publishes the API: the apiserver, or in an
   * HA control plane the load balancer in front of the apiservers.
   */
  async apiserver(): Promise<Docker.ContainerInspectInfo> {
    const c = (await this.componentContainers('lb'))[0] ?? (await this.componentContainers('apiserver'))[0];
    if (!c) throw new LabError(`cluster ${this.spec.cluster} has no apiserver container`);
    return this.docker.getContainer(c.Id).inspect();
  }

  /**
   * One replica of a control-plane component by its name after the prefix (`etcd-2`, `apiserver-1`) or its
   * number (`2`), for the member faults of an HA control plane (`kubelab etcd|apiserver …`).
   */
  async member(component: 'etcd' | 'apiserver', which: string): Promise<Docker.ContainerInfo> {
    const list = await this.componentContainers(component);
    const names = list.map((c) => nameOf(c).slice(this.spec.prefix.length));
    const wanted = /^\d+$/.test(which) ? `${component}-${which}` : which;
    const i = names.indexOf(wanted);
    if (i < 0) {
      const hint = names.length <= 1 ? ' (this lab has one; an HA lab has several: kubelab lab up --ha)' : '';
      throw new LabError(`no ${component} member "${which}" in cluster ${this.spec.cluster}; members: ${names.join(', ') || 'none'}${hint}`);
    }
    return list[i];
  }

  /** SIGKILLs one etcd member or apiserver (its data, in the container, stays for restartMember). */
  async crashMember(component: 'etcd' | 'apiserver', which: string): Promise<string> {
    const c = await this.member(component, which);
    await killAll(this.docker, [c.Id]);
    return nameOf(c);
  }

  /** Starts a crashed member again (a running one is restarted); an etcd member rejoins with its data. */
  async restartMember(component: 'etcd' | 'apiserver', which: string): Promise<string> {
    const c = await this.member(component, which);
    const container = this.docker.getContainer(c.Id);
    if (c.State === 'running') await container.restart({ t: 0 });
    else await container.start();
    return nameOf(c);
  }

  /**
   * Cuts one etcd member off the control-plane network: its peers lose it (the rest keep quorum and elect a
   * leader among themselves) and the apiservers' connections to it go silent, as with a pulled cable. The
   * member keeps running; healEtcd connects it again and it catches up from the leader.
   */
  async partitionEtcd(which: string): Promise<string> {
    const c = await this.member('etcd', which);
    if (c.State !== 'running') throw new LabError(`${nameOf(c)} is not running (state ${c.State}); partition needs a running member`);
    if (!(await this.isEtcdPartitioned(which))) await this.docker.getNetwork(controlPlaneNetwork(this.spec)).disconnect({ Container: c.Id, Force: true });
    return nameOf(c);
  }

  /** Reverses partitionEtcd(); a member that is connected is left as it is. */
  async healEtcd(which: string): Promise<string> {
    const c = await this.member('etcd', which);
    if (await this.isEtcdPartitioned(which)) await this.docker.getNetwork(controlPlaneNetwork(this.spec)).connect({ Container: c.Id });
    return nameOf(c);
  }

  /**
   * The etcd cluster as one running member sees it (`etcdctl endpoint status --cluster`, with that member's own
   * certificate): each member's name and whether it leads. A member this one cannot reach is not listed.
   */
  async etcdStatus(from?: string): Promise<{ member: string; leader: boolean; error?: string }[]> {
    const running = (await this.componentContainers('etcd')).filter((c) => c.State === 'running' && (from === undefined || nameOf(c) === `${this.spec.prefix}${from}`));
    const c = running[0];
    if (!c) throw new LabError(`no running etcd member${from ? ` "${from}"` : ''} in cluster ${this.spec.cluster} to ask`);
    const scheme = this.spec.secure ? 'https' : 'http';
    const tls = this.spec.secure ? ['--cacert', `${PKI_PATH}/ca.crt`, '--cert', `${PKI_PATH}/etcd-server.crt`, '--key', `${PKI_PATH}/etcd-server.key`] : [];
    const r = await exec(this.docker.getContainer(c.Id), ['etcdctl', '--endpoints', `${scheme}://127.0.0.1:2379`, ...tls, 'endpoint', 'status', '--cluster']);
    // https://<prefix>etcd-2:2379, <id>, <version>, <db size>, <is leader>, <is learner>, <term>, <index>, <applied>, <errors>
    return r.output
      .split('\n')
      .map((l) => l.split(', '))
      .filter((f) => f.length >= 5 && /:\/\//.test(f[0]))
      .map((f) => ({ member: (f[0].match(/\/\/([^:]+):/)?.[1] ?? f[0]).slice(this.spec.prefix.length), leader: f[4] === 'true', ...(f[9] ? { error: f.slice(9).join(', ').trim() } : {}) }));
  }

  /** The member that leads the etcd cluster now (`etcd-2`), or undefined while there is none. */
  async etcdLeader(from?: string): Promise<string | undefined> {
    return (await this.etcdStatus(from)).find((s) => s.leader)?.member;
  }

  async isEtcdPartitioned(which: string): Promise<boolean> {
    const c = await this.member('etcd', which);
    return !Object.keys(c.NetworkSettings?.Networks ?? {}).includes(controlPlaneNetwork(this.spec));
  }
}

/** A /16 for a new test cluster: random from 10.100–10.199 (rarely used), not overlapping any Docker network. */
export async function pickSubnet(docker: Docker, avoid: string[] = []): Promise<string> {
  const nets = await docker.listNetworks();
  const taken = [...avoid, ...nets.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s))];
  for (let i = 0; i < 200; i++) {
    const candidate = `10.${100 + Math.floor(Math.random() * 100)}.0.0/16`;
    if (!taken.some((t) => cidrsOverlap(t, candidate))) return candidate;
  }
  throw new LabError('no free /16 in 10.100.0.0–10.199.255.255 for a test cluster network');
}

export { statusCode };
