/**
 * Small shared helpers for tests that use Docker directly (dockerode).
 *
 * Every container, network and volume a test creates carries `testLabels(suite)`
 * (`io.kubelab.test=<suite>`), and the suite removes them in `afterAll` with
 * `removeByLabel('io.kubelab.test', suite)`. deploy/test.sh fails the run if any is left.
 */
import Docker from 'dockerode';
import { waitFor } from './wait.js';

export { waitFor } from './wait.js';

export const TEST_LABEL = 'io.kubelab.test';
export const CLUSTER_LABEL = 'io.kubelab.cluster';

let instance: Docker | undefined;

/** A dockerode instance for the local engine (DOCKER_HOST if set, else /var/run/docker.sock). */
export function docker(): Docker {
  instance ??= new Docker();
  return instance;
}

/** Labels that mark a Docker object as belonging to test suite `suite`. */
export function testLabels(suite: string): { 'io.kubelab.test': string } {
  return { 'io.kubelab.test': suite };
}

function labelFilter(label: string, value?: string): string {
  return JSON.stringify({ label: [value === undefined ? label : `${label}=${value}`] });
}

function statusCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err
    ? (err as { statusCode?: number }).statusCode
    : undefined;
}

/** Ignores "no such object" (404) and "removal already in progress" (409). */
async function ignoreGone(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    const code = statusCode(err);
    if (code !== 404 && code !== 409) throw err;
  }
}

/** Force-removes (with anonymous volumes) every container carrying `label` (=`value`). */
export async function removeContainersByLabel(label: string, value?: string): Promise<string[]> {
  const d = docker();
  const list = await d.listContainers({ all: true, filters: labelFilter(label, value) });
  await Promise.all(list.map((c) => ignoreGone(d.getContainer(c.Id).remove({ force: true, v: true }))));
  return list.map((c) => c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12));
}

/** Removes every network carrying `label` (=`value`), disconnecting what is still attached. */
export async function removeNetworksByLabel(label: string, value?: string): Promise<string[]> {
  const d = docker();
  const list = await d.listNetworks({ filters: labelFilter(label, value) });
  for (const n of list) {
    const net = d.getNetwork(n.Id);
    try {
      const info = (await net.inspect()) as { Containers?: Record<string, unknown> };
      for (const id of Object.keys(info.Containers ?? {})) {
        await ignoreGone(net.disconnect({ Container: id, Force: true }));
      }
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
    }
    await ignoreGone(net.remove());
  }
  return list.map((n) => n.Name);
}

/** Removes every volume carrying `label` (=`value`). */
export async function removeVolumesByLabel(label: string, value?: string): Promise<string[]> {
  const d = docker();
  const res = await d.listVolumes({ filters: labelFilter(label, value) });
  const vols = res.Volumes ?? [];
  await Promise.all(vols.map((v) => ignoreGone(d.getVolume(v.Name).remove({ force: true }))));
  return vols.map((v) => v.Name);
}

/** Removes containers, then networks, then volumes carrying `label` (=`value`). */
export async function removeByLabel(
  label: string,
  value?: string,
): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const containers = await removeContainersByLabel(label, value);
  const networks = await removeNetworksByLabel(label, value);
  const volumes = await removeVolumesByLabel(label, value);
  return { containers, networks, volumes };
}

/** True when the local engine has image `ref`. */
export async function imageExists(ref: string): Promise<boolean> {
  try {
    await docker().getImage(ref).inspect();
    return true;
  } catch (err) {
    if (statusCode(err) === 404) return false;
    throw err;
  }
}

/** Throws a clear error when an image the test needs has not been built. */
export async function requireImages(...refs: string[]): Promise<void> {
  const missing: string[] = [];
  for (const ref of refs) if (!(await imageExists(ref))) missing.push(ref);
  if (missing.length > 0) {
    throw new Error(`missing image(s) ${missing.join(', ')}: build them with \`npm run images\``);
  }
}

/** Creates and starts a container. */
export async function startContainer(opts: Docker.ContainerCreateOptions): Promise<Docker.Container> {
  const c = await docker().createContainer(opts);
  await c.start();
  return c;
}

/** Splits Docker's multiplexed (non-TTY) stream format into stdout and stderr. */
export function demux(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    const len = buf.readUInt32BE(i + 4);
    const chunk = buf.subarray(i + 8, i + 8 + len);
    if (type === 2) err.push(chunk);
    else out.push(chunk);
    i += 8 + len;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** A container's logs so far (non-TTY containers). */
export async function containerLogs(c: Docker.Container): Promise<{ stdout: string; stderr: string }> {
  const buf = (await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  return demux(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
}

/** Runs `cmd` in a running container and collects its output and exit code. */
export async function execIn(
  c: Docker.Container,
  cmd: string[],
  opts: { timeoutMs?: number; user?: string } = {},
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const exec = await c.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, User: opts.user });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  const timeoutMs = opts.timeoutMs ?? 30_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`exec ${JSON.stringify(cmd)} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on('data', (b: Buffer) => chunks.push(b));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  const { stdout, stderr } = demux(Buffer.concat(chunks));
  const info = await waitFor(
    async () => {
      const i = await exec.inspect();
      return i.Running ? undefined : i;
    },
    { timeoutMs: 5_000, intervalMs: 50, what: `exec ${JSON.stringify(cmd)} to report its exit code` },
  );
  return { exitCode: info.ExitCode ?? -1, stdout, stderr };
}

/** Waits for a container to exit and returns its exit code. */
export async function waitForExit(c: Docker.Container, timeoutMs = 30_000): Promise<number> {
  const info = await waitFor(
    async () => {
      const i = await c.inspect();
      return i.State.Running ? undefined : i;
    },
    { timeoutMs, intervalMs: 100, what: `container ${c.id.slice(0, 12)} to exit` },
  );
  return info.State.ExitCode;
}

/**
 * A container's IPv4 address on `network` (default: its only / first network).
 * (@types/dockerode has no NetworkSettings.IPAddress: read the network's entry.)
 */
export function containerIp(info: Docker.ContainerInspectInfo, network?: string): string | undefined {
  const nets = info.NetworkSettings.Networks ?? {};
  const entry = network !== undefined ? nets[network] : Object.values(nets)[0];
  return entry?.IPAddress || undefined;
}
