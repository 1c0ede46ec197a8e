/**
 * `kubelab lab up|down` for the compose lab (docker-compose.yml, project `kubelab`).
 *
 * Worker count: docker-compose.yml declares worker-1..3 with fixed addresses. Fewer workers = only
 * those services are started; more = a generated override `.kubelab/docker-compose.workers.yml`
 * adds worker-4..N (worker-1's definition, next addresses). `--scale` cannot give fixed addresses.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { parse, stringify } from 'yaml';
import { ApiClient } from '../../client/api.js';
import type { LabInfo } from '../context.js';
import { Lab } from './lab.js';
import { listByLabels, nameOf, removeAll, removeCluster } from './docker.js';
import { waitForComponents, waitForLab } from './ready.js';
import { nodeRows, nodesTable } from './status.js';
import { ensurePki } from '../../client/pki/pki.js';
import { clientTlsFromPkiDir, type ClientTls } from '../../component-base/tls.js';
import { CLUSTER_LABEL, COMPONENT_LABEL, COMPOSE_SERVICE_LABEL, DEFAULT_HA, PORTS, WORKER_LABEL, componentArgs, composeLabSpec, kubeconfigYaml, labPki, workerIp, workerName, type LabSpec } from './spec.js';

/** The lab's PKI directory, relative to the state directory (.kubelab/pki; docker-compose.yml mounts it). */
export const PKI_DIR = 'pki';

export const PROJECT = 'kubelab';
const BASE_WORKERS = 3;

/** The checkout holding docker-compose.yml: from this module (dist/cli/lab/) upward, else the cwd upward. */
export function checkoutRoot(): string {
  for (const start of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    let dir = resolve(start);
    for (;;) {
      if (existsSync(join(dir, 'docker-compose.yml')) && existsSync(join(dir, 'deploy'))) return dir;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error('cannot find the kubelab checkout (a directory with docker-compose.yml and deploy/)');
}

/**
 * `docker compose` (v2 or the v1 shim) if it answers, else `docker-compose`. Asynchronous, so that `lab up` asks while
 * it checks the images and certificates (a probe of the v1 shim is ~0.5 s of Python).
 */
export async function composeCommand(): Promise<string[]> {
  const answers = (cmd: string[]): Promise<boolean> =>
    new Promise((resolvePromise) => {
      const [bin, ...args] = cmd;
      const p = spawn(bin ?? '', [...args, 'version'], { stdio: 'ignore' });
      p.once('error', () => resolvePromise(false));
      p.once('exit', (code) => resolvePromise(code === 0));
    });
  if (await answers(['docker', 'compose'])) return ['docker', 'compose'];
  if (await answers(['docker-compose'])) return ['docker-compose'];
  throw new Error('neither `docker compose` nor `docker-compose` is installed (run bash deploy/setup-host.sh)');
}

function run(cmd: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const [bin, ...args] = cmd;
    const p = spawn(bin ?? '', args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'inherit', 'inherit'] });
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`${cmd.join(' ')} exited with ${code}`))));
  });
}

/** The services `lab up` starts first, with the workers: what the nodes need to be Ready (see labUp). */
const FIRST_SERVICES = new Set(['etcd', 'apiserver', 'reaper']);

/**
 * The services `lab up` starts: every service of docker-compose.yml but its workers, then the lab's
 * workers (fewer than the file's three when asked). Read from the file, so a service added there
 * (ingress, dashboard) is never left out of the lab.
 */
export function labServices(nodes: string[], composeFile = join(checkoutRoot(), 'docker-compose.yml')): string[] {
  const file = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as { services?: Record<string, unknown> };
  return [...Object.keys(file.services ?? {}).filter((s) => !/^worker-\d+$/.test(s)), ...nodes];
}

/**
 * Compose override adding worker-(BASE+1)..N: worker-1's definition from docker-compose.yml (compose
 * v1 cannot `extends` a service with depends_on), with the name, address and flags of each new worker.
 */
