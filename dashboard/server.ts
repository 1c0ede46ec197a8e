/**
 * The dashboard server: informers on the objects the cluster view needs (list + watch through the API,
 * never polling), reduced to small views (model.ts) and pushed to every browser over one WebSocket as a
 * snapshot and then batches of changes every `flushIntervalMs`. Browsers send actions and scheduler
 * questions on the same socket. One bad object costs its own view; one bad or slow browser costs its own
 * socket (a malformed message gets an error reply, a browser that cannot keep up is resent a snapshot
 * once its buffer drains); neither stops the others.
 */
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { canI, deletePod, drainNode, permissionText, scaleWorkload, setUnschedulable, SCALABLE_RESOURCES, type Permission } from '../client/actions.js';
import { ApiClient } from '../client/api.js';
import { EventRecorder } from '../client/events.js';
import { Informer } from '../client/informer.js';
import { nullLogger } from '../component-base/log.js';
import { parseTimingConfigMap, TIMING_CONFIGMAP_NAME, TIMING_CONFIGMAP_NAMESPACE } from '../client/publishedtiming.js';
import type { core, KObject, policy } from '../api/types.js';
import type { DashboardConfig } from './config.js';
import { eventView, nodeView, pdbView, podView, timingView, workloadView, type ActionName, type ServerMessage, type View, type WorkloadView, NODE_ACTIONS, API_ACTIONS } from './model.js';


/** What each API action of the dashboard calls (client/actions.ts), as permissions to ask for. */
const ACTION_PERMISSIONS: Record<(typeof API_ACTIONS)[number], Permission[]> = {
  cordon: [{ verb: 'patch', group: '', resource: 'nodes' }],
  uncordon: [{ verb: 'patch', group: '', resource: 'nodes' }],
  drain: [
    { verb: 'patch', group: '', resource: 'nodes' },
    { verb: 'list', group: '', resource: 'pods' },
    { verb: 'create', group: '', resource: 'pods', subresource: 'eviction' },
  ],
  scale: [{ verb: 'patch', group: 'apps', resource: 'deployments', subresource: 'scale' }],
  'delete-pod': [{ verb: 'delete', group: '', resource: 'pods' }],
};

/** Lab faults on a node (Docker, not the API): given by the launcher when the Docker socket is there. */
export interface NodeFaults {
  crash(node: string): Promise<void>;
  partition(node: string): Promise<void>;
  heal(node: string): Promise<void>;
  restart(node: string): Promise<void>;
}

export interface DashboardDeps {
  logger?: Logger;
  /**
   * The client the dashboard reads and acts with — its identity. Default: a client of `config.apiserver`.
   * A launcher that has credentials (a client certificate once the apiserver authenticates) passes its own.
   */
  client?: ApiClient;
  nodeFaults?: NodeFaults;
  /** Why node faults are unavailable (shown in the UI), when `nodeFaults` is not given. */
  nodeFaultsUnavailable?: string;
  /** Directory of the browser bundle (index.html, app.js, style.css). Default: dist/dashboard/web. */
  staticDir?: URL;
}

export interface RunningDashboard {
  readonly port: number;
  /** Browsers connected now. */
  clients(): number;
  /** Resolves once the server has stopped (after the signal aborted). */
  readonly done: Promise<void>;
}

const MAX_MESSAGE_BYTES = 16 * 1024;
const MAX_CLIENTS = 200;
/** A browser further behind than this gets a fresh snapshot instead of every change. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const WORKLOADS: [resource: string, kind: WorkloadView['kind']][] = [
  ['deployments', 'Deployment'],
  ['replicasets', 'ReplicaSet'],
  ['statefulsets', 'StatefulSet'],
  ['daemonsets', 'DaemonSet'],
  ['jobs', 'Job'],
];
const STATIC: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

/** Thrown (and sent back to the browser) for a request the dashboard refuses; the message says what to do. */
export class DashboardRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DashboardRequestError';
  }
}

