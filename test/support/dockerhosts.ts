/**
 * Docker hosts in containers (kubelab/dockerhost: Debian's docker.io, Docker in Docker) on a bridge network that
 * plays their LAN: several "machines" on one, for the multi-host test and benchmark (docs/multihost.md).
 */
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { copyImages, engine } from '../../cli/lab/hosts.js';
import { waitFor } from '../../client/wait.js';

export const HOST_IMAGE = 'kubelab/dockerhost:latest';

export interface DockerHost {
  /** Container name on the local engine. */
  readonly name: string;
  /** tcp://<address on the LAN>:2375 */
  readonly url: string;
  readonly docker: Docker;
  /** SIGKILL of the whole host (its engine and every container on it). */
  kill(): Promise<void>;
}

export interface DockerHosts {
  readonly hosts: DockerHost[];
  /** Removes every host (and its image volume) and the LAN. Safe to call twice. */
  remove(): Promise<void>;
}

/**
 * Starts `n` hosts, each with its own dockerd (overlay2 on its own volume, its own cgroup parent), and waits for
 * their engines; `images` are copied from the local engine into each. `labels` mark the containers and the LAN.
 */
export async function startDockerHosts(n: number, labels: Record<string, string>, images: string[] = [], say: (l: string) => void = () => undefined): Promise<DockerHosts> {
  const local = new Docker();
  const id = randomBytes(3).toString('hex');
  const lan = await local.createNetwork({ Name: `kubelab-hosts-${id}`, Driver: 'bridge', Labels: labels });
  const names = Array.from({ length: n }, (_, i) => `kubelab-host-${id}-${String.fromCharCode(97 + i)}`);
  const remove = async (): Promise<void> => {
    for (const name of names) await local.getContainer(name).remove({ force: true, v: true }).catch(() => undefined);
    await lan.remove().catch(() => undefined);
  };
  try {
    const hosts = await Promise.all(
      names.map(async (name): Promise<DockerHost> => {
        const c = await local.createContainer({
          name,
          Hostname: name.slice(-8),
          Image: HOST_IMAGE,
          Cmd: ['--storage-driver', 'overlay2', '--cgroup-parent', `/${name}`],
          Labels: labels,
          HostConfig: {
            // What dockerd needs to run containers and swarm networking. --privileged is not available on every
            // engine (this machine's bounding set lacks CAP_SYS_RESOURCE): every capability but that one instead.
            CapAdd: ['ALL'],
            CapDrop: ['SYS_RESOURCE'],
            SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
            Tmpfs: { '/run': '' },
            Binds: ['/sys/fs/cgroup:/sys/fs/cgroup:rw'],
            NetworkMode: lan.id,
          },
        });
        await c.start();
        const ip = Object.values((await c.inspect()).NetworkSettings.Networks)[0]?.IPAddress;
        if (!ip) throw new Error(`host ${name} has no address`);
        const url = `tcp://${ip}:2375`;
        const docker = engine(url);
        await waitFor(() => docker.ping().then(() => true, () => false), { timeoutMs: 60_000, intervalMs: 250, what: `the Docker engine of ${name} to answer` });
        await copyImages(local, docker, images, (l) => say(`${name}: ${l}`));
        return { name, url, docker, kill: () => c.kill({ signal: 'SIGKILL' }).then(() => undefined) };
      }),
    );
    return { hosts, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