export function workersOverride(workers: number, composeFile = join(checkoutRoot(), 'docker-compose.yml')): string {
  const spec = composeLabSpec();
  const file = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as { services?: Record<string, Record<string, unknown>> };
  const template = file.services?.['worker-1'];
  if (!template) throw new Error(`${composeFile} has no worker-1 service to copy`);
  const services: Record<string, unknown> = {};
  for (let n = BASE_WORKERS + 1; n <= workers; n++) {
    const name = workerName(n);
    const ip = workerIp(spec, n);
    services[name] = {
      ...structuredClone(template),
      container_name: `${spec.prefix}${name}`,
      hostname: name,
      command: componentArgs(spec, 'node', name, ip),
      labels: { [CLUSTER_LABEL]: spec.cluster, [COMPONENT_LABEL]: 'node', [WORKER_LABEL]: name },
      networks: { [spec.network]: { ipv4_address: ip } },
    };
  }
  return `# Generated by \`kubelab lab up --workers ${workers}\`; do not edit.\n${stringify({ version: '2.4', services })}`;
}

const IMAGES = ['kubelab/kubelab:latest', 'kubelab/etcd:latest', 'kubelab/pause:latest', 'kubelab/busybox:latest', 'kubelab/ingress-nginx:latest', 'kubelab/haproxy:latest'];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || e.name.endsWith('.d.ts') || e.name.endsWith('.d.ts.map') || e.name === '.tsbuildinfo' || e.name === '.build-stamp') continue;
    newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/**
 * A quick check that spares the ~8 s of hashing build-images.sh does when nothing changed: every
 * image exists and kubelab/kubelab was built after the newest file in dist/. true, or why not.
 */
export async function imagesCurrent(docker: Docker, root: string): Promise<true | string> {
  const created = new Map<string, { at: number; id: string }>();
  for (const ref of IMAGES) {
    try {
      const image = await docker.getImage(ref).inspect();
      created.set(ref, { at: Date.parse(image.Created), id: image.Id });
    } catch {
      return `${ref} is missing`;
    }
  }
  const dist = join(root, 'dist');
  if (!existsSync(dist)) return 'dist/ is missing';
  const newest = newestMtime(dist);
  const stamp = imagesStamp(root);
  for (const ref of ['kubelab/kubelab:latest', 'kubelab/ingress-nginx:latest']) {
    // An image whose inputs did not change was not rebuilt and keeps its old creation time; the stamp of
    // build-images.sh says it holds dist/ as of the stamp's time (when it is still the image the stamp names).
    const image = created.get(ref);
    const holds = Math.max(image?.at ?? 0, image && stamp?.ids[ref] === image.id ? stamp.at : 0);
    if (newest > holds) return `dist/ is newer than ${ref}`;
  }
  return true;
}

/** .deploy-cache/images.stamp (deploy/build-images.sh): image ids that hold dist/ as of the file's time. */
function imagesStamp(root: string): { at: number; ids: Record<string, string> } | undefined {
  const path = join(root, '.deploy-cache', 'images.stamp');
  try {
    const ids = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (typeof ids !== 'object' || ids === null || Array.isArray(ids)) return undefined;
    return { at: statSync(path).mtimeMs, ids: Object.fromEntries(Object.entries(ids).filter((e): e is [string, string] => typeof e[1] === 'string')) };
  } catch {
    return undefined; // none yet, or unreadable: the images' creation times alone decide
  }
}

export interface UpOptions {
  workers: number;
  /**
   * An HA control plane (3 etcd members, 2 apiservers, the HAProxy load balancer): made through the Docker
   * API from the same spec as test clusters (cli/lab/lab.ts create), not by compose. `lab down` removes it.
   */
  ha?: boolean;
  /**
   * The pod network as a Docker Swarm overlay network, so that `kubelab node add --host URL` can put workers on
   * other Docker engines (docs/multihost.md). Made through the Docker API like --ha; this engine becomes a swarm
   * manager if it is none.
   */
  multihost?: boolean;
  /** Skip deploy/build-images.sh (images known to be current). */
  skipImages?: boolean;
  timeoutMs?: number;
  say: (line: string) => void;
}

