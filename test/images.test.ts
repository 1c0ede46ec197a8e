/**
 * The locally built images do their jobs: kubelab/pause:latest is a working pod sandbox
 * (shared network and PID namespace, zombie reaping, clean exit on SIGTERM/SIGINT, the Service
 * route when given NET_ADMIN) and kubelab/busybox:latest has the applets pods use.
 * Needs the images: `npm run images`.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import {
  containerLogs,
  docker,
  execIn,
  removeByLabel,
  requireImages,
  startContainer,
  testLabels,
  waitForExit,
} from './support/docker.js';
import { waitFor } from './support/wait.js';

const SUITE = 'images';
const PAUSE = 'kubelab/pause:latest';
const BUSYBOX = 'kubelab/busybox:latest';
const run = randomBytes(3).toString('hex');
const name = (role: string) => `kubelab-test-${SUITE}-${role}-${run}`;
const labels = testLabels(SUITE);

async function startPause(role: string, extra: Partial<Docker.ContainerCreateOptions> = {}) {
  return startContainer({ Image: PAUSE, name: name(role), Labels: labels, ...extra });
}

/** A busybox container in the pause container's network (and optionally PID) namespace. */
async function startJoined(role: string, pause: Docker.Container, script: string, sharePid = false) {
  return startContainer({
    Image: BUSYBOX,
    name: name(role),
    Labels: labels,
    Cmd: ['sh', '-c', script],
    HostConfig: {
      NetworkMode: `container:${pause.id}`,
      ...(sharePid ? { PidMode: `container:${pause.id}` } : {}),
    },
  });
}

/** Runs `script` in a joined container to completion; returns its exit code and output. */
async function runJoined(role: string, pause: Docker.Container, script: string, sharePid = false) {
  const c = await startJoined(role, pause, script, sharePid);
  const exitCode = await waitForExit(c, 60_000);
  const { stdout, stderr } = await containerLogs(c);
  return { exitCode, stdout, stderr };
}

beforeAll(async () => {
  await requireImages(PAUSE, BUSYBOX);
  await removeByLabel('io.kubelab.test', SUITE); // leftovers of an interrupted run
});

afterAll(async () => {
  await removeByLabel('io.kubelab.test', SUITE);
});

describe('kubelab/pause as a pod sandbox', () => {
  it('shares its network namespace: one app container serves, another fetches over 127.0.0.1', async () => {
    const pause = await startPause('sandbox');
    await startJoined(
      'web',
      pause,
      'mkdir -p /www && echo "hello from the pod" > /www/index.html && exec httpd -f -p 8080 -h /www',
    );
    // busybox wget crashes with -T; bound it with timeout instead. Retry until httpd listens.
    const client = await runJoined(
      'client',
      pause,
      'for i in $(seq 1 50); do timeout 5 wget -qO- http://127.0.0.1:8080/ && exit 0; sleep 0.1; done; exit 1',
    );
    expect(client.exitCode, client.stderr).toBe(0);
    expect(client.stdout.trim()).toBe('hello from the pod');
    // The pause container is still running: app containers come and go, the sandbox stays.
    expect((await pause.inspect()).State.Running).toBe(true);
  });

  it('is PID 1 of a shared PID namespace and reaps orphaned zombies', async () => {
    const pause = await startPause('reaper');
    // `(sleep 1 &)` orphans a sleep: it is reparented to PID 1 (pause). When it exits it stays a
    // zombie unless PID 1 waits for it.
    const script = [
      '(sleep 1 &)',
      'sleep 0.3',
      'echo "--- during"',
      'cat /proc/[0-9]*/stat',
      'sleep 2',
      'echo "--- after"',
      'cat /proc/[0-9]*/stat',
    ].join('; ');
    const r = await runJoined('orphans', pause, script, true);
    expect(r.exitCode, r.stderr).toBe(0);
    const [during = '', after = ''] = r.stdout.split('--- after');
    // /proc/<pid>/stat: "pid (comm) state ppid ..."
    expect(after).toMatch(/^1 \(pause\) S 0 /m);
    expect(during).toMatch(/^\d+ \(sleep\) S 1 /m); // the orphan, adopted by pause
    expect(after).not.toMatch(/^\d+ \(sleep\)/m); // gone, not a zombie
    expect(after).not.toMatch(/^\d+ \([^)]*\) Z /m);
  });

  it('exits 0 promptly on SIGTERM (docker stop) and on SIGINT', async () => {
    const pause = await startPause('term');
    const t0 = Date.now();
    await pause.stop({ t: 10 });
    const stopMs = Date.now() - t0;
    const info = await pause.inspect();
    expect(info.State.ExitCode).toBe(0);
    expect(stopMs).toBeLessThan(3_000); // not the 10 s SIGKILL fallback

    const pause2 = await startPause('int');
    await pause2.kill({ signal: 'SIGINT' });
    expect(await waitForExit(pause2, 5_000)).toBe(0);
  });
});

