/**
 * The Docker runtime: a pod is a pause container that owns the network (and IPC) namespace, plus app
 * containers joined to it with `container:<pause>`. Everything carries the kubelab labels, so `list()`
 * rebuilds the node's state from Docker alone.
 */
import { demux } from '../../client/dockerstream.js';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import Docker from 'dockerode';
import * as tar from 'tar-stream';
import { realClock, type Clock } from '../../component-base/clock.js';
import { cpuMillis, quantityValue } from '../../api/quantity.js';
import { ContainerStartError, ImagePullError } from '../errors.js';
import {
  LABELS,
  SANDBOX,
  type ContainerConfig,
  type ContainerState,
  type ExecProcess,
  type ExecResult,
  type LogOptions,
  type PullPolicy,
  type Runtime,
  type RuntimeContainer,
  type SandboxConfig,
  type VolumeFile,
  type VolumeOptions,
} from './types.js';

export interface DockerRuntimeOptions {
  clusterName: string;
  nodeName: string;
  /** Network of the pause containers ('' = Docker's default bridge). */
  podNetwork: string;
  /** The node's own container ('' on a Docker host): host-namespace pods join it. */
  nodeContainer?: string;
  nodeIp: string;
  serviceCidr: string;
  pauseImage: string;
  docker?: Docker;
  /** The kubelet's clock (image cache ages, `logs --since`); default: the wall clock. */
  clock?: Clock;
}

function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

async function ignore(p: Promise<unknown>, ...codes: number[]): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!codes.includes(statusCode(err) ?? 0)) throw err;
  }
}

function dockerMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; reason?: string; message?: string };
  return e.json?.message ?? e.message ?? String(err);
}

function ms(t: string | undefined): number | undefined {
  if (!t || t.startsWith('0001-')) return undefined;
  const v = Date.parse(t);
  return Number.isNaN(v) ? undefined : v;
}

/** How long a locally present image is trusted without a new inspect (create failing on it forgets it). */
const IMAGE_TTL_MS = 10_000;

/** `fn` over `items` with at most `limit` calls in flight; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

interface Cached {
  state: ContainerState;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  oomKilled?: boolean;
  error?: string;
}

/**
 * A container's CPU weight from its CPU request, as the kubelet's milliCPUToShares: 1024 per core, at least 2 — and 2
 * without a request. A BestEffort container (no request) gets the kernel's smallest weight, so when the CPU is short a
 * busy loop in a pod yields to the node's own processes and to pods that asked for CPU; Docker's default (1024, which
 * it also gives the lab's control-plane containers) let three CPU-burning pods starve the apiserver and the
 * controller-manager into lost leases and false NotReady nodes (bench/soak.ts --load 1).
 */
export function cpuShares(request: string | number | undefined): number {
  const milli = request === undefined ? 0 : cpuMillis(request);
  if (milli <= 0) return 2;
  return Math.max(2, Math.floor((milli * 1024) / 1000));
}

