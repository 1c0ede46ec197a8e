/**
 * A lab on several Docker engines (docs/multihost.md): the engine that runs the control plane is the swarm
 * manager, every other engine joins its Docker Swarm as a worker, and the lab's pod network is an attachable
 * overlay network that spans them all. Docker Swarm does the clustering and the cross-host networking (VXLAN);
 * kubelab only asks for it through the Docker API:
 *
 *   engine(url)            a dockerode client for tcp://host:port, ssh://user@host[:port] or unix:///path
 *   ensureManager(docker)  `docker swarm init` unless the engine already manages a swarm
 *   ensureMember(…)        `docker swarm join` of another engine, and its Docker URL on its swarm node
 *                          (label io.kubelab.docker-url) so that later commands find the engine again
 *   remoteEngines(docker)  those URLs, read back from the manager
 *   copyImages(…)          `docker save | docker load` of the images a node needs, only when they differ
 */
import Docker from 'dockerode';
import { statusCode } from './docker.js';

/**
 * A call to another host's engine that sees no data for this long fails (a lost host must not hang `kubelab`
 * or a test): long image loads keep sending progress, so they are not cut.
 */
const REMOTE_TIMEOUT_MS = 20_000;

/** Label on a swarm node: how kubelab reaches that node's Docker engine. */
export const DOCKER_URL_LABEL = 'io.kubelab.docker-url';

/** Thrown for an engine kubelab cannot use, with what to do about it. */
export class HostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostError';
  }
}

/**
 * A Docker client for an engine URL: `tcp://host:2375` (plain; `https://host:2376` with DOCKER_CERT_PATH's
 * certificates is left to DOCKER_HOST and the default client), `ssh://user@host[:22]` (through the ssh agent)
 * or `unix:///var/run/docker.sock`.
 */
export function engine(url: string): Docker {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HostError(`--host ${JSON.stringify(url)} is not a Docker URL; use tcp://HOST:2375, ssh://USER@HOST or unix:///var/run/docker.sock`);
  }
  switch (u.protocol) {
    case 'tcp:':
    case 'http:':
      if (!u.hostname) throw new HostError(`--host ${url}: no host name`);
      return new Docker({ protocol: 'http', host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 2375), timeout: REMOTE_TIMEOUT_MS });
    case 'ssh:':
      if (!u.hostname) throw new HostError(`--host ${url}: no host name`);
      return new Docker({
        protocol: 'ssh',
        host: u.hostname,
        port: Number(u.port || 22),
        timeout: REMOTE_TIMEOUT_MS,
        username: decodeURIComponent(u.username) || undefined,
        sshOptions: { agent: process.env.SSH_AUTH_SOCK },
      } as Docker.DockerOptions);
    case 'unix:':
      return new Docker({ socketPath: u.pathname });
    default:
      throw new HostError(`--host ${url}: unsupported scheme ${u.protocol.replace(/:$/, '')}; use tcp://, ssh:// or unix://`);
  }
}

/** The engine answers, or a HostError that says which engine and why. */
export async function reachable(docker: Docker, url: string, timeoutMs = 10_000): Promise<void> {
  const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${timeoutMs / 1000} s`)), timeoutMs).unref());
  try {
    await Promise.race([docker.ping(), timer]);
  } catch (err) {
    throw new HostError(`the Docker engine at ${url} does not answer (${err instanceof Error ? err.message : String(err)}); is dockerd listening there (docs/multihost.md)?`);
  }
}

interface SwarmInfo {
  LocalNodeState?: string;
  NodeID?: string;
  NodeAddr?: string;
  ControlAvailable?: boolean;
  RemoteManagers?: { NodeID: string; Addr: string }[] | null;
  Cluster?: { ID?: string };
}

async function swarmInfo(docker: Docker): Promise<SwarmInfo> {
  return ((await docker.info()) as { Swarm?: SwarmInfo }).Swarm ?? {};
}

/**
 * The manager's swarm: initialised here if the engine is in none (advertising `advertiseAddr` when given: the
 * address other hosts reach this one at). Returns its cluster id and manager address.
 */
export async function ensureManager(docker: Docker, say: (line: string) => void = () => undefined, advertiseAddr?: string): Promise<{ clusterId: string; managerAddr: string }> {
  let s = await swarmInfo(docker);
  if (s.LocalNodeState === 'active' && !s.ControlAvailable) {
    throw new HostError('the control plane\'s Docker engine is a swarm worker, not a manager: run the lab on a manager, or promote this node (docker node promote)');
  }
  if (s.LocalNodeState !== 'active') {
    say('docker swarm init (the lab network spans hosts as a swarm overlay network)');
    try {
      await docker.swarmInit({ ListenAddr: '0.0.0.0:2377', ...(advertiseAddr ? { AdvertiseAddr: advertiseAddr } : {}) });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new HostError(`docker swarm init failed: ${msg.trim()}. If the machine has several addresses, run \`docker swarm init --advertise-addr <the address other hosts reach>\` once yourself, then try again`);
    }
    s = await swarmInfo(docker);
  }
  const managerAddr = s.RemoteManagers?.find((m) => m.NodeID === s.NodeID)?.Addr ?? `${s.NodeAddr}:2377`;
  return { clusterId: s.Cluster?.ID ?? '', managerAddr };
}