interface Client {
  ws: WebSocket;
  /** Fell behind: send a snapshot once the socket's buffer has drained. */
  stale: boolean;
}

export async function startDashboard(cfg: DashboardConfig, signal: AbortSignal, deps: DashboardDeps = {}): Promise<RunningDashboard> {
  const log = deps.logger ?? nullLogger();
  // Ten informers (two listeners each) and the server listen on this one signal: not a leak.
  setMaxListeners(64, signal);
  const client = deps.client ?? new ApiClient(cfg.apiserver, { tls: cfg.tls });
  const recorder = new EventRecorder(client, { component: 'kubelab-dashboard' }, log);
  const views = new Map<string, View>();
  const pending = new Map<string, View | null>();
  const eventOrder: string[] = [];

  const set = (v: View): void => {
    views.set(v.id, v);
    pending.set(v.id, v);
  };
  const del = (id: string): void => {
    if (views.delete(id)) pending.set(id, null);
  };
  /** A handler that throws on one bad object logs it and goes on. */
  const guard =
    <A extends unknown[]>(what: string, fn: (...a: A) => void) =>
    (...a: A): void => {
      try {
        fn(...a);
      } catch (err) {
        log.warn({ what, err: (err as Error).message }, 'object skipped');
      }
    };

  const nodes = new Informer(client, 'nodes', { logger: log, pageSize: 1000 });
  const pods = new Informer(client, 'pods', { logger: log, pageSize: 1000 });
  const leases = new Informer(client, 'leases', { logger: log });
  const events = new Informer(client, 'events', { logger: log, pageSize: 1000 });
  const configmaps = new Informer(client, 'configmaps', { logger: log, namespace: TIMING_CONFIGMAP_NAMESPACE, fieldSelector: `metadata.name=${TIMING_CONFIGMAP_NAME}` });
  const workloads = WORKLOADS.map(([resource, kind]) => ({ kind, informer: new Informer(client, resource, { logger: log }) }));
  const budgets = new Informer(client, 'poddisruptionbudgets', { logger: log });
  const budgetsOf = (ns: string | undefined) => budgets.list().filter((b) => b.metadata?.namespace === ns);
  const podViewOf = (p: core.Pod) => podView(p, budgetsOf(p.metadata?.namespace));

  const refreshNode = (name: string): void => {
    const n = nodes.get(name);
    if (n) set(nodeView(n, leases.get(`kube-node-lease/${name}`)));
  };
  nodes.addHandler({
    onAdd: guard('node', (n) => set(nodeView(n, leases.get(`kube-node-lease/${n.metadata?.name}`)))),
    onUpdate: guard('node', (_o, n) => set(nodeView(n, leases.get(`kube-node-lease/${n.metadata?.name}`)))),
    onDelete: guard('node', (n) => del(`node/${n.metadata?.name}`)),
  });
  const onLease = guard('lease', (l: { metadata?: { namespace?: string; name?: string } }) => {
    if (l.metadata?.namespace === 'kube-node-lease' && l.metadata.name) refreshNode(l.metadata.name);
  });
  leases.addHandler({ onAdd: onLease, onUpdate: (_o, l) => onLease(l), onDelete: onLease });
  pods.addHandler({
    onAdd: guard('pod', (p) => set(podViewOf(p))),
    onUpdate: guard('pod', (_o, p) => set(podViewOf(p))),
    onDelete: guard('pod', (p) => del(`pod/${p.metadata?.namespace}/${p.metadata?.name}`)),
  });
  const addEvent = guard('event', (e: Parameters<typeof eventView>[0]) => {
    const v = eventView(e);
    if (!views.has(v.id)) {
      eventOrder.push(v.id);
      // The timeline keeps the newest events; the oldest leave the browser too.
      while (eventOrder.length > cfg.maxEvents) del(eventOrder.shift() ?? '');
    }
    set(v);
  });
  events.addHandler({ onAdd: addEvent, onUpdate: (_o, e) => addEvent(e), onDelete: guard('event', (e) => del(eventView(e).id)) });
  const onConfigMap = guard('configmap', (cm: Parameters<typeof parseTimingConfigMap>[0]) => {
    if (cm?.metadata?.name !== TIMING_CONFIGMAP_NAME) return;
    const t = parseTimingConfigMap(cm);
    if (t) set(timingView(t));
    else del('timing');
  });
  configmaps.addHandler({ onAdd: onConfigMap, onUpdate: (_o, cm) => onConfigMap(cm), onDelete: guard('configmap', (cm) => cm.metadata?.name === TIMING_CONFIGMAP_NAME && del('timing')) });
  for (const { kind, informer } of workloads) {
    informer.addHandler({
      onAdd: guard(kind, (o) => set(workloadView(kind, o as never))),
      onUpdate: guard(kind, (_old, o) => set(workloadView(kind, o as never))),
      onDelete: guard(kind, (o) => del(`wl/${kind}/${o.metadata?.namespace}/${o.metadata?.name}`)),
    });
  }
  // A budget is a view of its own; one that comes, goes or changes its selector re-reads which budgets match the
  // pods of its namespace (its status, updated on every pod change, does not: that would cost O(pods) each time).
  const onBudget = guard('poddisruptionbudget', (b: policy.PodDisruptionBudget, how: 'add' | 'update' | 'delete', old?: policy.PodDisruptionBudget) => {
    if (how === 'delete') del(`pdb/${b.metadata?.namespace}/${b.metadata?.name}`);
    else set(pdbView(b));
    if (how === 'update' && JSON.stringify(old?.spec?.selector) === JSON.stringify(b.spec?.selector)) return;
    for (const p of pods.list()) if (p.metadata?.namespace === b.metadata?.namespace) set(podViewOf(p));
  });
  budgets.addHandler({ onAdd: (b) => onBudget(b, 'add'), onUpdate: (o, b) => onBudget(b, 'update', o), onDelete: (b) => onBudget(b, 'delete') });
  const all = [nodes, pods, leases, events, configmaps, budgets, ...workloads.map((w) => w.informer)];
  for (const i of all) i.start(signal);

  const faultActions: string[] = cfg.readOnly || !deps.nodeFaults ? [] : [...NODE_ACTIONS];
  const faultReason = cfg.readOnly ? 'read-only: the dashboard was started with --read-only' : !deps.nodeFaults ? deps.nodeFaultsUnavailable : undefined;
  // The API actions its identity may do, as the apiserver answers (SelfSubjectAccessReview): asked at start and
  // every permissionCheckIntervalMs, so a RoleBinding given later turns the buttons on. Read-only until answered.
  let apiActions: string[] = [];
  let apiReason: string | undefined = cfg.readOnly ? undefined : 'asking the apiserver what the dashboard may do…';
  let actions: string[] = [...faultActions];
  let readOnlyReason = [faultReason, apiReason].filter(Boolean).join('; ') || undefined;

  // --- browsers ---
  const clients = new Set<Client>();
  const send = (c: Client, msg: ServerMessage | string): void => {
    if (c.ws.readyState !== c.ws.OPEN) return;
    c.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  };
  const snapshot = (): string => JSON.stringify({ t: 'snapshot', now: Date.now(), views: [...views.values()], actions, readOnlyReason } satisfies ServerMessage);

  const flush = (): void => {
    let msg: string | undefined;
    if (pending.size > 0) {
      const setList: View[] = [];
      const delList: string[] = [];
      for (const [id, v] of pending) if (v) setList.push(v);
      else delList.push(id);
      pending.clear();
      msg = JSON.stringify({ t: 'delta', now: Date.now(), set: setList, del: delList } satisfies ServerMessage);
    }
    let snap: string | undefined;
    for (const c of clients) {
      if (c.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        c.stale = true;
        continue;
      }
      if (c.stale) {
        c.stale = false;
        send(c, (snap ??= snapshot()));
      } else if (msg) send(c, msg);
    }
  };
  const timer = setInterval(flush, cfg.flushIntervalMs);

  /** Asks which API actions the identity may do; when that changes, every browser gets a new snapshot. */
  const checkPermissions = async (): Promise<void> => {
    if (cfg.readOnly) return;
    // Each distinct permission is asked once (cordon, uncordon and drain all need `patch nodes`).
    const asked = new Map<string, Promise<boolean>>();
    const may = (p: Permission): Promise<boolean> => {
      const key = permissionText(p);
      let answer = asked.get(key);
      if (!answer) asked.set(key, (answer = canI(client, p)));
      return answer;
    };
    const allowed: string[] = [];
    const missing = new Map<string, string[]>();
    for (const action of API_ACTIONS) {
      const denied: string[] = [];
      for (const p of ACTION_PERMISSIONS[action]) if (!(await may(p))) denied.push(permissionText(p));
      if (denied.length === 0) allowed.push(action);
      else missing.set(action, denied);
    }
    const reason =
      missing.size === 0
        ? undefined
        : `${[...missing.keys()].join(', ')}: the dashboard's identity may not ${[...new Set([...missing.values()].flat())].join(', ')} (RBAC; docs/dashboard.md says how to allow it)`;
    if (allowed.join() === apiActions.join() && reason === apiReason) return;
    apiActions = allowed;
    apiReason = reason;
    actions = [...faultActions, ...apiActions];
    readOnlyReason = [faultReason, apiReason].filter(Boolean).join('; ') || undefined;
    log.info({ actions, readOnlyReason }, 'dashboard actions');
    const snap = snapshot();
    for (const c of clients) send(c, snap);
  };
  let checking = false;
  const check = (): void => {
    if (checking) return;
    checking = true;
    checkPermissions()
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not ask the apiserver what the dashboard may do; asking again later'))
      .finally(() => (checking = false));
  };
  check();
  const permissionTimer = setInterval(check, cfg.permissionCheckIntervalMs);

  const nodeObject = (name: string): KObject => {
    const n = nodes.get(name);
    if (!n) throw new DashboardRequestError(`node "${name}" not found; the cluster's nodes are: ${nodes.list().map((x) => x.metadata?.name).sort().join(', ') || 'none'}`);
    return { apiVersion: 'v1', kind: 'Node', metadata: { name, uid: n.metadata?.uid } };
  };

  const runAction = async (m: Record<string, unknown>): Promise<string> => {
    const action = m.action as ActionName;
    if (!(NODE_ACTIONS as readonly string[]).includes(action) && !(API_ACTIONS as readonly string[]).includes(action))
      throw new DashboardRequestError(`unknown action "${String(m.action).slice(0, 40)}"; known: ${[...NODE_ACTIONS, ...API_ACTIONS].join(', ')}`);
    if (!actions.includes(action))
      throw new DashboardRequestError(`${action} is not available here: ${readOnlyReason ?? 'read-only'}; use the kubelab CLI (kubelab node ${action} …) instead`);
    const str = (k: string, re = NAME_RE): string => {
      const v = m[k];
      if (typeof v !== 'string' || !re.test(v)) throw new DashboardRequestError(`action ${action} needs "${k}": a lower-case DNS name (got ${JSON.stringify(v)?.slice(0, 60)})`);
      return v;
    };
    const faults = deps.nodeFaults;
    if (faults && (NODE_ACTIONS as readonly string[]).includes(action)) {
      const node = str('node');
      const obj = nodeObject(node);
      await recorder.record(obj, 'Normal', 'DashboardAction', `${action} requested from the dashboard`).catch(() => undefined);
      await faults[action as (typeof NODE_ACTIONS)[number]](node);
      return `node/${node}: ${action} done`;
    }
    switch (action) {
      case 'cordon':
      case 'uncordon':
      case 'drain': {
        const node = str('node');
        const obj = nodeObject(node);
        await recorder.record(obj, 'Normal', 'DashboardAction', `${action} requested from the dashboard`).catch(() => undefined);
        return action === 'drain' ? drainNode(client, node) : setUnschedulable(client, node, action === 'cordon');
      }
      case 'scale': {
        const resource = str('resource', /^[a-z]+$/);
        if (!SCALABLE_RESOURCES.has(resource)) throw new DashboardRequestError(`cannot scale ${resource}: expected deployments, replicasets or statefulsets`);
        const namespace = str('namespace');
        const name = str('name');
        const replicas = m.replicas;
        if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0 || replicas > 10_000)
          throw new DashboardRequestError(`scale needs "replicas": an integer from 0 to 10000 (got ${JSON.stringify(replicas)?.slice(0, 30)})`);
        const kind = WORKLOADS.find(([r]) => r === resource)?.[1] ?? 'Deployment';
        await recorder
          .record({ apiVersion: 'apps/v1', kind, metadata: { name, namespace } }, 'Normal', 'DashboardAction', `scale to ${replicas} requested from the dashboard`)
          .catch(() => undefined);
        return scaleWorkload(client, resource, namespace, name, replicas);
      }
      case 'delete-pod': {
        const namespace = str('namespace');
        const name = str('name');
        const p = pods.get(`${namespace}/${name}`);
        if (!p) throw new DashboardRequestError(`pod ${namespace}/${name} not found (already deleted?)`);
        await recorder
          .record({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, uid: p.metadata?.uid } }, 'Normal', 'DashboardAction', 'delete requested from the dashboard')
          .catch(() => undefined);
        return deletePod(client, namespace, name);
      }
      default:
        throw new DashboardRequestError(`${action} needs the lab's Docker socket: ${readOnlyReason ?? 'not available'}`);
    }
  };

  const schedulingAttempt = async (m: Record<string, unknown>): Promise<unknown> => {
    const namespace = m.namespace;
    const name = m.name;
    if (typeof namespace !== 'string' || typeof name !== 'string' || !NAME_RE.test(namespace) || !NAME_RE.test(name))
      throw new DashboardRequestError('a scheduling question needs "namespace" and "name" of a pod');
    const holder = leases.get('kube-system/kube-scheduler')?.spec?.holderIdentity;
    if (!holder) throw new DashboardRequestError('no scheduler holds the kube-system/kube-scheduler Lease: is a scheduler running? (kubelab lab status)');
    // Lease holder identities are `<hostname>_<pid>_<random>`; in the lab the hostname is the container name.
    const host = holder.split('_')[0];
    const url = `http://${host}:${cfg.schedulerAdminPort}/debug/attempts?namespace=${encodeURIComponent(namespace)}&name=${encodeURIComponent(name)}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(3000)]) });
    } catch (err) {
      throw new DashboardRequestError(`the scheduler leader ${host} did not answer on port ${cfg.schedulerAdminPort} (${(err as Error).message}); is the dashboard on the lab's network?`);
    }
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    if (!res.ok) throw new DashboardRequestError(body.error ?? `the scheduler answered ${res.status}`);
    return body;
  };

  const onMessage = (c: Client, data: RawData, isBinary: boolean): void => {
    const size = Array.isArray(data) ? data.reduce((a, b) => a + b.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length;
    if (isBinary || size > MAX_MESSAGE_BYTES) {
      send(c, { t: 'error', error: `messages must be JSON text of at most ${MAX_MESSAGE_BYTES} bytes` });
      return;
    }
    let m: unknown;
    try {
      m = JSON.parse(data.toString());
    } catch {
      send(c, { t: 'error', error: 'message is not JSON: send {"t":"action",...} or {"t":"scheduling",...}' });
      return;
    }
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      send(c, { t: 'error', error: 'message must be a JSON object with "t" and "id"' });
      return;
    }
    const msg = m as Record<string, unknown>;
    const id = msg.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > 100) {
      send(c, { t: 'error', error: 'message needs "id": a string of 1-100 characters, echoed in the reply' });
      return;
    }
    if (msg.t === 'action') {
      runAction(msg).then(
        (message) => send(c, { t: 'result', id, ok: true, message }),
        (err: unknown) => {
          log.info({ action: msg.action, err: (err as Error).message }, 'action failed');
          send(c, { t: 'result', id, ok: false, error: (err as Error).message });
        },
      );
    } else if (msg.t === 'scheduling') {
      schedulingAttempt(msg).then(
        (attempt) => send(c, { t: 'scheduling', id, ok: true, attempt }),
        (err: unknown) => send(c, { t: 'scheduling', id, ok: false, error: (err as Error).message }),
      );
    } else {
      send(c, { t: 'error', error: `unknown message type ${JSON.stringify(msg.t)?.slice(0, 40)}: expected "action" or "scheduling"` });
    }
  };

  // --- HTTP ---
  const staticDir = deps.staticDir ?? new URL('./web/', import.meta.url);
  const files = new Map<string, Buffer>();
  for (const f of new Set(Object.values(STATIC))) {
    try {
      files.set(f, readFileSync(new URL(f, staticDir)));
    } catch {
      log.warn({ file: f, dir: staticDir.pathname }, 'dashboard bundle file missing: run npm run build');
    }
  }
  const synced = (): boolean => all.every((i) => i.hasSynced());
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end('the dashboard serves GET only; actions go over the WebSocket /ws\n');
      return;
    }
    if (path === '/healthz') {
      res.writeHead(synced() ? 200 : 503, { 'content-type': 'text/plain' }).end(synced() ? 'ok' : 'informers not synced');
      return;
    }
    const file = STATIC[path];
    const body = file ? files.get(file) : undefined;
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path.slice(0, 100)} (the dashboard is at /)\n`);
    } else if (!body) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`the dashboard's ${file} is missing from ${staticDir.pathname}: run npm run build (it bundles dashboard/web with esbuild)\n`);
    } else {
      res.writeHead(200, { 'content-type': TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream', 'cache-control': 'no-cache' }).end(body);
    }
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '').split('?')[0] !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    // Browsers send Origin: only the dashboard's own page may open the socket (another site open in the
    // same browser must not be able to crash nodes through localhost). Non-browser clients send none.
    const origin = req.headers.origin;
    if (origin !== undefined && hostOf(origin) !== req.headers.host) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\nthe dashboard socket accepts only its own page (Origin does not match Host)\n');
      return;
    }
    if (clients.size >= MAX_CLIENTS) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\ntoo many dashboard connections\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c: Client = { ws, stale: false };
      clients.add(c);
      ws.on('message', (data, isBinary) => {
        try {
          onMessage(c, data, isBinary);
        } catch (err) {
          send(c, { t: 'error', error: `message not handled: ${(err as Error).message}` });
        }
      });
      ws.on('close', () => clients.delete(c));
      ws.on('error', () => clients.delete(c));
      send(c, snapshot());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.bindAddress, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
  log.info({ port, apiserver: cfg.apiserver, actions }, 'dashboard serving');

  const done = new Promise<void>((resolve) => {
    const stop = (): void => {
      clearInterval(timer);
      clearInterval(permissionTimer);
      for (const c of clients) c.ws.terminate();
      wss.close();
      server.close(() => {
        Promise.allSettled(all.map((i) => i.stopped())).then(() => {
          if (!deps.client) client.close();
          resolve();
        }, resolve);
      });
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  return { port, clients: () => clients.size, done };
}