export interface UpResult {
  info: LabInfo;
  kubeconfigPath: string;
  seconds: number;
  /** From the start to every node Ready and the kubeconfig written (the lab is usable; add-ons may still be starting). */
  readySeconds: number;
  /** Where the time went, in order (`kubelab lab up --verbose` prints it; bench/lab.ts --compose 1 too). */
  phases: { phase: string; seconds: number }[];
}

export async function labUp(opts: UpOptions): Promise<UpResult> {
  const t0 = Date.now();
  const root = checkoutRoot();
  const docker = new Docker();
  const say = (line: string): void => opts.say(`[lab] ${line}`);
  if (!Number.isInteger(opts.workers) || opts.workers < 1 || opts.workers > 50) throw new Error(`--workers: ${opts.workers} must be between 1 and 50`);
  const phases: UpResult['phases'] = [];
  let mark = t0;
  const phase = (name: string): void => {
    const now = Date.now();
    phases.push({ phase: name, seconds: (now - mark) / 1000 });
    mark = now;
  };

  const dockerAnswers = async (): Promise<boolean> => docker.ping().then(() => true, () => false);
  if (!(await dockerAnswers())) {
    say('Docker does not answer: running deploy/setup-host.sh');
    await run(['bash', 'deploy/setup-host.sh'], { cwd: root });
  }
  phase('Docker answers');
  const compose = composeCommand();
  compose.catch(() => undefined); // awaited where compose runs (an HA or multihost lab does not need it)
  const current = opts.skipImages ? true : await imagesCurrent(docker, root);
  if (current === true) say('images: up to date');
  else {
    say(`images: ${current}: deploy/build-images.sh (rebuilds only what changed)`);
    // `npm run lab` compiled dist/ just before; a plain `kubelab lab up` runs from a built dist/ too.
    await run(['bash', 'deploy/build-images.sh'], { cwd: root, env: { KUBELAB_SKIP_TSC: process.env.KUBELAB_SKIP_TSC ?? '1' } });
  }
  phase('images checked (built if needed)');

  const stateDir = join(root, '.kubelab');
  mkdirSync(stateDir, { recursive: true });
  const files = ['-f', join(root, 'docker-compose.yml')];
  const override = join(stateDir, 'docker-compose.workers.yml');
  rmSync(override, { force: true });
  if (opts.workers > BASE_WORKERS) {
    writeFileSync(override, workersOverride(opts.workers));
    files.push('-f', override);
  }
  const nodes = Array.from({ length: opts.workers }, (_, i) => workerName(i + 1));
  // The lab's PKI is kept in .kubelab/pki (compose mounts it; the `pki` service would make it for a bare
  // `docker compose up`): issued once, renewed here when near expiry, extended for extra workers.
  const pkiDir = join(stateDir, PKI_DIR);
  const pki = await ensurePki(pkiDir, labPki(composeLabSpec(), nodes.map((n, i) => ({ name: n, ip: workerIp(composeLabSpec(), i + 1) }))));
  say(`certificates: ${pki.created.length} issued, ${pki.renewed.length} renewed, ${pki.kept.length} kept (${pkiDir})`);
  phase('certificates');
  // Not the `pki` job: the certificates were just issued here, and etcd and the apiserver would wait for a container
  // that only finds them current (~2 s). `--no-deps` lets them start without it; the other services still start in
  // the file's order (compose orders the services it is given by their depends_on).
  const services = labServices(nodes, join(root, 'docker-compose.yml')).filter((s) => s !== 'pki');
  await clearLeftovers(docker, composeLabSpec().cluster, say);
  const spec: LabSpec = { ...composeLabSpec(), ...(opts.ha ? { ha: DEFAULT_HA } : {}), ...(opts.multihost ? { overlay: true } : {}) };
  const lab = new Lab({ ...spec, pkiDir }, docker);
  // Starts the scheduler, controller-managers and add-ons; called when the apiserver answers, awaited after nodes Ready.
  let startAddOns = (): Promise<void> => Promise.resolve();
  await refuseOtherMode(docker, spec);
  phase("a previous lab's leftovers cleared");
  if (spec.ha || spec.overlay) {
    if (spec.ha) say(`creating an HA control plane (${spec.ha.etcdMembers} etcd members, ${spec.ha.apiservers} apiservers behind HAProxy) and ${opts.workers} workers through the Docker API`);
    if (spec.overlay) say(`creating the lab on a swarm overlay network (${spec.network}) for workers on other hosts: kubelab node add --host URL`);
    await removeCluster(docker, spec.cluster); // no container is left (refuseOtherMode): a stale network may be
    ({ startRest: startAddOns } = await lab.create({ workers: opts.workers, ingress: true, dashboard: true }));
    phase('containers created, control plane and nodes started (Docker API)');
  } else {
    say(`docker compose up (project ${PROJECT}, ${opts.workers} workers)`);
    // In two steps, as Lab.create does: what "nodes Ready" waits for (etcd, the apiserver, the nodes and the reaper the
    // nodes depend on) first, then — when the apiserver answers — the scheduler, controller-managers and add-ons,
    // while the nodes register. Docker starts containers CPU-bound (~0.45 s each here) and each component's boot is
    // ~0.4 s of CPU: all 13 at once, the apiserver came up with the last of them (docs/benchmarks.md).
    const first = services.filter((s) => FIRST_SERVICES.has(s) || nodes.includes(s));
    await run([...(await compose), '-p', PROJECT, ...files, 'up', '-d', '--no-deps', '--remove-orphans', ...first], { cwd: root });
    phase('docker compose up (etcd, apiserver, nodes)');
    const rest = services.filter((s) => !first.includes(s));
    const cmd = [...(await compose), '-p', PROJECT, ...files, 'up', '-d', '--no-deps', ...rest];
    let started: Promise<void> | undefined;
    startAddOns = () => (started ??= run(cmd, { cwd: root }));
  }
  const restUrl = `https://127.0.0.1:${spec.hostPorts.rest}`;
  const server = `127.0.0.1:${spec.hostPorts.grpc}`;
  const admin = clientTlsFromPkiDir(pkiDir, 'admin');
  const client = new ApiClient(server, { timeoutMs: 10_000, tls: admin, maxReconnectBackoffMs: 500 });
  try {
    const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
    await waitForLab(lab, client, { nodes, timeoutMs: deadline - Date.now(), onProgress: say, onApiserverAnswering: () => void startAddOns().catch(() => undefined) });
    phase('nodes Ready');
    // The lab is usable from here (kubectl, kubelab): the kubeconfig is written before the add-ons are waited for.
    const kubeconfigPath = join(stateDir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml(spec.cluster, restUrl, admin as Required<ClientTls>), { mode: 0o600 });
    const info: LabInfo = { server, restUrl, cluster: spec.cluster, project: PROJECT, network: spec.network, workers: nodes, kubeconfig: kubeconfigPath, pkiDir: PKI_DIR };
    writeFileSync(join(stateDir, 'kubelab.json'), `${JSON.stringify(info, null, 2)}\n`);
    phase('kubeconfig written');
    const readySeconds = (Date.now() - t0) / 1000;
    say(`nodes Ready and ${kubeconfigPath} written in ${readySeconds.toFixed(1)}s; waiting for the scheduler, controller-managers and add-ons`);
    await startAddOns();
    phase('scheduler, controller-managers and add-ons started');
    await waitForComponents(lab, client, { timeoutMs: Math.max(1000, deadline - Date.now()), onProgress: say });
    phase('components healthy');
    const seconds = (Date.now() - t0) / 1000;
    say(`cluster ready in ${seconds.toFixed(1)}s`);
    say(`dashboard: ${dashboardUrl(spec.hostPorts.dashboard ?? PORTS.dashboard)}   (kubelab dashboard opens it)`);
    opts.say('');
    opts.say(nodesTable(await nodeRows(client)));
    return { info, kubeconfigPath, seconds, readySeconds, phases };
  } finally {
    client.close();
  }
}