/**
 * `remote` becomes a worker of the manager's swarm (unless it already is one) and its swarm node is labelled
 * with `url`. An engine in another swarm is refused: leaving it is the owner's decision.
 */
export async function ensureMember(manager: Docker, remote: Docker, url: string, say: (line: string) => void = () => undefined): Promise<void> {
  const { managerAddr } = await ensureManager(manager, say);
  const nodes = (await manager.listNodes()) as { ID: string; Status?: { Addr?: string } }[];
  let s = await swarmInfo(remote);
  if (s.LocalNodeState === 'active' && !nodes.some((n) => n.ID === s.NodeID)) {
    throw new HostError(`the Docker engine at ${url} is in another swarm; run \`docker swarm leave\` there first (or add the lab's hosts to that swarm and run the lab on its manager)`);
  }
  if (s.LocalNodeState !== 'active') {
    const token = ((await manager.swarmInspect()) as { JoinTokens: { Worker: string } }).JoinTokens.Worker;
    say(`docker swarm join of ${url} (manager ${managerAddr})`);
    try {
      await remote.swarmJoin({ ListenAddr: '0.0.0.0:2377', RemoteAddrs: [managerAddr], JoinToken: token });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new HostError(`docker swarm join of ${url} failed: ${msg.trim()}. The host must reach the manager at ${managerAddr} (TCP 2377, TCP/UDP 7946, UDP 4789: docs/multihost.md)`);
    }
    s = await swarmInfo(remote);
  }
  const node = manager.getNode(s.NodeID ?? '');
  const info = (await node.inspect()) as { Version: { Index: number }; Spec: { Labels?: Record<string, string> } & Record<string, unknown> };
  if (info.Spec.Labels?.[DOCKER_URL_LABEL] !== url) {
    // POST /nodes/{id}/update?version=N with the whole spec (docker-modem: _query and _body).
    await node.update({ _query: { version: info.Version.Index }, _body: { ...info.Spec, Labels: { ...info.Spec.Labels, [DOCKER_URL_LABEL]: url } } });
  }
}

/** The Docker URLs of the swarm's other engines that a lab added (label DOCKER_URL_LABEL), read from the manager. */
export async function remoteEngines(manager: Docker): Promise<string[]> {
  const s = await swarmInfo(manager);
  if (s.LocalNodeState !== 'active' || !s.ControlAvailable) return [];
  const nodes = (await manager.listNodes()) as { ID: string; Spec?: { Labels?: Record<string, string> } }[];
  return nodes.filter((n) => n.ID !== s.NodeID).flatMap((n) => n.Spec?.Labels?.[DOCKER_URL_LABEL] ?? []);
}

async function imageId(docker: Docker, ref: string): Promise<string | undefined> {
  try {
    return ((await docker.getImage(ref).inspect()) as { Id: string }).Id;
  } catch (err) {
    if (statusCode(err) === 404) return undefined;
    throw err;
  }
}

/**
 * Copies each image the remote engine lacks (or has in another version) from the local engine — `docker save`
 * piped into `docker load`, as there is no registry. Returns the references copied.
 */
export async function copyImages(from: Docker, to: Docker, refs: string[], say: (line: string) => void = () => undefined): Promise<string[]> {
  const copied: string[] = [];
  for (const ref of refs) {
    const want = await imageId(from, ref);
    if (!want) throw new HostError(`image ${ref} is missing here; build it first (npm run images)`);
    if ((await imageId(to, ref)) === want) continue;
    const t0 = Date.now();
    say(`copying image ${ref} to the host (docker save | docker load) ...`);
    const tarball = await from.getImage(ref).get();
    const res = (await to.loadImage(tarball as NodeJS.ReadableStream)) as NodeJS.ReadableStream;
    // The load reports progress and errors as JSON lines; it is done when the stream ends.
    let out = '';
    for await (const chunk of res as AsyncIterable<Buffer>) out += chunk.toString();
    const failure = out.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => JSON.parse(l) as { error?: string }).find((m) => m.error);
    if (failure) throw new HostError(`docker load of ${ref} failed: ${failure.error}`);
    if ((await imageId(to, ref)) !== want) throw new HostError(`docker load of ${ref} did not give the same image`);
    say(`copied ${ref} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    copied.push(ref);
  }
  return copied;
}
