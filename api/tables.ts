/**
 * Server-side table printing: the columns and cells `kubectl get` shows for each resource, computed the
 * way kubectl's own printers compute them (pod STATUS, node ROLES, service EXTERNAL-IP, human ages …).
 * Pure functions of the objects and the current time; the REST facade wraps them in a meta.k8s.io/v1
 * Table and the `kubelab get` CLI prints them directly.
 */
import type { KObject, apps, autoscaling, batch, core, coordination, discovery, networking, policy, rbac, scheduling, storage } from './types.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';

export interface TableColumn {
  name: string;
  type: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object: KObject;
}

export interface TableOptions {
  /** Include the priority-1 columns (`-o wide`). */
  wide?: boolean;
  /** Current time in ms, for the AGE-like columns; defaults to Date.now(). */
  now?: number;
}

/** One printer column: `cell` gets the object (typed by the column's resource) and the current time. */
export interface ColumnDef {
  name: string;
  type: 'string' | 'integer' | 'date' | 'number' | 'boolean';
  priority?: number;
  cell: (obj: never, now: number) => unknown;
}

const NONE = '<none>';

/** The table for `objects` of `resource` (plural name); unknown resources get NAME AGE. */
export function tableFor(resource: string, objects: KObject[], opts: TableOptions = {}): { columns: TableColumn[]; rows: TableRow[] } {
  return tableWith(PRINTERS[resource] ?? [], objects, opts);
}

/** The table for `objects` with the columns `defs` after NAME (AGE appended when `defs` has none). */
export function tableWith(defs: readonly ColumnDef[], objects: KObject[], opts: TableOptions = {}): { columns: TableColumn[]; rows: TableRow[] } {
  const now = opts.now ?? Date.now();
  const all: ColumnDef[] = [{ name: 'Name', type: 'string', cell: (o: KObject) => o.metadata?.name ?? '' }, ...defs];
  if (!defs.some((d) => d.name === 'Age')) all.push(ageColumn);
  const cols = all.filter((c) => opts.wide || (c.priority ?? 0) === 0);
  return {
    columns: cols.map((c) => ({ name: c.name, type: c.type, priority: c.priority ?? 0 })),
    rows: objects.map((o) => ({ cells: cols.map((c) => (c.cell as (obj: KObject, now: number) => unknown)(o, now)), object: o })),
  };
}

// ------------------------------------------------------------------------------------------- helpers

/** kubectl's duration.HumanDuration: "45s", "3m20s", "2d4h", "3y". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    const y = Math.floor(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Age of a timestamp as kubectl prints it; "<unknown>" when absent. */
export function age(ts: string | undefined, now: number): string {
  if (!ts) return '<unknown>';
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now - t);
}

const ageColumn: ColumnDef = { name: 'Age', type: 'string', cell: (o: KObject, now: number) => age(o.metadata?.creationTimestamp, now) };

/** `a=b,c=d` for a label map, "<none>" when empty. */
export function formatLabels(m: Record<string, string> | undefined): string {
  const entries = Object.entries(m ?? {});
  if (entries.length === 0) return NONE;
  return entries
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** metav1.FormatLabelSelector: `app=web,tier in (a,b)`, "<none>" for an empty selector. */
export function formatLabelSelector(sel: LabelSelector | undefined): string {
  if (!sel) return NONE;
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
      default:
        break;
    }
  }
  return parts.length === 0 ? NONE : parts.join(',');
}

function containerNames(spec: core.PodSpec | undefined): string {
  return (spec?.containers ?? []).map((c) => c.name).join(',');
}

function containerImages(spec: core.PodSpec | undefined): string {
  return (spec?.containers ?? []).map((c) => c.image ?? '').join(',');
}

function workloadWide<T extends { spec?: { template?: { spec?: core.PodSpec }; selector?: LabelSelector } }>(): ColumnDef[] {
  return [
    { name: 'Containers', type: 'string', priority: 1, cell: (o: T) => containerNames(o.spec?.template?.spec) },
    { name: 'Images', type: 'string', priority: 1, cell: (o: T) => containerImages(o.spec?.template?.spec) },
    { name: 'Selector', type: 'string', priority: 1, cell: (o: T) => formatLabelSelector(o.spec?.selector) },
  ];
}

// ------------------------------------------------------------------------------------------- pods

