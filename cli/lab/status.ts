/** `kubelab lab status` / the summary `lab up` prints: nodes, pods per node, component health. */
import type { ApiClient } from '../../client/api.js';
import { isNodeReady, isPodActive } from '../../api/objects.js';
import type { Lab } from './lab.js';
import { componentHealth } from './ready.js';

export interface NodeRow {
  name: string;
  status: string;
  pods: number;
  ip: string;
  age: string;
}

export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Fixed-width columns, kubectl style. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export async function nodeRows(client: ApiClient): Promise<NodeRow[]> {
  const [nodes, pods] = await Promise.all([client.list('nodes'), client.list('pods')]);
  const perNode = new Map<string, number>();
  for (const p of pods.items) {
    const n = p.spec?.nodeName;
    if (n && isPodActive(p)) perNode.set(n, (perNode.get(n) ?? 0) + 1);
  }
  return nodes.items.map((n) => {
    const name = n.metadata?.name ?? '';
    const unschedulable = n.spec?.unschedulable ? ',SchedulingDisabled' : '';
    return {
      name,
      status: (isNodeReady(n) ? 'Ready' : 'NotReady') + unschedulable,
      pods: perNode.get(name) ?? 0,
      ip: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
      age: age(n.metadata?.creationTimestamp),
    };
  });
}

export function nodesTable(rows: NodeRow[]): string {
  return table(['NAME', 'STATUS', 'PODS', 'INTERNAL-IP', 'AGE'], rows.map((r) => [r.name, r.status, String(r.pods), r.ip, r.age]));
}

/** The whole status screen; the API part degrades to a note when the apiserver does not answer. */
export async function statusReport(lab: Lab, client: ApiClient): Promise<string> {
  const out: string[] = [];
  try {
    out.push(nodesTable(await nodeRows(client)));
  } catch (err) {
    out.push(`nodes: the apiserver does not answer (${err instanceof Error ? err.message : String(err)})\n`);
  }
  const health = await componentHealth(lab);
  // Leader identities start with the holder's hostname: the container name, or (compose replicas) its short id.
  const leaders = new Set<string>();
  for (const c of ['scheduler', 'controller-manager'] as const) {
    const l = await lab.leader(c, client).catch(() => undefined);
    if (l) for (const s of health) if (s.component === c && (s.name === l || s.id.startsWith(l))) leaders.add(s.name);
  }
  const partitioned = new Set<string>();
  for (const node of await lab.nodes()) if (await lab.isPartitioned(node).catch(() => false)) partitioned.add(node);
  // An HA control plane: which etcd member leads, and which are cut off (`kubelab etcd partition`).
  const etcdMembers = health.filter((s) => s.component === 'etcd');
  if (etcdMembers.length > 1) {
    const leader = await lab.etcdLeader().catch(() => undefined);
    if (leader) leaders.add(`${lab.spec.prefix}${leader}`);
    for (const m of etcdMembers) {
      const member = m.name.slice(lab.spec.prefix.length);
      if (await lab.isEtcdPartitioned(member).catch(() => false)) partitioned.add(member);
    }
  }
  const rows = health.map((s) => {
    const short = s.component === 'node' || s.component === 'etcd' ? s.name.slice(lab.spec.prefix.length) : '';
    const notes = [leaders.has(s.name) ? 'leader' : '', partitioned.has(short) ? 'PARTITIONED' : ''].filter(Boolean).join(',');
    return [s.name, s.component, s.health, notes];
  });
  out.push(table(['CONTAINER', 'COMPONENT', 'HEALTH', 'NOTE'], rows));
  // A multi-host lab: the workers on other Docker engines (a host that does not answer lists none).
  if (lab.hosts().length > 0) {
    const where = await lab.nodeHosts();
    const containers = await lab.workerContainers();
    const remote = [...where].filter(([, host]) => host !== 'local');
    const silent = lab.hosts().filter((h) => !remote.some(([, host]) => host === h));
    out.push(
      table(
        ['NODE', 'DOCKER HOST', 'STATE'],
        [...remote.map(([node, host]) => [node, host, containers.get(node)?.State ?? '']), ...silent.map((h) => ['-', h, 'host does not answer'])],
      ),
    );
  }
  return out.join('\n');
}