/**
 * A running lab of the other kind (an HA lab made through the Docker API, or the compose lab) would collide
 * with this one's names and addresses: `up` says so instead of half-starting.
 */
async function refuseOtherMode(docker: Docker, spec: LabSpec): Promise<void> {
  const existing = await listByLabels(docker, { [CLUSTER_LABEL]: spec.cluster });
  if (existing.length === 0) return;
  const runningHa = existing.some((c) => c.Labels[COMPONENT_LABEL] === 'lb');
  const runningOverlay = (await docker.listNetworks({ filters: JSON.stringify({ name: [spec.network] }) })).some((n) => n.Name === spec.network && n.Driver === 'overlay');
  if (spec.ha || runningHa || spec.overlay || runningOverlay) {
    const kind = (ha: boolean, overlay: boolean): string => [ha ? '--ha' : '', overlay ? '--multihost' : ''].filter(Boolean).join(' ');
    const running = kind(runningHa, runningOverlay);
    const what = running ? `a lab made with ${running}` : 'a lab without --ha or --multihost';
    const wanted = kind(Boolean(spec.ha), Boolean(spec.overlay));
    throw new Error(`${what} is already running (${existing.length} containers); remove it first with \`npm run lab:down\`, then run \`npm run lab${wanted ? ` -- ${wanted}` : ''}\` again`);
  }
}