function isRestartableInit(c: core.Container | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

/** The STATUS column of `kubectl get pods` (printPod in kubectl's internal printers). */
export function podStatus(pod: core.Pod): string {
  let reason: string = pod.status?.phase ?? '';
  if (pod.status?.reason) reason = pod.status.reason;
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'SchedulingGated') reason = 'SchedulingGated';
  const initSpecs = pod.spec?.initContainers ?? [];
  let initializing = false;
  const initStatuses = pod.status?.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    const spec = initSpecs.find((s) => s.name === c.name);
    const term = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (isRestartableInit(spec) && c.started) continue;
    if (term) {
      if (!term.reason) reason = term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
      else reason = `Init:${term.reason}`;
      initializing = true;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
      initializing = true;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
      initializing = true;
    }
    break;
  }
  const initialized = pod.status?.conditions?.some((c) => c.type === 'Initialized' && c.status === 'True') ?? false;
  if (!initializing || initialized) {
    let hasRunning = false;
    const statuses = pod.status?.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      const waiting = c.state?.waiting;
      const term = c.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
      else if (c.ready && c.state?.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) {
      reason = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  const phase = pod.status?.phase;
  if (pod.metadata?.deletionTimestamp && pod.status?.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  return reason;
}

/** READY as "ready/total" (restartable init containers, i.e. sidecars, count too). */
export function podReady(pod: core.Pod): string {
  const sidecars = (pod.spec?.initContainers ?? []).filter(isRestartableInit);
  const total = (pod.spec?.containers?.length ?? 0) + sidecars.length;
  let ready = (pod.status?.containerStatuses ?? []).filter((c) => c.ready && c.state?.running).length;
  ready += (pod.status?.initContainerStatuses ?? []).filter((c) => c.ready && sidecars.some((s) => s.name === c.name)).length;
  return `${ready}/${total}`;
}

/** RESTARTS: "3" or "3 (2m ago)" with the time of the last termination. */
export function podRestarts(pod: core.Pod, now: number): string {
  let restarts = 0;
  let last = 0;
  const initializing = (pod.status?.initContainerStatuses ?? []).some((c) => !(c.state?.terminated?.exitCode === 0) && !c.started);
  const statuses = [...(initializing ? (pod.status?.initContainerStatuses ?? []) : []), ...(pod.status?.containerStatuses ?? [])];
  for (const c of statuses) {
    restarts += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished) last = Math.max(last, Date.parse(finished));
  }
  if (restarts > 0 && last > 0) return `${restarts} (${humanDuration(now - last)} ago)`;
  return String(restarts);
}

const podColumns: ColumnDef[] = [
  { name: 'Ready', type: 'string', cell: (p: core.Pod) => podReady(p) },
  { name: 'Status', type: 'string', cell: (p: core.Pod) => podStatus(p) },
  { name: 'Restarts', type: 'string', cell: (p: core.Pod, now: number) => podRestarts(p, now) },
  ageColumn,
  { name: 'IP', type: 'string', priority: 1, cell: (p: core.Pod) => p.status?.podIP || NONE },
  { name: 'Node', type: 'string', priority: 1, cell: (p: core.Pod) => p.spec?.nodeName || NONE },
  { name: 'Nominated Node', type: 'string', priority: 1, cell: (p: core.Pod) => p.status?.nominatedNodeName || NONE },
  {
    name: 'Readiness Gates',
    type: 'string',
    priority: 1,
    cell: (p: core.Pod) => {
      const gates = p.spec?.readinessGates ?? [];
      if (gates.length === 0) return NONE;
      const ok = gates.filter((g) => p.status?.conditions?.some((c) => c.type === g.conditionType && c.status === 'True')).length;
      return `${ok}/${gates.length}`;
    },
  },
];

// ------------------------------------------------------------------------------------------- nodes

/** STATUS of a node: Ready / NotReady / Unknown, with ",SchedulingDisabled" when cordoned. */
export function nodeStatus(node: core.Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

/** ROLES from `node-role.kubernetes.io/<role>` and `kubernetes.io/role` labels. */
export function nodeRoles(node: core.Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size === 0 ? NONE : [...roles].sort().join(',');
}

function nodeAddress(node: core.Node, type: string): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address || NONE;
}

const nodeColumns: ColumnDef[] = [
  { name: 'Status', type: 'string', cell: (n: core.Node) => nodeStatus(n) },
  { name: 'Roles', type: 'string', cell: (n: core.Node) => nodeRoles(n) },
  ageColumn,
  { name: 'Version', type: 'string', cell: (n: core.Node) => n.status?.nodeInfo?.kubeletVersion ?? '' },
  { name: 'Internal-IP', type: 'string', priority: 1, cell: (n: core.Node) => nodeAddress(n, 'InternalIP') },
  { name: 'External-IP', type: 'string', priority: 1, cell: (n: core.Node) => nodeAddress(n, 'ExternalIP') },
  { name: 'OS-Image', type: 'string', priority: 1, cell: (n: core.Node) => n.status?.nodeInfo?.osImage || '<unknown>' },
  { name: 'Kernel-Version', type: 'string', priority: 1, cell: (n: core.Node) => n.status?.nodeInfo?.kernelVersion || '<unknown>' },
  { name: 'Container-Runtime', type: 'string', priority: 1, cell: (n: core.Node) => n.status?.nodeInfo?.containerRuntimeVersion || '<unknown>' },
];

// ------------------------------------------------------------------------------------------- workloads

const deploymentColumns: ColumnDef[] = [
  { name: 'Ready', type: 'string', cell: (d: apps.Deployment) => `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}` },
  { name: 'Up-to-date', type: 'integer', cell: (d: apps.Deployment) => d.status?.updatedReplicas ?? 0 },
  { name: 'Available', type: 'integer', cell: (d: apps.Deployment) => d.status?.availableReplicas ?? 0 },
  ageColumn,
  ...workloadWide<apps.Deployment>(),
];

const replicaSetColumns: ColumnDef[] = [
  { name: 'Desired', type: 'integer', cell: (r: apps.ReplicaSet) => r.spec?.replicas ?? 1 },
  { name: 'Current', type: 'integer', cell: (r: apps.ReplicaSet) => r.status?.replicas ?? 0 },
  { name: 'Ready', type: 'integer', cell: (r: apps.ReplicaSet) => r.status?.readyReplicas ?? 0 },
  ageColumn,
  ...workloadWide<apps.ReplicaSet>(),
];

const statefulSetColumns: ColumnDef[] = [
  { name: 'Ready', type: 'string', cell: (s: apps.StatefulSet) => `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 1}` },
  ageColumn,
  ...workloadWide<apps.StatefulSet>().slice(0, 2),
];

const daemonSetColumns: ColumnDef[] = [
  { name: 'Desired', type: 'integer', cell: (d: apps.DaemonSet) => d.status?.desiredNumberScheduled ?? 0 },
  { name: 'Current', type: 'integer', cell: (d: apps.DaemonSet) => d.status?.currentNumberScheduled ?? 0 },
  { name: 'Ready', type: 'integer', cell: (d: apps.DaemonSet) => d.status?.numberReady ?? 0 },
  { name: 'Up-to-date', type: 'integer', cell: (d: apps.DaemonSet) => d.status?.updatedNumberScheduled ?? 0 },
  { name: 'Available', type: 'integer', cell: (d: apps.DaemonSet) => d.status?.numberAvailable ?? 0 },
  { name: 'Node Selector', type: 'string', cell: (d: apps.DaemonSet) => formatLabels(d.spec?.template?.spec?.nodeSelector) },
  ageColumn,
  ...workloadWide<apps.DaemonSet>(),
];

/** COMPLETIONS of a job: "1/3", or "0/1 of 2" for a work-queue job with parallelism. */
export function jobCompletions(job: batch.Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec?.completions !== undefined && job.spec.completions !== null) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** STATUS of a job as kubectl 1.30 prints it. */
export function jobStatus(job: batch.Job): string {
  const has = (type: string): boolean => job.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (has('Suspended')) return 'Suspended';
  return 'Running';
}

const jobColumns: ColumnDef[] = [
  { name: 'Status', type: 'string', cell: (j: batch.Job) => jobStatus(j) },
  { name: 'Completions', type: 'string', cell: (j: batch.Job) => jobCompletions(j) },
  {
    name: 'Duration',
    type: 'string',
    cell: (j: batch.Job, now: number) => {
      const start = j.status?.startTime ? Date.parse(j.status.startTime) : NaN;
      if (Number.isNaN(start)) return '';
      const end = j.status?.completionTime ? Date.parse(j.status.completionTime) : now;
      return humanDuration(end - start);
    },
  },
  ageColumn,
  ...workloadWide<batch.Job>(),
];

const cronJobColumns: ColumnDef[] = [
  { name: 'Schedule', type: 'string', cell: (c: batch.CronJob) => c.spec?.schedule ?? '' },
  { name: 'Timezone', type: 'string', cell: (c: batch.CronJob) => c.spec?.timeZone || NONE },
  { name: 'Suspend', type: 'boolean', cell: (c: batch.CronJob) => (c.spec?.suspend ? 'True' : 'False') },
  { name: 'Active', type: 'integer', cell: (c: batch.CronJob) => c.status?.active?.length ?? 0 },
  { name: 'Last Schedule', type: 'string', cell: (c: batch.CronJob, now: number) => (c.status?.lastScheduleTime ? age(c.status.lastScheduleTime, now) : NONE) },
  ageColumn,
  { name: 'Containers', type: 'string', priority: 1, cell: (c: batch.CronJob) => containerNames(c.spec?.jobTemplate?.spec?.template?.spec) },
  { name: 'Images', type: 'string', priority: 1, cell: (c: batch.CronJob) => containerImages(c.spec?.jobTemplate?.spec?.template?.spec) },
  { name: 'Selector', type: 'string', priority: 1, cell: (c: batch.CronJob) => formatLabelSelector(c.spec?.jobTemplate?.spec?.selector) },
];

const controllerRevisionColumns: ColumnDef[] = [
  {
    name: 'Controller',
    type: 'string',
    cell: (r: apps.ControllerRevision) => {
      const ref = r.metadata?.ownerReferences?.find((o) => o.controller);
      if (!ref) return NONE;
      const group = ref.apiVersion.includes('/') ? ref.apiVersion.slice(0, ref.apiVersion.indexOf('/')) : '';
      return `${ref.kind.toLowerCase()}${group ? '.' + group : ''}/${ref.name}`;
    },
  },
  { name: 'Revision', type: 'integer', cell: (r: apps.ControllerRevision) => r.revision },
  ageColumn,
];

// ------------------------------------------------------------------------------------------- services

/** EXTERNAL-IP of a service, as kubectl derives it from its type. */
export function serviceExternalIp(svc: core.Service): string {
  const spec = svc.spec;
  const ext = spec?.externalIPs ?? [];
  switch (spec?.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length ? ext.join(',') : NONE;
    case 'LoadBalancer': {
      const ing = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean);
      const all = [...ing, ...ext];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return spec?.externalName ?? NONE;
    default:
      return '<unknown>';
  }
}

/** PORT(S): "80/TCP,443:30443/TCP". */
export function servicePorts(svc: core.Service): string {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) return NONE;
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

const serviceColumns: ColumnDef[] = [
  { name: 'Type', type: 'string', cell: (s: core.Service) => s.spec?.type ?? 'ClusterIP' },
  { name: 'Cluster-IP', type: 'string', cell: (s: core.Service) => (s.spec?.type === 'ExternalName' ? NONE : s.spec?.clusterIP || NONE) },
  { name: 'External-IP', type: 'string', cell: (s: core.Service) => serviceExternalIp(s) },
  { name: 'Port(s)', type: 'string', cell: (s: core.Service) => servicePorts(s) },
  ageColumn,
  { name: 'Selector', type: 'string', priority: 1, cell: (s: core.Service) => formatLabels(s.spec?.selector) },
];

/** ENDPOINTS: up to three "ip:port" then " + N more...". */
export function formatEndpoints(ep: core.Endpoints): string {
  const list: string[] = [];
  let count = 0;
  for (const ss of ep.subsets ?? []) {
    const ports = ss.ports?.length ? ss.ports : [undefined];
    for (const a of ss.addresses ?? []) {
      for (const p of ports) {
        count++;
        if (list.length < 3) list.push(p ? `${a.ip}:${p.port}` : a.ip);
      }
    }
  }
  if (count === 0) return NONE;
  return count > 3 ? `${list.join(',')} + ${count - 3} more...` : list.join(',');
}

// ------------------------------------------------------------------------------------------- the rest

function eventTime(e: core.Event): string | undefined {
  return e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
}

const eventColumns: ColumnDef[] = [
  {
    name: 'Last Seen',
    type: 'string',
    cell: (e: core.Event, now: number) => {
      const last = age(eventTime(e), now);
      const count = e.series?.count ?? e.count ?? 1;
      const first = e.firstTimestamp ?? e.eventTime;
      return count > 1 && first ? `${last} (x${count} over ${age(first, now)})` : last;
    },
  },
  { name: 'Type', type: 'string', cell: (e: core.Event) => e.type ?? '' },
  { name: 'Reason', type: 'string', cell: (e: core.Event) => e.reason ?? '' },
  { name: 'Object', type: 'string', cell: (e: core.Event) => `${(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}` },
  { name: 'Subobject', type: 'string', priority: 1, cell: (e: core.Event) => e.involvedObject?.fieldPath ?? '' },
  {
    name: 'Source',
    type: 'string',
    priority: 1,
    cell: (e: core.Event) => {
      const comp = e.source?.component ?? e.reportingComponent ?? '';
      const host = e.source?.host ?? e.reportingInstance ?? '';
      return host ? `${comp}, ${host}` : comp;
    },
  },
  { name: 'Message', type: 'string', cell: (e: core.Event) => (e.message ?? '').trim() },
  { name: 'First Seen', type: 'string', priority: 1, cell: (e: core.Event, now: number) => age(e.firstTimestamp ?? e.eventTime, now) },
  { name: 'Count', type: 'integer', priority: 1, cell: (e: core.Event) => e.series?.count ?? e.count ?? 1 },
  { name: 'Name', type: 'string', priority: 1, cell: (e: core.Event) => e.metadata?.name ?? '' },
];

const ACCESS_MODES: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
const accessModes = (modes: readonly string[] | undefined): string => (modes ?? []).map((m) => ACCESS_MODES[m] ?? m).join(',');

const pvcColumns: ColumnDef[] = [
  { name: 'Status', type: 'string', cell: (c: core.PersistentVolumeClaim) => (c.metadata?.deletionTimestamp ? 'Terminating' : c.status?.phase ?? 'Pending') },
  { name: 'Volume', type: 'string', cell: (c: core.PersistentVolumeClaim) => c.spec?.volumeName ?? '' },
  { name: 'Capacity', type: 'string', cell: (c: core.PersistentVolumeClaim) => (c.spec?.volumeName ? c.status?.capacity?.storage ?? '' : '') },
  { name: 'Access Modes', type: 'string', cell: (c: core.PersistentVolumeClaim) => (c.spec?.volumeName ? accessModes(c.status?.accessModes) : '') },
  { name: 'StorageClass', type: 'string', cell: (c: core.PersistentVolumeClaim) => c.spec?.storageClassName || NONE },
  { name: 'VolumeAttributesClass', type: 'string', cell: (c: core.PersistentVolumeClaim) => c.spec?.volumeAttributesClassName || NONE },
  ageColumn,
  { name: 'VolumeMode', type: 'string', priority: 1, cell: (c: core.PersistentVolumeClaim) => c.spec?.volumeMode ?? 'Filesystem' },
];

const pvColumns: ColumnDef[] = [
  { name: 'Capacity', type: 'string', cell: (v: core.PersistentVolume) => v.spec?.capacity?.storage ?? '' },
  { name: 'Access Modes', type: 'string', cell: (v: core.PersistentVolume) => accessModes(v.spec?.accessModes) },
  { name: 'Reclaim Policy', type: 'string', cell: (v: core.PersistentVolume) => v.spec?.persistentVolumeReclaimPolicy ?? 'Retain' },
  { name: 'Status', type: 'string', cell: (v: core.PersistentVolume) => (v.metadata?.deletionTimestamp ? 'Terminating' : v.status?.phase ?? 'Pending') },
  { name: 'Claim', type: 'string', cell: (v: core.PersistentVolume) => (v.spec?.claimRef ? `${v.spec.claimRef.namespace}/${v.spec.claimRef.name}` : '') },
  { name: 'StorageClass', type: 'string', cell: (v: core.PersistentVolume) => v.spec?.storageClassName || NONE },
  { name: 'VolumeAttributesClass', type: 'string', cell: (v: core.PersistentVolume) => v.spec?.volumeAttributesClassName || NONE },
  { name: 'Reason', type: 'string', cell: (v: core.PersistentVolume) => v.status?.reason ?? '' },
  ageColumn,
  { name: 'VolumeMode', type: 'string', priority: 1, cell: (v: core.PersistentVolume) => v.spec?.volumeMode ?? 'Filesystem' },
];

/** CREATED AT, as kubectl prints roles: the creation time itself, not an age. */
const createdAtColumn: ColumnDef = { name: 'Created At', type: 'date', cell: (o: KObject) => o.metadata?.creationTimestamp ?? '' };

const roleBindingColumns: ColumnDef[] = [
  { name: 'Role', type: 'string', cell: (b: rbac.RoleBinding) => `${b.roleRef.kind}/${b.roleRef.name}` },
  ageColumn,
  { name: 'Users', type: 'string', priority: 1, cell: (b: rbac.RoleBinding) => (b.subjects ?? []).filter((s) => s.kind === 'User').map((s) => s.name).join(', ') },
  { name: 'Groups', type: 'string', priority: 1, cell: (b: rbac.RoleBinding) => (b.subjects ?? []).filter((s) => s.kind === 'Group').map((s) => s.name).join(', ') },
  {
    name: 'ServiceAccounts',
    type: 'string',
    priority: 1,
    cell: (b: rbac.RoleBinding) => (b.subjects ?? []).filter((s) => s.kind === 'ServiceAccount').map((s) => `${s.namespace ?? ''}/${s.name}`).join(', '),
  },
];

/** kubectl's printer columns per served resource (the strategies reference theirs). */
export const PRINTERS: Readonly<Record<string, readonly ColumnDef[]>> = {
  pods: podColumns,
  nodes: nodeColumns,
  deployments: deploymentColumns,
  replicasets: replicaSetColumns,
  statefulsets: statefulSetColumns,
  daemonsets: daemonSetColumns,
  jobs: jobColumns,
  cronjobs: cronJobColumns,
  controllerrevisions: controllerRevisionColumns,
  services: serviceColumns,
  endpoints: [{ name: 'Endpoints', type: 'string', cell: (e: core.Endpoints) => formatEndpoints(e) }, ageColumn],
  namespaces: [{ name: 'Status', type: 'string', cell: (n: core.Namespace) => n.status?.phase ?? 'Active' }, ageColumn],
  events: eventColumns,
  configmaps: [{ name: 'Data', type: 'integer', cell: (c: core.ConfigMap) => Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length }, ageColumn],
  secrets: [
    { name: 'Type', type: 'string', cell: (s: core.Secret) => s.type ?? 'Opaque' },
    { name: 'Data', type: 'integer', cell: (s: core.Secret) => Object.keys(s.data ?? {}).length + Object.keys(s.stringData ?? {}).length },
    ageColumn,
  ],
  serviceaccounts: [{ name: 'Secrets', type: 'integer', cell: (s: core.ServiceAccount) => s.secrets?.length ?? 0 }, ageColumn],
  persistentvolumeclaims: pvcColumns,
  persistentvolumes: pvColumns,
  leases: [{ name: 'Holder', type: 'string', cell: (l: coordination.Lease) => l.spec?.holderIdentity ?? '' }, ageColumn],
  storageclasses: [
    { name: 'Provisioner', type: 'string', cell: (s: storage.StorageClass) => s.provisioner },
    { name: 'ReclaimPolicy', type: 'string', cell: (s: storage.StorageClass) => s.reclaimPolicy ?? 'Delete' },
    { name: 'VolumeBindingMode', type: 'string', cell: (s: storage.StorageClass) => s.volumeBindingMode ?? 'Immediate' },
    { name: 'AllowVolumeExpansion', type: 'boolean', cell: (s: storage.StorageClass) => s.allowVolumeExpansion ?? false },
    ageColumn,
  ],
  priorityclasses: [
    { name: 'Value', type: 'integer', cell: (p: scheduling.PriorityClass) => p.value },
    { name: 'Global-Default', type: 'boolean', cell: (p: scheduling.PriorityClass) => p.globalDefault ?? false },
    ageColumn,
    { name: 'PreemptionPolicy', type: 'string', cell: (p: scheduling.PriorityClass) => p.preemptionPolicy ?? 'PreemptLowerPriority' },
  ],
  roles: [createdAtColumn],
  clusterroles: [createdAtColumn],
  rolebindings: roleBindingColumns,
  clusterrolebindings: roleBindingColumns,
  endpointslices: [
    { name: 'AddressType', type: 'string', cell: (e: discovery.EndpointSlice) => e.addressType },
    { name: 'Ports', type: 'string', cell: (e: discovery.EndpointSlice) => (e.ports?.length ? e.ports.map((p) => String(p.port ?? '')).join(',') : NONE) },
    {
      name: 'Endpoints',
      type: 'string',
      cell: (e: discovery.EndpointSlice) => {
        const ips = (e.endpoints ?? []).flatMap((ep) => ep.addresses);
        if (!ips.length) return NONE;
        return ips.length > 3 ? `${ips.slice(0, 3).join(',')} + ${ips.length - 3} more...` : ips.join(',');
      },
    },
    ageColumn,
  ],
  horizontalpodautoscalers: [
    { name: 'Reference', type: 'string', cell: (h: autoscaling.HorizontalPodAutoscaler) => `${h.spec?.scaleTargetRef.kind ?? ''}/${h.spec?.scaleTargetRef.name ?? ''}` },
    { name: 'Targets', type: 'string', cell: (h: autoscaling.HorizontalPodAutoscaler) => hpaTargets(h) },
    { name: 'MinPods', type: 'string', cell: (h: autoscaling.HorizontalPodAutoscaler) => (h.spec?.minReplicas !== undefined ? String(h.spec.minReplicas) : '<unset>') },
    { name: 'MaxPods', type: 'integer', cell: (h: autoscaling.HorizontalPodAutoscaler) => h.spec?.maxReplicas ?? 0 },
    { name: 'Replicas', type: 'integer', cell: (h: autoscaling.HorizontalPodAutoscaler) => h.status?.currentReplicas ?? 0 },
    ageColumn,
  ],
  // Kubernetes' printIngress: CLASS, HOSTS (3, then "+ N more..."), ADDRESS, PORTS ("80, 443" with TLS).
  ingresses: [
    { name: 'Class', type: 'string', cell: (i: networking.Ingress) => i.spec?.ingressClassName ?? NONE },
    { name: 'Hosts', type: 'string', cell: (i: networking.Ingress) => ingressHosts(i.spec?.rules ?? []) },
    { name: 'Address', type: 'string', cell: (i: networking.Ingress) => ingressAddress(i) },
    { name: 'Ports', type: 'string', cell: (i: networking.Ingress) => (i.spec?.tls?.length ? '80, 443' : '80') },
    ageColumn,
  ],
  poddisruptionbudgets: [
    { name: 'Min Available', type: 'string', cell: (p: policy.PodDisruptionBudget) => (p.spec?.minAvailable !== undefined ? String(p.spec.minAvailable) : 'N/A') },
    { name: 'Max Unavailable', type: 'string', cell: (p: policy.PodDisruptionBudget) => (p.spec?.maxUnavailable !== undefined ? String(p.spec.maxUnavailable) : 'N/A') },
    { name: 'Allowed Disruptions', type: 'integer', cell: (p: policy.PodDisruptionBudget) => p.status?.disruptionsAllowed ?? 0 },
    ageColumn,
  ],
};

function ingressHosts(rules: readonly networking.IngressRule[]): string {
  const max = 3;
  const list = rules.map((r) => r.host ?? '').filter((h) => h !== '');
  if (list.length === 0) return '*';
  return list.length > max ? `${list.slice(0, max).join(',')} + ${rules.length - max} more...` : list.join(',');
}

function ingressAddress(i: networking.Ingress): string {
  return (i.status?.loadBalancer?.ingress ?? []).flatMap((a) => [a.ip, a.hostname].filter((v): v is string => !!v)).join(',');
}

/** The TARGETS cell as Kubernetes' printer formats it (`cpu: 45%/50%`, first metric + "N more"). */
export function hpaTargets(h: autoscaling.HorizontalPodAutoscaler): string {
  const specs = h.spec?.metrics ?? [];
  if (specs.length === 0) return '<none>';
  const statuses = h.status?.currentMetrics ?? [];
  const list = specs.map((m, i) => {
    const cur = statuses[i];
    if (m.type === 'Resource' && m.resource) {
      const t = m.resource.target;
      if (t.averageValue !== undefined) return `${m.resource.name}: ${cur?.resource?.current.averageValue ?? '<unknown>'}/${t.averageValue}`;
      const current = cur?.resource?.current.averageUtilization !== undefined ? `${cur.resource.current.averageUtilization}%` : '<unknown>';
      return `${m.resource.name}: ${current}/${t.averageUtilization !== undefined ? `${t.averageUtilization}%` : '<auto>'}`;
    }
    return `${m.type}: <unknown>`;
  });
  return list.length > 1 ? `${list[0]} + ${list.length - 1} more...` : list[0];
}
