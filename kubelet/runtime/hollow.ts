/**
 * The hollow runtime: containers that exist only in memory, for scale tests and benchmarks (as kwok's
 * fake nodes, behaviour is data). A container is "running" `startDelayMs` after start; a pod can script
 * it through annotations:
 *   kubelab.io/hollow-exit-after: 5s        every container exits that long after it started
 *   kubelab.io/hollow-exit-code: "1"        ...with this code (default 0)
 *   kubelab.io/hollow-ready: "false"        readiness probes fail
 *   kubelab.io/hollow-liveness: "fail"      liveness probes fail
 *   kubelab.io/hollow-startup: "fail"       startup probes fail
 *   kubelab.io/hollow-cpu: 250m             CPU usage in /stats/summary (kubelet/stats.ts; changes apply live)
 *   kubelab.io/hollow-memory: 64Mi          memory working set, likewise
 * Names of the form `<container>=<value>;<container2>=<value>` apply per container.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { durationFlag, parseFlagValue } from '../../component-base/flags.js';
import { realClock, timerMs, type Clock } from '../../component-base/clock.js';
import { ImagePullError } from '../errors.js';
import {
  SANDBOX,
  type ContainerConfig,
  type ExecProcess,
  type ExecResult,
  type PullPolicy,
  type Runtime,
  type RuntimeContainer,
  type SandboxConfig,
  type VolumeFile,
} from './types.js';

export const HOLLOW_ANNOTATIONS = {
  exitAfter: 'kubelab.io/hollow-exit-after',
  exitCode: 'kubelab.io/hollow-exit-code',
  ready: 'kubelab.io/hollow-ready',
  liveness: 'kubelab.io/hollow-liveness',
  startup: 'kubelab.io/hollow-startup',
} as const;

interface HollowContainer {
  c: { -readonly [K in keyof RuntimeContainer]: RuntimeContainer[K] };
  annotations: Record<string, string>;
  timers: NodeJS.Timeout[];
}

/** Reads a scripted value for one container: a plain value, or `name=value;name2=value2`. */
export function scriptedValue(annotations: Record<string, string> | undefined, key: string, container: string): string | undefined {
  const raw = annotations?.[key];
  if (raw === undefined) return undefined;
  if (!raw.includes('=')) return raw;
  for (const part of raw.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === container) return part.slice(i + 1).trim();
  }
  return undefined;
}

export interface HollowRuntimeOptions {
  startDelayMs: number;
  clock?: Clock;
  /** Images that "cannot be pulled": any image whose name contains this text (default "does-not-exist"). */
  missingImageMarker?: string;
}

export class HollowRuntime implements Runtime {
  readonly kind = 'hollow' as const;
  private readonly containers = new Map<string, HollowContainer>();
  /** Container ids per pod: a pod worker's list(uid) costs its pod's containers, not the node's. */
  private readonly byPod = new Map<string, Set<string>>();
  private readonly volumes = new Map<string, string>();
  private readonly clock: Clock;
  private ipCounter = 0;
  private listener?: (podUid: string) => void;
  private readonly ipBase = randomBytes(2);

  constructor(private readonly opts: HollowRuntimeOptions) {
    this.clock = opts.clock ?? realClock;
  }

  list(podUid?: string): Promise<RuntimeContainer[]> {
    const out: RuntimeContainer[] = [];
    if (!podUid) for (const h of this.containers.values()) out.push({ ...h.c });
    else
      for (const id of this.byPod.get(podUid) ?? []) {
        const h = this.containers.get(id);
        if (h) out.push({ ...h.c });
      }
    out.sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
    return Promise.resolve(out);
  }

  ensureImage(image: string, policy: PullPolicy): Promise<string> {
    if (image.includes(this.opts.missingImageMarker ?? 'does-not-exist')) {
      return Promise.reject(
        policy === 'Never'
          ? new ImagePullError(image, `Container image "${image}" is not present with pull policy of Never`, true)
          : new ImagePullError(image, `hollow: pull access denied for ${image}, repository does not exist`),
      );
    }
    return Promise.resolve(`sha256:hollow-${image}`);
  }

  runSandbox(cfg: SandboxConfig): Promise<RuntimeContainer> {
    const n = ++this.ipCounter;
    const ip = cfg.pod.spec?.hostNetwork ? undefined : `10.${this.ipBase[0] % 200}.${(n >> 8) & 255}.${n & 255}`;
    const h = this.add(cfg.pod, SANDBOX, cfg.attempt, 'kubelab/pause:latest', ip);
    h.c.state = 'running';
    h.c.startedAt = this.clock.now();
    return Promise.resolve({ ...h.c });
  }

  createContainer(cfg: ContainerConfig): Promise<string> {
    const h = this.add(cfg.pod, cfg.container.name, cfg.attempt, cfg.container.image ?? '');
    return Promise.resolve(h.c.id);
  }