/** The dashboard's URL for a host port (compose lab: http://localhost:8080). */
export function dashboardUrl(hostPort: number): string {
  return `http://localhost:${hostPort}`;
}

/** Next commands to try, printed after `lab up` (with the control-plane faults of an HA lab). */
/** `lab up --verbose`: each phase's seconds and share of the whole, in order. */
export function phasesTable(phases: UpResult['phases'], total: number): string {
  const width = Math.max(...phases.map((p) => p.phase.length), 5);
  const rows = phases.map((p) => `  ${p.phase.padEnd(width)}  ${p.seconds.toFixed(1).padStart(6)} s  ${total > 0 ? `${Math.round((100 * p.seconds) / total)}`.padStart(3) : '  -'} %`);
  return [`where the time went (lab up, ${total.toFixed(1)} s in all):`, ...rows, `  ${'total'.padEnd(width)}  ${total.toFixed(1).padStart(6)} s`].join('\n');
}

export function nextSteps(kubeconfigPath: string, ha = false): string {
  return [
    'Next:',
    `  export KUBECONFIG=${kubeconfigPath}`,
    `  open ${dashboardUrl(PORTS.dashboard)}            # the live dashboard: nodes, pods, countdowns, timeline`,
    '  kubectl get nodes -o wide',
    '  kubectl apply -f docs/examples/web.yaml          # 3 busybox web servers + a Service',
    '  kubelab get pods -o wide -w                      # in a second terminal',
    '  kubectl scale deployment/web --replicas=6',
    '  kubelab node crash worker-2                      # power loss; watch the pods move',
    '  kubelab node restart worker-2',
    '  kubelab node partition worker-3 && kubelab node heal worker-3',
    ...(ha
      ? [
          '  kubelab etcd crash etcd-1                        # HA: two members keep quorum; kubelab lab status shows the leader',
          '  kubelab etcd restart etcd-1',
          '  kubelab apiserver crash 1                        # HA: HAProxy sends everyone to apiserver-2',
          '  kubelab apiserver restart 1',
        ]
      : []),
    '  kubelab lab status',
    '  npm run lab:down                                 # remove everything',
    '',
  ].join('\n');
}

/** The compose files of the lab as last brought up: the base file, plus the workers override if `lab up` wrote one. */
function composeFiles(root: string): string[] {
  const files = ['-f', join(root, 'docker-compose.yml')];
  const override = join(root, '.kubelab', 'docker-compose.workers.yml');
  if (existsSync(override)) files.push('-f', override);
  return files;
}

/**
 * Removes the lab. `compose down` is given the workers override too, so added workers are services
 * (not orphans compose removes separately). If compose fails (a container already being removed by
 * the reaper or a previous `down`, a daemon hiccup), the cluster is removed through the Docker API,
 * which tolerates "removal already in progress", and compose is asked once more for its network and
 * volume: `lab down` succeeds whenever nothing of the lab is left.
 */
