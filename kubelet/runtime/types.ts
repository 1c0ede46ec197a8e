/**
 * The container runtime interface the kubelet drives: a Docker runtime (real containers) and an
 * in-memory hollow runtime implement it. Containers are identified by their labels alone, so a restarted
 * kubelet rebuilds its view of the node from `list()`.
 */
import type { Duplex, Readable } from 'node:stream';
import type { core } from '../../api/types.js';

/** Docker labels (see docs/architecture.md "Docker labels"). */
export const LABELS = {
  cluster: 'io.kubelab.cluster',
  node: 'io.kubelab.node',
  podUid: 'io.kubelab.pod.uid',
  podNamespace: 'io.kubelab.pod.namespace',
  podName: 'io.kubelab.pod.name',
  container: 'io.kubelab.container',
  /** How many times this container of the pod was (re)started before this one. */
  attempt: 'io.kubelab.restart-count',
  /** terminationGracePeriodSeconds, so orphans are stopped as gently as their pod asked. */
  grace: 'io.kubelab.pod.termination-grace-period',
  /** Volumes: the pod volume name. */
  volume: 'io.kubelab.volume',
} as const;

/** The sandbox container's name in `io.kubelab.container`. */
export const SANDBOX = 'POD';

export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

/** One container as the runtime sees it (sandbox included, name `POD`). */
export interface RuntimeContainer {
  readonly id: string;
  readonly podUid: string;
  readonly namespace: string;
  readonly podName: string;
  readonly name: string;
  readonly attempt: number;
  readonly state: ContainerState;
  readonly createdAt: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly exitCode?: number;
  readonly oomKilled?: boolean;
  /** The runtime's error when the container failed to run (e.g. a bad command). */
  readonly error?: string;
  readonly image: string;
  readonly imageId: string;
  /** Sandbox only: the pod's IP. */
  readonly ip?: string;
  readonly graceSeconds?: number;
}

export interface DnsSettings {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface SandboxConfig {
  pod: core.Pod;
  attempt: number;
  hostname: string;
  dns?: DnsSettings;
  /** `host:ip` entries for /etc/hosts. */
  extraHosts: string[];
  /** Volumes the sandbox holds for the pod's lifetime (memory-backed emptyDirs). */
  mounts?: MountSpec[];
}

/** A mount of a runtime volume into a container. */
export interface MountSpec {
  /** Runtime volume name. */
  volume: string;
  target: string;
  readOnly: boolean;
  subPath?: string;
}

export interface ContainerConfig {
  pod: core.Pod;
  container: core.Container;
  sandboxId: string;
  attempt: number;
  /** `NAME=value` entries, already resolved. */
  env: string[];
  mounts: MountSpec[];
  /** Join this container's PID namespace (an ephemeral container's targetContainerName). */
  pidTargetId?: string;
}

export interface ExecResult {
  exitCode: number;
  output: string;
}

/** A started interactive exec; `stream` carries stdin in, and multiplexed output out. */
export interface ExecProcess {
  /** stdout (and, with a TTY, everything). */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Writable side for stdin (undefined without stdin). */
  readonly stdin?: Duplex;
  closeStdin(): void;
  resize(rows: number, cols: number): Promise<void>;
  /** Resolves with the exit code once the process has ended. */
  wait(): Promise<number>;
  kill(): void;
}

export interface LogOptions {
  follow: boolean;
  tailLines?: number;
  timestamps: boolean;
  sinceSeconds?: number;
}

/** A file to write into a runtime volume. */
export interface VolumeFile {
  path: string;
  data: Buffer;
  mode: number;
  /** A symbolic link to this (relative) target instead of a file; `data` is then empty. */
  linkTarget?: string;
}

/** How a volume is backed: the node's disk (default) or memory (tmpfs of at most `sizeBytes`). */
export interface VolumeOptions {
  medium?: 'Memory';
  sizeBytes?: number;
}

/** Image policy outcome: throws ImagePullError when the image is not available. */
export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface Runtime {
  readonly kind: 'docker' | 'hollow';
  /** Containers of this node (optionally of one pod), newest first. */
  list(podUid?: string): Promise<RuntimeContainer[]>;
  /** Makes `image` available per `policy`; returns the image id. Throws ImagePullError. */
  ensureImage(image: string, policy: PullPolicy): Promise<string>;
  /** Creates and starts the pod sandbox; resolves once it runs, with its IP. */
  runSandbox(cfg: SandboxConfig): Promise<RuntimeContainer>;
  /** Creates a container (not started). Throws ContainerStartError. */
  createContainer(cfg: ContainerConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM (or the image's stop signal), then SIGKILL after `graceMs`. Resolves once stopped. */
  stopContainer(id: string, graceMs: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  /** Runs a command in a running container (probes, hooks). */
  exec(id: string, cmd: string[], timeoutMs: number): Promise<ExecResult>;
  /** `size` is the client's terminal, so a TTY process sees it from its first instruction (where the runtime can). */
  execInteractive(id: string, cmd: string[], opts: { stdin: boolean; tty: boolean; size?: { rows: number; cols: number } }): Promise<ExecProcess>;
  logs(id: string, opts: LogOptions): Promise<Readable>;
  /**
   * Attaches to a running container's own stdio (`kubectl attach`). Ending the returned process only
   * detaches; `wait()` resolves with 0 when the container's output ends. Optional: hollow nodes have none.
   */
  attach?(id: string, opts: { stdin: boolean }): Promise<ExecProcess>;
  /** Creates a volume (idempotent; an existing volume keeps its backing). */
  ensureVolume(name: string, labels: Record<string, string>, opts?: VolumeOptions): Promise<void>;
  /** Replaces a volume's contents with `files`. */
  writeVolume(name: string, files: VolumeFile[]): Promise<void>;
  /** Creates a directory in a volume (for subPath mounts). */
  mkdirVolume(name: string, dir: string): Promise<void>;
  /** Removes the volumes labelled with this pod uid. */
  removePodVolumes(podUid: string): Promise<void>;
  /** Pod uids that own volumes on this node (for clean-up of deleted pods). */
  podVolumeUids(): Promise<string[]>;
  /** Scripted probe result (hollow mode); undefined means "really probe". */
  probeOverride?(containerId: string, kind: 'liveness' | 'readiness' | 'startup'): boolean | undefined;
  /** Runtimes that know when a container changes (hollow) call this instead of waiting for a relist. */
  watchChanges?(fn: (podUid: string) => void): void;
  close(): Promise<void>;
}