  private add(pod: ContainerConfig['pod'], name: string, attempt: number, image: string, ip?: string): HollowContainer {
    const id = randomBytes(16).toString('hex');
    const h: HollowContainer = {
      c: {
        id,
        podUid: pod.metadata?.uid ?? '',
        namespace: pod.metadata?.namespace ?? '',
        podName: pod.metadata?.name ?? '',
        name,
        attempt,
        state: 'created',
        createdAt: this.clock.now(),
        image,
        imageId: `sha256:hollow-${image}`,
        ip,
        graceSeconds: pod.spec?.terminationGracePeriodSeconds ?? 30,
      },
      annotations: { ...(pod.metadata?.annotations ?? {}) },
      timers: [],
    };
    this.containers.set(id, h);
    let ids = this.byPod.get(h.c.podUid);
    if (!ids) this.byPod.set(h.c.podUid, (ids = new Set()));
    ids.add(id);
    return h;
  }

  startContainer(id: string): Promise<void> {
    const h = this.containers.get(id);
    if (!h) return Promise.reject(new Error(`no such container: ${id}`));
    const run = (): void => {
      if (h.c.state !== 'created') return;
      h.c.state = 'running';
      h.c.startedAt = this.clock.now();
      this.listener?.(h.c.podUid);
      const after = scriptedValue(h.annotations, HOLLOW_ANNOTATIONS.exitAfter, h.c.name);
      if (after !== undefined) {
        const ms = parseFlagValue(durationFlag(HOLLOW_ANNOTATIONS.exitAfter, 'delay to exit'), after);
        const code = Number(scriptedValue(h.annotations, HOLLOW_ANNOTATIONS.exitCode, h.c.name) ?? '0') || 0;
        h.timers.push(setTimeout(() => this.exit(h, code), timerMs(ms)));
      }
    };
    if (this.opts.startDelayMs <= 0) run();
    else h.timers.push(setTimeout(run, this.opts.startDelayMs));
    return Promise.resolve();
  }

  private exit(h: HollowContainer, code: number): void {
    if (h.c.state === 'exited') return;
    for (const t of h.timers) clearTimeout(t);
    h.timers = [];
    h.c.state = 'exited';
    h.c.exitCode = code;
    h.c.finishedAt = this.clock.now();
    h.c.startedAt ??= h.c.finishedAt;
    this.listener?.(h.c.podUid);
  }

  watchChanges(fn: (podUid: string) => void): void {
    this.listener = fn;
  }

  stopContainer(id: string, graceMs: number): Promise<void> {
    void graceMs;
    const h = this.containers.get(id);
    if (h && h.c.state !== 'exited') this.exit(h, h.c.state === 'running' ? 143 : 0);
    return Promise.resolve();
  }

  removeContainer(id: string): Promise<void> {
    const h = this.containers.get(id);
    if (h) {
      for (const t of h.timers) clearTimeout(t);
      const ids = this.byPod.get(h.c.podUid);
      ids?.delete(id);
      if (ids?.size === 0) this.byPod.delete(h.c.podUid);
    }
    this.containers.delete(id);
    return Promise.resolve();
  }

  exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
    void timeoutMs;
    const h = this.containers.get(id);
    if (!h || h.c.state !== 'running') return Promise.resolve({ exitCode: 126, output: 'container is not running' });
    return Promise.resolve({ exitCode: 0, output: `hollow: ${cmd.join(' ')}\n` });
  }

  execInteractive(id: string, cmd: string[], opts: { stdin: boolean; tty: boolean }): Promise<ExecProcess> {
    void opts;
    const stdout = Readable.from([Buffer.from(`hollow: ${cmd.join(' ')}\n`)]);
    const stderr = new PassThrough();
    stderr.end();
    void id;
    return Promise.resolve({
      stdout,
      stderr,
      closeStdin: () => undefined,
      resize: () => Promise.resolve(),
      wait: () => Promise.resolve(0),
      kill: () => undefined,
    });
  }

  logs(id: string): Promise<Readable> {
    const h = this.containers.get(id);
    return Promise.resolve(Readable.from(h ? [Buffer.from(`hollow container ${h.c.name} of pod ${h.c.podName}\n`)] : []));
  }

  ensureVolume(name: string, labels: Record<string, string>): Promise<void> {
    this.volumes.set(name, labels['io.kubelab.pod.uid'] ?? '');
    return Promise.resolve();
  }

  writeVolume(name: string, files: VolumeFile[]): Promise<void> {
    void name;
    void files;
    return Promise.resolve();
  }

  mkdirVolume(): Promise<void> {
    return Promise.resolve();
  }

  removePodVolumes(podUid: string): Promise<void> {
    for (const [name, uid] of this.volumes) if (uid === podUid) this.volumes.delete(name);
    return Promise.resolve();
  }

  podVolumeUids(): Promise<string[]> {
    return Promise.resolve([...new Set([...this.volumes.values()].filter(Boolean))]);
  }

  probeOverride(containerId: string, kind: 'liveness' | 'readiness' | 'startup'): boolean | undefined {
    const h = this.containers.get(containerId);
    if (!h) return false;
    const key = kind === 'readiness' ? HOLLOW_ANNOTATIONS.ready : kind === 'liveness' ? HOLLOW_ANNOTATIONS.liveness : HOLLOW_ANNOTATIONS.startup;
    const v = scriptedValue(h.annotations, key, h.c.name);
    return !(v === 'false' || v === 'fail');
  }

  close(): Promise<void> {
    for (const h of this.containers.values()) for (const t of h.timers) clearTimeout(t);
    return Promise.resolve();
  }
}