export async function labDown(say: (line: string) => void): Promise<void> {
  const root = checkoutRoot();
  const docker = new Docker();
  const cluster = composeLabSpec().cluster;
  const compose = await composeCommand();
  const down = (): Promise<void> => run([...compose, '-p', PROJECT, ...composeFiles(root), 'down', '-v', '--remove-orphans', '--timeout', '10'], { cwd: root });
  // Workers on other hosts (a --multihost lab): removed through their own engines first.
  const net = (await docker.listNetworks({ filters: JSON.stringify({ name: [composeLabSpec().network] }) })).find((n) => n.Name === composeLabSpec().network);
  if (net?.Driver === 'overlay') {
    const lab = await Lab.fromDocker(cluster, docker);
    if (lab.hosts().length > 0) say(`[lab] removing the workers on ${lab.hosts().join(', ')}`);
    await lab.destroy();
  }
  say('[lab] docker compose down -v');
  let composeError: unknown;
  try {
    await down();
  } catch (err) {
    composeError = err;
    say(`[lab] ${err instanceof Error ? err.message : String(err)}; removing the rest through the Docker API`);
  }
  // Whatever compose does not know about (added workers, pods of a reaper that did not run).
  const left = await removeCluster(docker, cluster);
  if (left.containers > 0 || left.networks.length > 0) say(`[lab] also removed ${left.containers} container(s), ${left.networks.length} network(s) compose did not manage`);
  if (composeError !== undefined) {
    await down().catch(() => undefined); // compose's own volume/network bookkeeping; the check below decides
    const rest = await clusterObjects(docker, cluster);
    if (rest.length > 0) throw new Error(`lab down left ${rest.join(', ')}; run \`kubelab lab down\` again (see /var/log/kubelab-dockerd.log if Docker is failing)`);
  }
  for (const f of ['kubelab.json', 'kubeconfig', 'docker-compose.workers.yml']) rmSync(join(root, '.kubelab', f), { force: true });
  say('[lab] removed');
}

/** Names of the containers, networks and volumes of `cluster` that still exist. */
async function clusterObjects(docker: Docker, cluster: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${CLUSTER_LABEL}=${cluster}`] });
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return [
    ...containers.map((c) => `container ${nameOf(c)}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...(volumes.Volumes ?? []).map((v) => `volume ${v.Name}`),
  ];
}

/**
 * Before `compose up`: a previous lab's leftovers would collide with the new one (a container still
 * being removed keeps its name and address; pod containers of a lab whose reaper never ran would be
 * adopted by the new kubelets as stale pods). When no control plane of the lab is running, such
 * containers are removed and waited for, saying so. A running lab is left alone: `up` reconciles it.
 * Compose's own stopped containers are compose's to start again (the etcd volume keeps the state).
 */
export async function clearLeftovers(docker: Docker, cluster: string, say: (line: string) => void): Promise<number> {
  const all = await listByLabels(docker, { [CLUSTER_LABEL]: cluster });
  const controlPlaneRunning = all.some((c) => c.Labels[COMPONENT_LABEL] === 'apiserver' && c.State === 'running');
  const leftovers = all.filter(
    (c) => c.State === 'removing' || c.State === 'dead' || (!controlPlaneRunning && c.Labels[COMPOSE_SERVICE_LABEL] === undefined),
  );
  if (leftovers.length === 0) return 0;
  say(`previous lab: ${leftovers.length} container(s) left (${summarize(leftovers)}); removing them first`);
  await removeAll(docker, leftovers.map((c) => c.Id));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ids = new Set(leftovers.map((c) => c.Id));
    const still = (await listByLabels(docker, { [CLUSTER_LABEL]: cluster })).filter((c) => ids.has(c.Id));
    if (still.length === 0) break;
    if (Date.now() > deadline) throw new Error(`containers of the previous lab are still being removed after 60 s (${summarize(still)}); check \`docker ps -a\` and run \`kubelab lab down\``);
    await new Promise((r) => setTimeout(r, 250));
    await removeAll(docker, still.filter((c) => c.State !== 'removing').map((c) => c.Id));
  }
  say('previous lab: removed');
  return leftovers.length;
}

function summarize(list: Docker.ContainerInfo[]): string {
  const states = new Map<string, number>();
  for (const c of list) states.set(c.State, (states.get(c.State) ?? 0) + 1);
  return [...states].map(([state, n]) => `${n} ${state}`).join(', ');
}