export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;
  readonly docker: Docker;
  /** Inspect results per container id, reused while the listed state is unchanged. */
  private readonly inspected = new Map<string, Cached>();
  private readonly mountpoints = new Map<string, string>();
  /** Local image ids by reference, so a burst of pods does not inspect the same image per container. */
  private readonly images = new Map<string, { at: number; id: Promise<string | undefined> }>();

  private readonly clock: Clock;

  constructor(private readonly opts: DockerRuntimeOptions) {
    this.docker = opts.docker ?? new Docker();
    this.clock = opts.clock ?? realClock;
  }

  /** Namespace mode of hostNetwork/hostPID/hostIPC pods: the node's container in a lab, else the Docker host. */
  private get hostMode(): string {
    return this.opts.nodeContainer ? `container:${this.opts.nodeContainer}` : 'host';
  }

  private get network(): string {
    return this.opts.podNetwork || 'bridge';
  }

  async list(podUid?: string): Promise<RuntimeContainer[]> {
    // Pod containers only: they carry the pod's UID. The volume helpers (withHelper) share the cluster and
    // node labels but no UID; listed, they read as a pod with UID "" — an orphan whose teardown listed
    // (and killed) every container of the node, which frequent projected-volume writes (ServiceAccount
    // tokens after a kubelet restart) made likely.
    const label = [`${LABELS.cluster}=${this.opts.clusterName}`, `${LABELS.node}=${this.opts.nodeName}`, podUid ? `${LABELS.podUid}=${podUid}` : LABELS.podUid];
    const infos = await this.docker.listContainers({ all: true, filters: JSON.stringify({ label }) });
    const seen = new Set(infos.map((i) => i.Id));
    // Inspects run side by side: a container that is starting holds its lock in dockerd, and one slow
    // inspect must not hold up the rest of a relist (or a pod worker's status) behind it.
    const listed = await mapLimit(infos, 8, async (i) => {
      const state: ContainerState = i.State === 'running' ? 'running' : i.State === 'exited' || i.State === 'dead' ? 'exited' : i.State === 'created' ? 'created' : 'unknown';
      const cached = this.inspected.get(i.Id);
      if (cached && cached.state === state) return { i, cached };
      try {
        return { i, cached: this.remember(i.Id, (await this.docker.getContainer(i.Id).inspect()).State) };
      } catch (err) {
        if (statusCode(err) === 404) return undefined;
        throw err;
      }
    });
    const out: RuntimeContainer[] = [];
    for (const x of listed) {
      if (!x) continue;
      const { i, cached } = x;
      const l = i.Labels ?? {};
      const nets = (i.NetworkSettings?.Networks ?? {}) as Record<string, { IPAddress?: string }>;
      const ip = nets[this.network]?.IPAddress || Object.values(nets)[0]?.IPAddress || undefined;
      out.push({
        id: i.Id,
        podUid: l[LABELS.podUid] ?? '',
        namespace: l[LABELS.podNamespace] ?? '',
        podName: l[LABELS.podName] ?? '',
        name: l[LABELS.container] ?? '',
        attempt: Number(l[LABELS.attempt] ?? '0') || 0,
        state: cached.state,
        createdAt: i.Created * 1000,
        startedAt: cached.startedAt,
        finishedAt: cached.finishedAt,
        exitCode: cached.state === 'exited' ? cached.exitCode : undefined,
        oomKilled: cached.oomKilled,
        error: cached.error,
        image: i.Image,
        imageId: i.ImageID,
        ...(l[LABELS.container] === SANDBOX && ip ? { ip } : {}),
        graceSeconds: l[LABELS.grace] !== undefined ? Number(l[LABELS.grace]) : undefined,
      });
    }
    if (!podUid) for (const id of this.inspected.keys()) if (!seen.has(id)) this.inspected.delete(id);
    out.sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
    return out;
  }

  /** Caches an inspect result; `list()` reuses it while the listed state stays the same. */
  private remember(id: string, st: Docker.ContainerInspectInfo['State']): Cached {
    const state: ContainerState = st.Running ? 'running' : st.Status === 'exited' || st.Status === 'dead' ? 'exited' : st.Status === 'created' ? 'created' : 'unknown';
    const cached: Cached = {
      state,
      startedAt: ms(st.StartedAt),
      finishedAt: ms(st.FinishedAt),
      exitCode: st.ExitCode,
      oomKilled: st.OOMKilled,
      error: st.Error || undefined,
    };
    this.inspected.set(id, cached);
    return cached;
  }

  /** Image id if the image is present locally; a present image is trusted for IMAGE_TTL_MS. */
  private localImage(image: string): Promise<string | undefined> {
    const hit = this.images.get(image);
    if (hit && this.clock.now() - hit.at < IMAGE_TTL_MS) return hit.id;
    const id = this.docker
      .getImage(image)
      .inspect()
      .then((i) => i.Id)
      .catch((err: unknown) => {
        if (statusCode(err) === 404) return undefined;
        throw err;
      });
    // Concurrent starts of one image (a burst of pods) share one inspect; only a present image is kept.
    const entry = { at: this.clock.now(), id };
    this.images.set(image, entry);
    void id.then(
      (v) => {
        if (v === undefined && this.images.get(image) === entry) this.images.delete(image);
      },
      () => {
        if (this.images.get(image) === entry) this.images.delete(image);
      },
    );
    return id;
  }

  async ensureImage(image: string, policy: PullPolicy): Promise<string> {
    const local = policy === 'Always' ? await this.uncachedImage(image) : await this.localImage(image);
    if (policy === 'Never') {
      if (local) return local;
      throw new ImagePullError(image, `Container image "${image}" is not present with pull policy of Never`, true);
    }
    if (policy === 'IfNotPresent' && local) return local;
    try {
      const stream = await this.docker.pull(image);
      await new Promise<void>((resolve, reject) =>
        this.docker.modem.followProgress(stream, (err: Error | null, res: { error?: string }[]) => {
          const failed = err?.message ?? res?.find((r) => r.error)?.error;
          if (failed) reject(new Error(failed));
          else resolve();
        }),
      );
    } catch (err) {
      // Offline labs cannot reach any registry: with Always, a local copy is better than no pod.
      if (local) return local;
      throw new ImagePullError(image, `failed to pull image "${image}": ${dockerMessage(err)}`);
    }
    this.images.delete(image);
    return (await this.docker.getImage(image).inspect()).Id;
  }

  private async uncachedImage(image: string): Promise<string | undefined> {
    this.images.delete(image);
    return this.localImage(image);
  }

  private labels(pod: SandboxConfig['pod'], name: string, attempt: number): Record<string, string> {
    return {
      [LABELS.cluster]: this.opts.clusterName,
      [LABELS.node]: this.opts.nodeName,
      [LABELS.podUid]: pod.metadata?.uid ?? '',
      [LABELS.podNamespace]: pod.metadata?.namespace ?? '',
      [LABELS.podName]: pod.metadata?.name ?? '',
      [LABELS.container]: name,
      [LABELS.attempt]: String(attempt),
      [LABELS.grace]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
    };
  }

  private containerName(pod: SandboxConfig['pod'], name: string, attempt: number): string {
    return `k8s_${name}_${pod.metadata?.name}_${pod.metadata?.namespace}_${pod.metadata?.uid}_${attempt}`;
  }

  /** Creates a container; a leftover with the same name (crash between create and label) is replaced. */
  private async create(opts: Docker.ContainerCreateOptions): Promise<Docker.Container> {
    try {
      return await this.docker.createContainer(opts);
    } catch (err) {
      if (statusCode(err) !== 409 || !opts.name) throw err;
      await ignore(this.docker.getContainer(opts.name).remove({ force: true }), 404);
      return this.docker.createContainer(opts);
    }
  }

  async runSandbox(cfg: SandboxConfig): Promise<RuntimeContainer> {
    const spec = cfg.pod.spec;
    const hostNet = spec?.hostNetwork === true;
    const env: string[] = [];
    const capAdd: string[] = [];
    if (this.opts.podNetwork && this.opts.serviceCidr && !hostNet) {
      env.push(`KUBELAB_SERVICE_CIDR=${this.opts.serviceCidr}`, `KUBELAB_NODE_IP=${this.opts.nodeIp}`);
      capAdd.push('NET_ADMIN');
    }
    const c = await this.create({
      name: this.containerName(cfg.pod, SANDBOX, cfg.attempt),
      Image: this.opts.pauseImage,
      Labels: this.labels(cfg.pod, SANDBOX, cfg.attempt),
      Env: env,
      ...(hostNet ? {} : { Hostname: cfg.hostname.slice(0, 63) }),
      HostConfig: {
        NetworkMode: hostNet ? this.hostMode : this.network,
        IpcMode: spec?.hostIPC ? this.hostMode : 'shareable',
        PidMode: spec?.hostPID ? this.hostMode : '',
        CapAdd: capAdd,
        ...(!hostNet && cfg.dns ? { Dns: cfg.dns.servers, DnsSearch: cfg.dns.searches, DnsOptions: cfg.dns.options } : {}),
        ...(!hostNet && cfg.extraHosts.length ? { ExtraHosts: cfg.extraHosts } : {}),
        ...(cfg.mounts?.length ? { Mounts: cfg.mounts.map((m) => ({ Type: 'volume' as const, Source: m.volume, Target: m.target, ReadOnly: m.readOnly })) } : {}),
        RestartPolicy: { Name: 'no' },
      },
    });
    await c.start();
    const d = await c.inspect();
    // The pod worker lists the pod right after starting its containers: this inspect serves that list.
    this.remember(d.Id, d.State);
    const nets = (d.NetworkSettings.Networks ?? {}) as Record<string, { IPAddress?: string }>;
    const ip = hostNet ? undefined : nets[this.network]?.IPAddress || Object.values(nets)[0]?.IPAddress || undefined;
    return {
      id: d.Id,
      podUid: cfg.pod.metadata?.uid ?? '',
      namespace: cfg.pod.metadata?.namespace ?? '',
      podName: cfg.pod.metadata?.name ?? '',
      name: SANDBOX,
      attempt: cfg.attempt,
      state: d.State.Running ? 'running' : 'exited',
      createdAt: Date.parse(d.Created),
      startedAt: ms(d.State.StartedAt),
      image: this.opts.pauseImage,
      imageId: d.Image,
      ip,
    };
  }

  private async mountpoint(volume: string): Promise<string> {
    let mp = this.mountpoints.get(volume);
    if (!mp) {
      mp = ((await this.docker.getVolume(volume).inspect()) as { Mountpoint: string }).Mountpoint;
      this.mountpoints.set(volume, mp);
    }
    return mp;
  }

  async createContainer(cfg: ContainerConfig): Promise<string> {
    const { pod, container: ct, sandboxId } = cfg;
    const spec = pod.spec;
    const sc = ct.securityContext ?? {};
    const psc = spec?.securityContext ?? {};
    const uid = sc.runAsUser ?? psc.runAsUser;
    const gid = sc.runAsGroup ?? psc.runAsGroup;
    const lim = ct.resources?.limits ?? {};
    const req = ct.resources?.requests ?? {};
    const mounts: Docker.MountSettings[] = [];
    for (const m of cfg.mounts) {
      if (m.subPath) {
        // Docker 20.10 has no volume subpath: bind the volume's own directory on the Docker host.
        const mp = await this.mountpoint(m.volume);
        mounts.push({ Type: 'bind', Source: `${mp}/${m.subPath}`, Target: m.target, ReadOnly: m.readOnly });
      } else mounts.push({ Type: 'volume', Source: m.volume, Target: m.target, ReadOnly: m.readOnly });
    }
    const memory = lim.memory !== undefined ? quantityValue(lim.memory) : 0;
    const opts: Docker.ContainerCreateOptions = {
      name: this.containerName(pod, ct.name, cfg.attempt),
      Image: ct.image,
      Labels: this.labels(pod, ct.name, cfg.attempt),
      Env: cfg.env,
      ...(ct.command ? { Entrypoint: ct.command } : {}),
      ...(ct.args ? { Cmd: ct.args } : {}),
      ...(ct.workingDir ? { WorkingDir: ct.workingDir } : {}),
      ...(uid !== undefined ? { User: gid !== undefined ? `${uid}:${gid}` : String(uid) } : {}),
      Tty: ct.tty === true,
      OpenStdin: ct.stdin === true,
      StdinOnce: ct.stdinOnce === true,
      HostConfig: {
        // Containers of host-namespace pods join the node (or the Docker host) directly, as their sandbox does.
        NetworkMode: spec?.hostNetwork ? this.hostMode : `container:${sandboxId}`,
        IpcMode: spec?.hostIPC ? this.hostMode : `container:${sandboxId}`,
        // An ephemeral container with a targetContainerName sees that container's processes.
        PidMode: spec?.hostPID ? this.hostMode : cfg.pidTargetId ? `container:${cfg.pidTargetId}` : spec?.shareProcessNamespace ? `container:${sandboxId}` : '',
        Mounts: mounts,
        ...(lim.cpu !== undefined ? { NanoCpus: cpuMillis(lim.cpu) * 1_000_000 } : {}),
        CpuShares: cpuShares(req.cpu),
        ...(memory > 0 ? { Memory: memory, MemorySwap: memory } : {}),
        Privileged: sc.privileged === true,
        ReadonlyRootfs: sc.readOnlyRootFilesystem === true,
        CapAdd: [...(sc.capabilities?.add ?? [])],
        CapDrop: [...(sc.capabilities?.drop ?? [])],
        ...(sc.allowPrivilegeEscalation === false ? { SecurityOpt: ['no-new-privileges'] } : {}),
        ...(psc.supplementalGroups?.length ? { GroupAdd: psc.supplementalGroups.map(String) } : {}),
        RestartPolicy: { Name: 'no' },
      },
    };
    try {
      const c = await this.create(opts);
      return c.id;
    } catch (err) {
      // "No such image": the image went away since it was last seen; look again on the retry.
      if (statusCode(err) === 404 && ct.image) this.images.delete(ct.image);
      throw new ContainerStartError('CreateContainerError', dockerMessage(err));
    }
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      if (statusCode(err) === 304) return;
      throw new ContainerStartError('RunContainerError', dockerMessage(err));
    }
  }

  async stopContainer(id: string, graceMs: number): Promise<void> {
    await ignore(this.docker.getContainer(id).stop({ t: Math.max(0, Math.ceil(graceMs / 1000)) }), 304, 404);
  }

  async removeContainer(id: string): Promise<void> {
    await ignore(this.docker.getContainer(id).remove({ force: true }), 404, 409);
    this.inspected.delete(id);
  }

  async exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
    const exec = await this.docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (b: Buffer) => chunks.push(b));
    this.docker.modem.demuxStream(stream, out, out);
    const done = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => {
        stream.destroy();
        resolve(false);
      }, timeoutMs);
      stream.on('end', () => {
        clearTimeout(t);
        resolve(true);
      });
      stream.on('close', () => {
        clearTimeout(t);
        resolve(true);
      });
      stream.on('error', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    const output = Buffer.concat(chunks).toString('utf8');
    if (!done) return { exitCode: -1, output: `command timed out after ${timeoutMs}ms` };
    for (let i = 0; i < 50; i++) {
      const info = await exec.inspect();
      if (!info.Running) return { exitCode: info.ExitCode ?? -1, output };
      await new Promise((r) => setTimeout(r, 20));
    }
    return { exitCode: -1, output };
  }

  async execInteractive(id: string, cmd: string[], opts: { stdin: boolean; tty: boolean; size?: { rows: number; cols: number } }): Promise<ExecProcess> {
    // ConsoleSize needs Docker API 1.42; older daemons ignore it and only the resize after start applies.
    const consoleSize: [number, number] | undefined = opts.tty && opts.size ? [opts.size.rows, opts.size.cols] : undefined;
    const exec = await this.docker.getContainer(id).exec({
      Cmd: cmd,
      AttachStdin: opts.stdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: opts.tty,
      ...(consoleSize ? { ConsoleSize: consoleSize } : {}),
    });
    const stream = (await exec.start({ hijack: true, stdin: opts.stdin, Tty: opts.tty, ...(consoleSize ? { ConsoleSize: consoleSize } : {}) })) as Duplex;
    // Where ConsoleSize was ignored, size the terminal before any stdin is forwarded to the process.
    if (opts.tty && opts.size) await exec.resize({ h: opts.size.rows, w: opts.size.cols }).catch(() => undefined);
    const { stdout, stderr, ended } = this.splitStream(stream, opts.tty === true);
    return {
      stdout,
      stderr,
      ...(opts.stdin ? { stdin: stream } : {}),
      closeStdin: () => {
        // Half-close the hijacked connection: the process sees EOF on stdin.
        const s = stream as Duplex & { end(): void };
        if (opts.stdin) s.end();
      },
      resize: async (rows, cols) => {
        await exec.resize({ h: rows, w: cols }).catch(() => undefined);
      },
      wait: async () => {
        await ended;
        for (let i = 0; i < 100; i++) {
          const info = await exec.inspect();
          if (!info.Running) return info.ExitCode ?? -1;
          await new Promise((r) => setTimeout(r, 20));
        }
        return -1;
      },
      kill: () => stream.destroy(),
    };
  }

  async attach(id: string, opts: { stdin: boolean }): Promise<ExecProcess> {
    const c = this.docker.getContainer(id);
    const info = await c.inspect();
    const tty = info.Config.Tty === true;
    // Only a container created with OpenStdin has a stdin to attach to.
    const stdin = opts.stdin && info.Config.OpenStdin === true;
    const stream = (await c.attach({ stream: true, stdin, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
    const { stdout, stderr, ended } = this.splitStream(stream, tty);
    // Docker holds an attach to a stopped container open until it starts again: a container that
    // exited before the attach took hold is an error (kubectl then shows its logs instead).
    if (!(await c.inspect()).State.Running) {
      const endedInTime = await Promise.race([ended.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 300))]);
      if (!endedInTime) {
        stream.destroy();
        throw new Error(`container ${info.Name.replace(/^\//, '')} is not running`);
      }
    }
    return {
      stdout,
      stderr,
      ...(stdin ? { stdin: stream } : {}),
      closeStdin: () => {
        // Without StdinOnce, Docker answers a stdin EOF by ending the attach's output too; the
        // container's stdin must stay open for the next attach anyway, so the EOF is not passed on.
        if (stdin && info.Config.StdinOnce) stream.end();
      },
      resize: async (rows, cols) => {
        await c.resize({ h: rows, w: cols }).catch(() => undefined);
      },
      wait: async () => {
        await ended;
        return 0;
      },
      kill: () => stream.destroy(),
    };
  }

  async logs(id: string, opts: LogOptions): Promise<Readable> {
    const c = this.docker.getContainer(id);
    const info = await c.inspect();
    const base = {
      stdout: true,
      stderr: true,
      timestamps: opts.timestamps,
      ...(opts.tailLines !== undefined && opts.tailLines >= 0 ? { tail: opts.tailLines } : {}),
      ...(opts.sinceSeconds ? { since: Math.floor(this.clock.now() / 1000) - opts.sinceSeconds } : {}),
    };
    const out = new PassThrough();
    if (opts.follow) {
      const stream = (await c.logs({ ...base, follow: true })) as unknown as Readable;
      if (info.Config.Tty) stream.pipe(out);
      else {
        this.docker.modem.demuxStream(stream, out, out);
        stream.on('end', () => out.end());
        stream.on('close', () => out.end());
      }
      stream.on('error', () => out.end());
      out.on('close', () => stream.destroy());
      return out;
    }
    const buf = (await c.logs({ ...base, follow: false })) as unknown as Buffer;
    out.end(info.Config.Tty ? buf : demux(buf));
    return out;
  }

  async ensureVolume(name: string, labels: Record<string, string>, opts: VolumeOptions = {}): Promise<void> {
    await this.docker.createVolume({ Name: name, Labels: labels, ...(opts.medium === 'Memory' ? { Driver: 'local', DriverOpts: tmpfsOptions(opts.sizeBytes) } : {}) });
  }

  /** Runs `fn` with a created (never started) helper container that mounts the volume at /v. */
  private async withHelper(volume: string, fn: (c: Docker.Container) => Promise<void>): Promise<void> {
    const c = await this.docker.createContainer({
      Image: this.opts.pauseImage,
      Labels: { [LABELS.cluster]: this.opts.clusterName, [LABELS.node]: this.opts.nodeName, 'io.kubelab.helper': 'volume' },
      HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: '/v' }], NetworkMode: 'none' },
    });
    try {
      await fn(c);
    } finally {
      await ignore(c.remove({ force: true }), 404);
    }
  }

  async writeVolume(name: string, files: VolumeFile[]): Promise<void> {
    const pack = tar.pack();
    const dirs = new Set<string>();
    for (const f of files) {
      const parts = f.path.split('/').slice(0, -1);
      for (let i = 1; i <= parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (!dirs.has(d)) {
          dirs.add(d);
          pack.entry({ name: d, type: 'directory', mode: 0o755 });
        }
      }
      if (f.linkTarget !== undefined) pack.entry({ name: f.path, type: 'symlink', linkname: f.linkTarget });
      else pack.entry({ name: f.path, mode: f.mode & 0o7777 }, f.data);
    }
    pack.finalize();
    const body = await streamToBuffer(pack);
    await this.withHelper(name, (c) => c.putArchive(body, { path: '/v' }).then(() => undefined));
  }

  async mkdirVolume(name: string, dir: string): Promise<void> {
    const pack = tar.pack();
    const parts = dir.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) pack.entry({ name: parts.slice(0, i).join('/'), type: 'directory', mode: 0o777 });
    pack.finalize();
    const body = await streamToBuffer(pack);
    await this.withHelper(name, (c) => c.putArchive(body, { path: '/v' }).then(() => undefined));
  }

  async removePodVolumes(podUid: string): Promise<void> {
    const res = await this.docker.listVolumes({ filters: JSON.stringify({ label: [`${LABELS.cluster}=${this.opts.clusterName}`, `${LABELS.podUid}=${podUid}`] }) });
    for (const v of res.Volumes ?? []) {
      this.mountpoints.delete(v.Name);
      await ignore(this.docker.getVolume(v.Name).remove({ force: true }), 404, 409);
    }
  }

  async podVolumeUids(): Promise<string[]> {
    const res = await this.docker.listVolumes({ filters: JSON.stringify({ label: [`${LABELS.cluster}=${this.opts.clusterName}`, `${LABELS.node}=${this.opts.nodeName}`, LABELS.podUid] }) });
    return [...new Set((res.Volumes ?? []).map((v) => v.Labels?.[LABELS.podUid] ?? '').filter(Boolean))];
  }

  /**
   * Splits a hijacked exec/attach stream into stdout and stderr (a TTY stream is stdout alone) and
   * resolves `ended` once Docker closes it.
   */
  private splitStream(stream: Duplex, tty: boolean): { stdout: PassThrough; stderr: PassThrough; ended: Promise<void> } {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    if (tty) stream.pipe(stdout);
    else this.docker.modem.demuxStream(stream, stdout, stderr);
    const ended = new Promise<void>((resolve) => {
      const fin = (): void => {
        stdout.end();
        stderr.end();
        resolve();
      };
      stream.once('end', fin);
      stream.once('close', fin);
      // `on`, not `once`: a second error (a write to stdin after a reset) must find a listener too.
      stream.on('error', fin);
    });
    return { stdout, stderr, ended };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Local-driver options of a tmpfs volume (`size` in bytes; none: the kernel's default, half the RAM). */
export function tmpfsOptions(sizeBytes: number | undefined): Record<string, string> {
  return { type: 'tmpfs', device: 'tmpfs', ...(sizeBytes && sizeBytes > 0 ? { o: `size=${sizeBytes}` } : {}) };
}

function streamToBuffer(s: tar.Pack): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (b: unknown) => chunks.push(b as Buffer));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', (e: Error) => reject(e));
  });
}