describe('kubelab/pause sets the Service route', () => {
  const SUBNET = '10.213.97.0/24'; // only a local bridge; unusual so it clashes with nothing
  const SERVICE_CIDR = '10.213.97.128/25';
  const NODE_IP = '10.213.97.2';
  const net = name('net');

  beforeAll(async () => {
    await docker().createNetwork({
      Name: net,
      Driver: 'bridge',
      Labels: labels,
      IPAM: { Config: [{ Subnet: SUBNET, Gateway: '10.213.97.1' }] },
    });
  });

  const podOnNet = (role: string, ip: string, capAdd: string[]) =>
    startPause(role, {
      Env: [`KUBELAB_SERVICE_CIDR=${SERVICE_CIDR}`, `KUBELAB_NODE_IP=${NODE_IP}`],
      HostConfig: { NetworkMode: net, CapAdd: capAdd },
      NetworkingConfig: { EndpointsConfig: { [net]: { IPAMConfig: { IPv4Address: ip } } } },
    });

  it('adds `<service range> via <node IP>` when it has NET_ADMIN; app containers cannot change routes', async () => {
    const pause = await podOnNet('route', '10.213.97.10', ['NET_ADMIN']);
    await waitFor(async () => (await containerLogs(pause)).stderr.includes('service route'), {
      timeoutMs: 10_000,
      what: 'pause to log the service route',
    });
    const r = await runJoined('iproute', pause, 'ip route');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${SERVICE_CIDR.replace(/\./g, '\\.')} via ${NODE_IP.replace(/\./g, '\\.')} `, 'm'));

    // The app container shares the namespace but not the capability.
    const app = await startJoined('app', pause, 'exec sleep 60');
    const denied = await execIn(app, ['ip', 'route', 'replace', SERVICE_CIDR, 'via', '10.213.97.3']);
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toMatch(/not permitted/i);
  });

  it('logs a warning and keeps running without NET_ADMIN', async () => {
    const pause = await podOnNet('noroute', '10.213.97.11', []);
    const logs = await waitFor(
      async () => {
        const l = await containerLogs(pause);
        return l.stderr.includes('warning') ? l : undefined;
      },
      { timeoutMs: 10_000, what: 'pause to log the route warning' },
    );
    expect(logs.stderr).toMatch(/could not set service route/);
    expect((await pause.inspect()).State.Running).toBe(true);
    const r = await runJoined('noroute-ip', pause, 'ip route');
    expect(r.stdout).not.toContain(SERVICE_CIDR);
  });
});

describe('kubelab/busybox', () => {
  it('has the applets pods use, /etc/passwd and a writable /tmp', async () => {
    const applets = 'sh httpd nc wget nslookup sleep cat echo ls ps hostname ip ifconfig route env true false timeout seq grep date id kill mkdir rm touch tail head wc uname dd yes';
    const pause = await startPause('bb');
    const r = await runJoined(
      'applets',
      pause,
      `for a in ${applets}; do command -v $a >/dev/null || echo "missing $a"; done; id; echo x > /tmp/x && cat /tmp/x; grep nobody /etc/passwd | cut -d: -f1`,
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('missing');
    expect(r.stdout).toContain('uid=0(root)');
    expect(r.stdout).toMatch(/^x$/m);
    expect(r.stdout).toMatch(/^nobody$/m);
  });
});

describe('kubelab/kubelab (the components, bundled)', () => {
  const KUBELAB = 'kubelab/kubelab:latest';
  const runImage = async (role: string, cmd: string[]) => {
    const c = await startContainer({ Image: KUBELAB, name: name(role), Labels: labels, Cmd: cmd });
    const exitCode = await waitForExit(c, 60_000);
    return { exitCode, ...(await containerLogs(c)) };
  };

  it("starts every component's code: each --help exits 0 with its usage; a bad flag or component exits non-zero saying why, once", async () => {
    await requireImages(KUBELAB);
    // One container runs them all (a container each would be ten Docker starts): the image's node, the bundle.
    const components = ['apiserver', 'scheduler', 'controller-manager', 'kubelet', 'kube-proxy', 'node', 'dns', 'ingress', 'dashboard', 'pki', 'reaper'];
    const script = components.map((c) => `node /app/dist/bundle/component.js ${c} --help > /tmp/${c}.out 2>&1; echo "${c} rc=$?"; head -1 /tmp/${c}.out`).join('; ');
    const all = await runImage('help', []); // the default entrypoint with no argument
    expect(all.exitCode).toBe(2);
    expect(all.stderr).toMatch(/^usage: component <apiserver\|scheduler\|/);
    const c = await startContainer({ Image: KUBELAB, name: name('helps'), Labels: labels, Entrypoint: ['sh', '-c'], Cmd: [script] });
    expect(await waitForExit(c, 120_000)).toBe(0);
    const { stdout } = await containerLogs(c);
    for (const comp of components) {
      expect(stdout, stdout).toContain(`${comp} rc=0\nUsage: ${comp} [options]`);
    }
    // Past --help: the pki component issues the compose lab's certificates (it loads @peculiar/x509 on demand).
    const pki = await runImage('pki', ['pki', '--dir', '/tmp/pki', '--workers', '1']);
    expect(pki.exitCode, pki.stderr).toBe(0);
    expect(pki.stdout).toMatch(/"created":\d+.*"certificates current"/);
    const bad = await runImage('badflag', ['scheduler', '--admin-port', 'abc']);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr.trim()).toBe('--admin-port: "abc" is not an integer');
  });
});
