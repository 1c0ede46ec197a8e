/** Small dockerode helpers for the lab: label queries, tolerant removal, exec with exit code. */
import Docker from 'dockerode';
import { demux } from '../../client/dockerstream.js';
import { CLUSTER_LABEL } from './spec.js';

export function statusCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err ? (err as { statusCode?: number }).statusCode : undefined;
}

/** Awaits `p`, ignoring "no such object" (404), "already in progress/not running" (409) and "not modified" (304). */
export async function ignoreGone(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    const code = statusCode(err);
    if (code !== 404 && code !== 409 && code !== 304) throw err;
  }
}

/** `{ label: ['a=b', 'c'] }` as the Docker API wants it. */
export function labelFilters(labels: Record<string, string | undefined>): string {
  return JSON.stringify({ label: Object.entries(labels).map(([k, v]) => (v === undefined ? k : `${k}=${v}`)) });
}

export async function listByLabels(docker: Docker, labels: Record<string, string | undefined>, all = true): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all, filters: labelFilters(labels) });
}

export function nameOf(c: Docker.ContainerInfo): string {
  return c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12);
}

/** SIGKILLs the containers all at once (a power cut, not a shutdown). */
export async function killAll(docker: Docker, ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => ignoreGone(docker.getContainer(id).kill({ signal: 'SIGKILL' }))));
}

export async function removeAll(docker: Docker, ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => ignoreGone(docker.getContainer(id).remove({ force: true, v: true }))));
}

/**
 * Removes every container, network and volume of a cluster. Workers go first so no kubelet is left
 * to start pods while they are being removed; further passes catch pods started meanwhile.
 */
export async function removeCluster(docker: Docker, cluster: string, opts: { networks?: boolean } = {}): Promise<{ containers: number; networks: string[]; volumes: string[] }> {
  let removed = 0;
  const names = new Set<string>();
  const workers = await listByLabels(docker, { [CLUSTER_LABEL]: cluster, 'io.kubelab.component': 'node' });
  await killAll(docker, workers.map((c) => c.Id));
  // A killed kubelet's last create request may still land: repeat until a listing comes back empty.
  for (let pass = 0; pass < 6; pass++) {
    const list = await listByLabels(docker, { [CLUSTER_LABEL]: cluster });
    if (list.length === 0) break;
    for (const c of list) names.add(nameOf(c));
    await removeAll(docker, list.map((c) => c.Id));
    removed += list.length;
    await new Promise((r) => setTimeout(r, 300));
  }
  // Another host of a multi-host lab (opts.networks false): the overlay network is the manager's to remove.
  const nets = opts.networks === false ? [] : await docker.listNetworks({ filters: labelFilters({ [CLUSTER_LABEL]: cluster }) });
  for (const n of nets) {
    const net = docker.getNetwork(n.Id);
    try {
      const info = (await net.inspect()) as { Containers?: Record<string, unknown> };
      for (const id of Object.keys(info.Containers ?? {})) await ignoreGone(net.disconnect({ Container: id, Force: true }));
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
    }
    // Docker finishes releasing a removed container's endpoint a moment later — on a busy 2-core machine more
    // than 10 s later (seen after an HA cluster's 9 containers went at once): retry for up to 30 s.
    for (let attempt = 0; ; attempt++) {
      try {
        await ignoreGone(net.remove());
        break;
      } catch (err) {
        if (statusCode(err) !== 403 || attempt >= 60) throw err;
        // Docker 20.10 can keep the endpoint of a container that is gone (network inspect lists none, remove says
        // "has active endpoints"): a forced disconnect by the old container name clears it.
        if (attempt % 10 === 9) for (const name of names) await net.disconnect({ Container: name, Force: true }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
  const vols = (await docker.listVolumes({ filters: labelFilters({ [CLUSTER_LABEL]: cluster }) })).Volumes ?? [];
  await Promise.all(vols.map((v) => ignoreGone(docker.getVolume(v.Name).remove({ force: true }))));
  return { containers: removed, networks: nets.map((n) => n.Name), volumes: vols.map((v) => v.Name) };
}


/** Runs `cmd` in a running container; resolves with its exit code and combined output. */
export async function exec(container: Docker.Container, cmd: string[], timeoutMs = 15_000): Promise<{ exitCode: number; output: string }> {
  const e = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`exec ${cmd.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on('data', (b: Buffer) => chunks.push(b));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.on('error', (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  // The stream can end a moment before the exec reports its exit code.
  for (let i = 0; i < 50; i++) {
    const info = await e.inspect();
    if (!info.Running) return { exitCode: info.ExitCode ?? -1, output: demux(Buffer.concat(chunks)).toString('utf8') };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`exec ${cmd.join(' ')} did not report an exit code`);
}

/** The container's IPv4 address on `network` (@types/dockerode has no NetworkSettings.IPAddress). */
export function ipOn(info: Docker.ContainerInspectInfo | Docker.ContainerInfo, network: string): string | undefined {
  const nets = info.NetworkSettings.Networks ?? {};
  return nets[network]?.IPAddress || undefined;
}

/** The host port Docker published for `port/tcp` on 127.0.0.1. */
export function hostPort(info: Docker.ContainerInspectInfo, port: number): number | undefined {
  const b = info.NetworkSettings.Ports?.[`${port}/tcp`]?.[0];
  return b?.HostPort ? Number(b.HostPort) : undefined;
}

/** Do two IPv4 CIDRs overlap? */
export function cidrsOverlap(a: string, b: string): boolean {
  const parse = (c: string): [number, number] => {
    const [ip, bits] = c.split('/');
    const n = (ip ?? '').split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
    const len = Number(bits ?? 32);
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    return [(n & mask) >>> 0, mask];
  };
  const [na, ma] = parse(a);
  const [nb, mb] = parse(b);
  const mask = (ma & mb) >>> 0;
  return ((na & mask) >>> 0) === ((nb & mask) >>> 0);
}
