/**
 * The dashboard's browser side: one WebSocket, a local copy of the views, and a virtualised DOM —
 * only the node boxes in (or near) the viewport exist, a node box is rebuilt only when something in it
 * changed, and all DOM work happens in one requestAnimationFrame per batch. Countdowns tick every 100 ms
 * from the server's timestamps (corrected by the clock offset) and the controller-manager's published timing.
 */
import { evictionTime, type EventView, type NodeView, type PdbView, type PodView, type ServerMessage, type TimingView, type View, type WorkloadView } from '../protocol.js';

// ---------- state ----------
const nodes = new Map<string, NodeView>();
const pods = new Map<string, PodView>();
const podsByNode = new Map<string, Set<string>>();
const workloads = new Map<string, WorkloadView>();
/** PodDisruptionBudgets by `namespace/name` (a pod view names the ones that match it). */
const budgets = new Map<string, PdbView>();
const events = new Map<string, EventView>();
let timing: TimingView | undefined;
let actions: string[] = [];
let readOnlyReason: string | undefined;
let clockOffset = 0; // server now - browser now
/** When each pod id was first seen after the snapshot (for the entry animation). */
const firstSeen = new Map<string, number>();

let nodeOrder: string[] = [];
let nodeOrderDirty = true;
const dirtyNodes = new Set<string>();
let pendingDirty = true;
let eventsDirty = true;
let detailDirty = true;
let allDirty = true;
let selected: { kind: 'pod' | 'node' | 'workload'; id: string } | undefined;
let scheduling: { podId: string; state: 'loading' | 'ok' | 'error'; data?: Attempt; error?: string } | undefined;

interface Attempt {
  time: string;
  result: string;
  node?: string;
  message?: string;
  nominatedNode?: string;
  victims?: string[];
  pdbViolations?: number;
  nodes: number;
  /** Nodes filtered and how many fit (a big cluster's record lists only the failing and best-scored nodes). */
  evaluated?: number;
  feasible?: number;
  filters: { node: string; code: string; reasons: string[] }[];
  scores: { node: string; total: number; plugins: Record<string, number> }[];
  weights: Record<string, number>;
}

/** Exposed for tests and the benchmark: counters, not controls. */
const stats = { frames: 0, applied: 0, lastApplyAt: 0, lastRenderAt: 0, renders: 0 };
(window as unknown as { kubelabDashboard: unknown }).kubelabDashboard = { stats, nodes, pods };

const now = (): number => Date.now() + clockOffset;
const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const secs = (msLeft: number): string => `${(Math.max(0, msLeft) / 1000).toFixed(1)}s`;
const naturalCmp = (a: string, b: string): number => a.localeCompare(b, undefined, { numeric: true });

// ---------- applying server messages ----------
function podNodeKey(p: PodView): string {
  return p.node ?? '';
}

function removePod(id: string): void {
  const p = pods.get(id);
  if (!p) return;
  pods.delete(id);
  podsByNode.get(podNodeKey(p))?.delete(id);
  markPod(p);
}

function markPod(p: PodView): void {
  if (p.node) dirtyNodes.add(p.node);
  else pendingDirty = true;
  if (selected?.id === p.id) detailDirty = true;
}

function upsert(v: View, fresh: boolean): void {
  switch (v.kind) {
    case 'Node':
      if (!nodes.has(v.name)) nodeOrderDirty = true;
      nodes.set(v.name, v);
      dirtyNodes.add(v.name);
      if (selected?.kind === 'node' && selected.id === v.name) detailDirty = true;
      break;
    case 'Pod': {
      const old = pods.get(v.id);
      if (old) {
        podsByNode.get(podNodeKey(old))?.delete(v.id);
        markPod(old);
      } else if (fresh) firstSeen.set(v.id, Date.now());
      pods.set(v.id, v);
      let set = podsByNode.get(podNodeKey(v));
      if (!set) podsByNode.set(podNodeKey(v), (set = new Set()));
      set.add(v.id);
      markPod(v);
      break;
    }
    case 'Event':
      events.set(v.id, v);
      eventsDirty = true;
      break;
    case 'Timing':
      timing = v;
      allDirty = true;
      break;
    case 'PodDisruptionBudget':
      budgets.set(`${v.namespace}/${v.name}`, v);
      if (selected) detailDirty = true;
      break;
    default:
      workloads.set(v.id, v);
      // Group labels (rollout budget) show in every node box holding its pods.
      allDirty = true;
      if (selected) detailDirty = true;
  }
}

function remove(id: string): void {
  if (id.startsWith('node/')) {
    const name = id.slice(5);
    if (nodes.delete(name)) nodeOrderDirty = true;
    dirtyNodes.add(name);
  } else if (id.startsWith('pod/')) removePod(id);
  else if (id.startsWith('ev/')) {
    events.delete(id);
    eventsDirty = true;
  } else if (id === 'timing') {
    timing = undefined;
    allDirty = true;
  } else if (id.startsWith('pdb/')) {
    budgets.delete(id.slice(4));
    if (selected) detailDirty = true;
  } else {
    workloads.delete(id);
    allDirty = true;
  }
}

function apply(msg: ServerMessage): void {
  switch (msg.t) {
    case 'snapshot':
      clockOffset = msg.now - Date.now();
      nodes.clear();
      pods.clear();
      podsByNode.clear();
      workloads.clear();
      budgets.clear();
      events.clear();
      timing = undefined;
      actions = msg.actions;
      readOnlyReason = msg.readOnlyReason;
      for (const v of msg.views) upsert(v, false);
      nodeOrderDirty = allDirty = pendingDirty = eventsDirty = detailDirty = true;
      break;
    case 'delta':
      clockOffset = msg.now - Date.now();
      for (const id of msg.del) remove(id);
      for (const v of msg.set) upsert(v, true);
      break;
    case 'result':
      toast(msg.ok ? msg.message : msg.error, !msg.ok);
      return;
    case 'scheduling':
      if (scheduling && scheduling.podId === pendingScheduling.get(msg.id)) {
        scheduling = msg.ok ? { podId: scheduling.podId, state: 'ok', data: msg.attempt as Attempt } : { podId: scheduling.podId, state: 'error', error: msg.error };
        detailDirty = true;
      }
      pendingScheduling.delete(msg.id);
      break;
    case 'error':
      toast(`dashboard: ${msg.error}`, true);
      return;
  }
  stats.applied++;
  stats.lastApplyAt = performance.now();
  schedule();
}

// ---------- socket ----------
let ws: WebSocket | undefined;
let retryMs = 500;
let seq = 0;
const pendingScheduling = new Map<string, string>();

function connect(): void {
  const conn = $('conn');
  ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  ws.onopen = () => {
    retryMs = 500;
    conn.className = 'conn on';
    conn.dataset.state = 'connected';
    conn.textContent = 'live';
  };
  ws.onmessage = (e) => {
    try {
      apply(JSON.parse(String(e.data)) as ServerMessage);
    } catch (err) {
      toast(`bad message from the dashboard server: ${(err as Error).message}`, true);
    }
  };
  ws.onclose = () => {
    conn.className = 'conn off';
    conn.dataset.state = 'disconnected';
    conn.textContent = `disconnected — retrying in ${(retryMs / 1000).toFixed(1)}s`;
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10_000);
  };
}

function sendMsg(m: Record<string, unknown>): string {
  const id = `m${++seq}`;
  if (!ws || ws.readyState !== WebSocket.OPEN) {
    toast('not connected to the dashboard server; wait for "live" and retry', true);
    return id;
  }
  ws.send(JSON.stringify({ ...m, id }));
  return id;
}

// ---------- actions ----------
const ACTION_TEXT: Record<string, (t: string) => string> = {
  crash: (n) => `Crash ${n}? Its container and every pod container on it are SIGKILLed at once (kubelab node crash ${n}).`,
  partition: (n) => `Partition ${n}? It loses the control plane; its pods keep running (kubelab node partition ${n}).`,
  heal: (n) => `Heal ${n}? It reconnects to the control plane (kubelab node heal ${n}).`,
  restart: (n) => `Restart ${n}? Its kubelet rebuilds its state from Docker (kubelab node restart ${n}).`,
  cordon: (n) => `Cordon ${n}? No new pods will be scheduled on it.`,
  uncordon: (n) => `Uncordon ${n}?`,
  drain: (n) => `Drain ${n}? It is cordoned and its pods are evicted (DaemonSet pods stay; disruption budgets are honoured).`,
  'delete-pod': (p) => `Delete pod ${p}?`,
  scale: (w) => `Scale ${w}?`,
};

function confirmThen(text: string, run: () => void): void {
  const dlg = $<HTMLDialogElement>('confirm');
  $('confirm-text').textContent = text;
  dlg.onclose = () => {
    if (dlg.returnValue === 'ok') run();
  };
  dlg.returnValue = '';
  dlg.showModal();
}

function act(action: string, target: Record<string, unknown>, label: string): void {
  confirmThen((ACTION_TEXT[action] ?? ((t: string) => `${action} ${t}?`))(label), () => {
    sendMsg({ t: 'action', action, ...target });
    toast(`${action} ${label}: sent`, false);
  });
}

function toast(text: string, error: boolean): void {
  const el = document.createElement('div');
  el.className = `toast${error ? ' error' : ''}`;
  el.textContent = text;
  $('toasts').appendChild(el);
  setTimeout(() => el.remove(), error ? 8000 : 4000);
}

// ---------- rendering ----------
const BOX_W = 300;
const BOX_H = 190;
const GAP = 8;
const MAX_GROUPS = 5;
const MAX_TILES = 48;

let rafPending = false;
function schedule(): void {
  if (rafPending) return;
  rafPending = true;
  requestAnimationFrame(render);
}

function ownerLabel(p: PodView): { key: string; label: string; wl?: WorkloadView } {
  if (!p.owner) return { key: 'bare', label: 'bare pods' };
  let kind = p.owner.kind;
  let name = p.owner.name;
  let wl = workloads.get(`wl/${kind}/${p.namespace}/${name}`);
  // Pods of a Deployment are grouped by the Deployment, not its ReplicaSets.
  if (kind === 'ReplicaSet' && wl?.owner?.kind === 'Deployment') {
    kind = 'Deployment';
    name = wl.owner.name;
    wl = workloads.get(`wl/Deployment/${p.namespace}/${name}`) ?? wl;
  }
  return { key: `${kind}/${p.namespace}/${name}`, label: `${kind} ${p.namespace === 'default' ? '' : `${p.namespace}/`}${name}`, wl };
}

function rolloutText(wl: WorkloadView | undefined): string {
  if (!wl || wl.kind !== 'Deployment') return '';
  if (wl.updated >= wl.desired && wl.available >= wl.desired && wl.current === wl.desired) return '';
  return ` rollout: updated ${wl.updated}/${wl.desired}, available ${wl.available}, budget surge ≤${wl.maxSurge ?? '-'} unavailable ≤${wl.maxUnavailable ?? '-'}`;
}

function podClass(p: PodView): string {
  if (p.deletionTimestamp) return 'terminating';
  if (p.containers.some((c) => c.reason === 'CrashLoopBackOff')) return 'crash';
  if (p.phase === 'Running') return p.ready ? 'ready' : 'running';
  return p.phase.toLowerCase();
}

function podTile(p: PodView): string {
  const seen = firstSeen.get(p.id);
  const fresh = seen !== undefined && Date.now() - seen < 600;
  const sel = selected?.kind === 'pod' && selected.id === p.id ? ' selected' : '';
  return `<i class="pod ${podClass(p)}${fresh ? ' new' : ''}${sel}" data-pod="${esc(`${p.namespace}/${p.name}`)}" data-id="${esc(p.id)}" title="${esc(`${p.namespace}/${p.name} · ${p.phase}${p.ready ? ' · ready' : ''}${p.deletionTimestamp ? ' · terminating' : ''}`)}"></i>`;
}

function bar(label: string, used: number, total: number, fmt: (n: number) => string): string {
  const pct = total > 0 ? Math.min(100, (used / total) * 100) : 0;
  return `<span>${label}</span><div class="bar-out"><div class="bar-in${pct >= 90 ? ' full' : ''}" style="width:${pct.toFixed(1)}%"></div></div><span>${fmt(used)} / ${fmt(total)}</span>`;
}
const fmtCpu = (m: number): string => (m >= 1000 ? `${(m / 1000).toFixed(m % 1000 ? 1 : 0)}` : `${Math.round(m)}m`);
const fmtMem = (b: number): string => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)}Gi` : `${Math.round(b / 2 ** 20)}Mi`);

function nodeHtml(n: NodeView): string {
  const ids = podsByNode.get(n.name) ?? new Set<string>();
  let cpu = 0;
  let mem = 0;
  const groups = new Map<string, { label: string; wl?: WorkloadView; pods: PodView[] }>();
  for (const id of ids) {
    const p = pods.get(id);
    if (!p) continue;
    if (!p.deletionTimestamp && p.phase !== 'Succeeded' && p.phase !== 'Failed') {
      cpu += p.requests.cpu;
      mem += p.requests.memory;
    }
    const o = ownerLabel(p);
    let g = groups.get(o.key);
    if (!g) groups.set(o.key, (g = { label: o.label, wl: o.wl, pods: [] }));
    g.pods.push(p);
  }
  const state = n.ready === 'True' ? '<span class="badge">Ready</span>' : `<span class="badge bad">NotReady${n.ready === 'Unknown' ? ' (Unknown)' : ''}</span>`;
  const flags = [
    n.unschedulable ? '<span class="badge warn">cordoned</span>' : '',
    n.taints.length ? `<span class="badge dim" title="${esc(n.taints.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join('\n'))}">${n.taints.length} taint${n.taints.length > 1 ? 's' : ''}</span>` : '',
  ].join('');
  let tiles = 0;
  const groupHtml = [...groups.values()]
    .sort((a, b) => naturalCmp(a.label, b.label))
    .slice(0, MAX_GROUPS)
    .map((g) => {
      const shown = g.pods.sort((a, b) => naturalCmp(a.name, b.name)).slice(0, Math.max(0, MAX_TILES - tiles));
      tiles += shown.length;
      const more = g.pods.length - shown.length;
      return `<div class="group" data-owner="${esc(g.label)}"><span class="owner" title="${esc(g.label + rolloutText(g.wl))}">${esc(g.label.replace(/^\w+ /, ''))}</span><span class="tiles">${shown.map(podTile).join('')}</span>${more > 0 ? `<span class="more">+${more}</span>` : ''}</div>`;
    })
    .join('');
  const moreGroups = groups.size > MAX_GROUPS ? `<span class="more">+${groups.size - MAX_GROUPS} more owners</span>` : '';
  return `<div class="head" data-select-node="${esc(n.name)}"><span class="name">${esc(n.name)}</span>${state}${flags}<span class="more">${ids.size} pods</span></div>
<div class="bars">${bar('cpu', cpu, n.allocatable.cpu, fmtCpu)}${bar('mem', mem, n.allocatable.memory, fmtMem)}</div>
<div class="cd" data-cd-node="${esc(n.name)}">${countdownHtml(n)}</div>
<div class="groups">${groupHtml}${moreGroups}</div>`;
}

/**
 * Why the node is waiting, as the controllers count (docs/timing.md): a stale lease → Ready=Unknown at
 * renewTime + node-monitor-grace-period; then each pod's NoExecute eviction at the taint's timeAdded +
 * its tolerationSeconds.
 */
function countdownHtml(n: NodeView): string {
  const t = now();
  const grace = timing?.nodeMonitorGracePeriodMs;
  if (n.ready === 'True') {
    if (n.leaseRenewTime === undefined) return '';
    const age = t - n.leaseRenewTime;
    // The kubelet renews every quarter lease duration; a renewal late by more than 1.5 s (or half the grace
    // period, whichever comes first) is worth a countdown.
    const renewMs = ((n.leaseDurationSeconds ?? 40) * 1000) / 4;
    if (age < Math.min(renewMs + 1500, (grace ?? Infinity) / 2)) return '';
    if (grace === undefined) return `lease not renewed for ${secs(age)} (timing not published by the controller-manager yet)`;
    const left = n.leaseRenewTime + grace - t;
    return `lease not renewed for ${secs(age)} · Ready=Unknown in <b data-countdown="notready" data-expired="${left <= 0}">${secs(left)}</b>${left <= 0 ? ' (next node check)' : ''}`;
  }
  const since = n.readySince !== undefined ? ` for ${secs(t - n.readySince)}` : '';
  const ids = podsByNode.get(n.name) ?? new Set<string>();
  let next: number | undefined;
  let waiting = 0;
  for (const id of ids) {
    const p = pods.get(id);
    if (!p || p.deletionTimestamp) continue;
    const at = evictionTime(n.taints, p.tolerations);
    if (at === undefined) continue;
    waiting++;
    next = next === undefined ? at : Math.min(next, at);
  }
  const hasNoExecute = n.taints.some((x) => x.effect === 'NoExecute');
  let evict = '';
  if (next !== undefined) evict = ` · ${waiting} pod${waiting > 1 ? 's' : ''} evicted in <b data-countdown="eviction" data-expired="${next - t <= 0}">${secs(next - t)}</b>`;
  else if (!hasNoExecute && ids.size > 0) evict = ' · waiting for the NoExecute taint';
  return `NotReady${since}${n.readyReason ? ` (${esc(n.readyReason)})` : ''}${evict}`;
}

const mounted = new Map<string, HTMLElement>();

function renderNodes(): void {
  const scroll = $('nodes-scroll');
  const sizer = $('nodes-sizer');
  if (nodeOrderDirty) {
    nodeOrder = [...nodes.keys()].sort(naturalCmp);
    nodeOrderDirty = false;
    allDirty = true;
  }
  const cols = Math.max(1, Math.floor((scroll.clientWidth - GAP) / (BOX_W + GAP)));
  const rows = Math.ceil(nodeOrder.length / cols);
  sizer.style.height = `${rows * (BOX_H + GAP) + GAP}px`;
  const first = Math.max(0, Math.floor(scroll.scrollTop / (BOX_H + GAP)) - 1);
  const last = Math.min(rows - 1, Math.ceil((scroll.scrollTop + scroll.clientHeight) / (BOX_H + GAP)) + 1);
  const visible = new Set<string>();
  for (let r = first; r <= last; r++) {
    for (let c = 0; c < cols; c++) {
      const name = nodeOrder[r * cols + c];
      if (name === undefined) break;
      visible.add(name);
      const n = nodes.get(name);
      if (!n) continue;
      let el = mounted.get(name);
      const isNew = !el;
      if (!el) {
        el = document.createElement('div');
        el.className = 'node';
        el.dataset.node = name;
        sizer.appendChild(el);
        mounted.set(name, el);
      }
      el.style.transform = `translate(${GAP + c * (BOX_W + GAP)}px, ${GAP + r * (BOX_H + GAP)}px)`;
      if (isNew || allDirty || dirtyNodes.has(name)) {
        el.dataset.ready = n.ready;
        el.classList.toggle('cordoned', n.unschedulable);
        el.classList.toggle('selected', selected?.kind === 'node' && selected.id === name);
        el.innerHTML = nodeHtml(n);
      }
    }
  }
  for (const [name, el] of mounted) {
    if (!visible.has(name) || !nodes.has(name)) {
      el.remove();
      mounted.delete(name);
    }
  }
  dirtyNodes.clear();
}

function renderPending(): void {
  const list: PodView[] = [];
  for (const id of podsByNode.get('') ?? []) {
    const p = pods.get(id);
    if (p && !p.deletionTimestamp && p.phase !== 'Succeeded' && p.phase !== 'Failed') list.push(p);
  }
  list.sort((a, b) => (a.created ?? 0) - (b.created ?? 0));
  $('pending-count').textContent = String(list.length);
  $('pending-list').innerHTML =
    list
      .slice(0, 100)
      .map(
        (p) =>
          `<span class="pending-pod" data-pending="${esc(`${p.namespace}/${p.name}`)}" data-id="${esc(p.id)}">${esc(p.namespace)}/${esc(p.name)} <span class="why">${esc(p.unschedulable ? `${p.unschedulable.reason}: ${p.unschedulable.message}` : 'waiting for the scheduler')}</span></span>`,
      )
      .join('') + (list.length > 100 ? `<span class="more">+${list.length - 100} more</span>` : '');
}

function fmtTime(ms: number): string {
  const d = new Date(ms);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(Math.floor(d.getMilliseconds() / 100))}`;
}

/** The objects related to the selection: the pod, its owner chain, its node (the causal chain's members). */
function chainRefs(): Set<string> {
  const refs = new Set<string>();
  if (!selected) return refs;
  if (selected.kind === 'node') {
    refs.add(`Node//${selected.id}`);
    for (const id of podsByNode.get(selected.id) ?? []) {
      const p = pods.get(id);
      if (p) refs.add(`Pod/${p.namespace}/${p.name}`);
    }
    return refs;
  }
  const p = pods.get(selected.id);
  if (!p) return refs;
  refs.add(`Pod/${p.namespace}/${p.name}`);
  if (p.node) refs.add(`Node//${p.node}`);
  for (const o of ownerChain(p)) refs.add(`${o.kind}/${p.namespace}/${o.name}`);
  return refs;
}

function ownerChain(p: PodView): { kind: string; name: string }[] {
  const out: { kind: string; name: string }[] = [];
  let cur = p.owner;
  for (let i = 0; cur && i < 5; i++) {
    out.unshift(cur);
    cur = workloads.get(`wl/${cur.kind}/${p.namespace}/${cur.name}`)?.owner;
  }
  return out;
}

function renderEvents(): void {
  const filter = $<HTMLInputElement>('filter').value.trim().toLowerCase();
  const chainOnly = $<HTMLInputElement>('chain-only').checked;
  const refs = chainOnly ? chainRefs() : undefined;
  const list = [...events.values()]
    .filter((e) => {
      if (refs && !refs.has(`${e.object.kind}/${e.object.kind === 'Node' ? '' : e.object.namespace}/${e.object.name}`)) return false;
      if (!filter) return true;
      return `${e.object.namespace}/${e.object.kind}/${e.object.name} ${e.object.kind.toLowerCase()}/${e.object.name} ${e.reason} ${e.message}`.toLowerCase().includes(filter);
    })
    .sort((a, b) => a.time - b.time || naturalCmp(a.id, b.id));
  const shown = list.slice(-400);
  let prev: number | undefined;
  $('events').innerHTML = shown
    .map((e) => {
      const dt = prev === undefined ? '' : `+${((e.time - prev) / 1000).toFixed(1)}s`;
      prev = e.time;
      const ref = `${e.object.kind}/${e.object.kind === 'Node' ? '' : e.object.namespace}/${e.object.name}`;
      return `<li class="${esc(e.type)}${e.reason.startsWith('Dashboard') ? ' dashboard' : ''}" data-reason="${esc(e.reason)}"><span class="t">${fmtTime(e.time)}</span><span class="dt">${dt}</span><span class="reason">${esc(e.reason)}${e.count > 1 ? ` ×${e.count}` : ''}</span><a data-ref="${esc(ref)}">${esc(e.object.kind)}/${esc(e.object.name)}</a><span>${esc(e.message)}</span></li>`;
    })
    .join('');
  $('event-count').textContent = `${list.length} of ${events.size} events`;
  const ol = $('events');
  ol.scrollTop = ol.scrollHeight;
}

function attemptHtml(podId: string): string {
  if (!scheduling || scheduling.podId !== podId) return '';
  if (scheduling.state === 'loading') return '<p class="hint">asking the scheduler leader…</p>';
  if (scheduling.state === 'error') return `<p class="hint" data-scheduling-error>${esc(scheduling.error)}</p>`;
  const a = scheduling.data;
  if (!a) return '';
  const plugins = Object.keys(a.weights);
  const scores = new Map(a.scores.map((s) => [s.node, s]));
  const rows = a.filters
    .map((f) => {
      const s = scores.get(f.node);
      const verdict = f.code === 'Success' ? '<span class="ok">fits</span>' : `<span class="bad">${esc(f.reasons.join(', ') || f.code)}</span>`;
      return `<tr data-node="${esc(f.node)}"><td>${esc(f.node)}${a.node === f.node ? ' ✔' : ''}</td><td class="filter">${verdict}</td><td>${s ? s.total.toFixed(0) : ''}</td><td>${s ? plugins.map((pl) => `${esc(pl)} ${(s.plugins[pl] ?? 0).toFixed(0)}`).join('<br>') : ''}</td></tr>`;
    })
    .join('');
  return `<h3>Scheduler: last attempt</h3><p>${esc(a.result)}${a.node ? ` on ${esc(a.node)}` : ''} at ${esc(new Date(a.time).toLocaleTimeString([], { hour12: false }))} · ${a.evaluated ?? a.filters.length}/${a.nodes} nodes filtered${a.feasible !== undefined && a.scores.length > 0 && a.scores.length < a.feasible ? ` · ${a.feasible} fit, the ${a.scores.length} best-scored shown` : ''}${a.nominatedNode ? ` · nominated: ${esc(a.nominatedNode)}` : ''}</p>
${a.message ? `<p class="hint">${esc(a.message)}</p>` : ''}
${a.victims?.length ? `<p id="sched-victims">preempting on ${esc(a.nominatedNode ?? '')}: ${a.victims.map((v) => `<span class="victim">${esc(v)}</span>`).join(', ')}${a.pdbViolations ? ` (violates ${a.pdbViolations} disruption budget${a.pdbViolations > 1 ? 's' : ''})` : ''}</p>` : ''}
<table id="sched-table"><tr><th>node</th><th>filter</th><th>score</th><th>per plugin (weight ${plugins.map((p) => `${p}×${a.weights[p]}`).join(', ')})</th></tr>${rows}</table>`;
}

function actionButtons(list: [string, Record<string, unknown>, string][]): string {
  return `<div class="actions">${list
    .map(([a, target, label]) => `<button data-action="${esc(a)}" data-target='${esc(JSON.stringify(target))}' data-label="${esc(label)}" ${actions.includes(a) ? '' : `disabled title="${esc(readOnlyReason ?? 'not available')}"`}>${esc(a)}</button>`)
    .join('')}</div>`;
}

function renderDetail(): void {
  const el = $('detail');
  if (!selected) {
    el.innerHTML = '<p class="hint">Click a node or a pod to see why it is where it is.</p>';
    return;
  }
  if (selected.kind === 'node') {
    const n = nodes.get(selected.id);
    if (!n) {
      el.innerHTML = `<p class="hint">node ${esc(selected.id)} is gone</p>`;
      return;
    }
    el.innerHTML = `<h3 data-detail="node">Node ${esc(n.name)}</h3>
<p>Ready=${esc(n.ready)}${n.readyReason ? ` (${esc(n.readyReason)})` : ''}${n.unschedulable ? ' · cordoned' : ''}</p>
<p class="cd" data-cd-node="${esc(n.name)}">${countdownHtml(n)}</p>
<table><tr><th>taint</th><th>effect</th><th>added</th></tr>${n.taints.map((t) => `<tr><td>${esc(t.key)}${t.value ? `=${esc(t.value)}` : ''}</td><td>${esc(t.effect)}</td><td>${t.timeAdded ? fmtTime(t.timeAdded) : ''}</td></tr>`).join('')}</table>
${actionButtons([
  ['crash', { node: n.name }, n.name],
  ['partition', { node: n.name }, n.name],
  ['heal', { node: n.name }, n.name],
  ['restart', { node: n.name }, n.name],
  [n.unschedulable ? 'uncordon' : 'cordon', { node: n.name }, n.name],
  ['drain', { node: n.name }, n.name],
])}`;
    return;
  }
  const p = pods.get(selected.id);
  if (!p) {
    el.innerHTML = `<p class="hint">pod ${esc(selected.id.slice(4))} is gone</p>`;
    return;
  }
  const chain = ownerChain(p);
  const top = chain[0];
  const topWl = top ? workloads.get(`wl/${top.kind}/${p.namespace}/${top.name}`) : undefined;
  const scaleTarget = topWl && ['Deployment', 'ReplicaSet', 'StatefulSet'].includes(topWl.kind) ? topWl : undefined;
  const node = p.node ? nodes.get(p.node) : undefined;
  const evictAt = node && !p.deletionTimestamp ? evictionTime(node.taints, p.tolerations) : undefined;
  el.innerHTML = `<h3 data-detail="pod">Pod ${esc(p.namespace)}/${esc(p.name)}</h3>
<div class="chain" data-chain>${chain.map((o) => `<span>${esc(o.kind)} ${esc(o.name)}</span> →`).join(' ')} <b>Pod ${esc(p.name)}</b> → ${p.containers.map((c) => `<span>${esc(c.name)}</span>`).join(', ') || 'containers not started'}</div>
${topWl && topWl.kind === 'Deployment' ? `<p>Deployment ${esc(topWl.name)}: desired ${topWl.desired}, updated ${topWl.updated}, available ${topWl.available}; rollout budget: surge ≤${topWl.maxSurge ?? '-'}, unavailable ≤${topWl.maxUnavailable ?? '-'}</p>` : ''}
<p>${esc(p.phase)}${p.ready ? ' · ready' : ''}${p.node ? ` on <a data-select-node="${esc(p.node)}">${esc(p.node)}</a>` : ' · not scheduled'}${p.nominatedNode ? ` · nominated ${esc(p.nominatedNode)}` : ''}${p.deletionTimestamp ? ' · terminating' : ''}</p>
${evictAt !== undefined ? `<p class="cd">evicted in <b data-countdown="pod-eviction" data-deadline="${evictAt}">${secs(evictAt - now())}</b> (taint timeAdded + tolerationSeconds)</p>` : ''}
${p.unschedulable ? `<p class="bad">${esc(p.unschedulable.reason)}: ${esc(p.unschedulable.message)}</p>` : ''}
${budgetHtml(p)}
<table><tr><th>container</th><th>state</th><th>restarts</th></tr>${p.containers
    .map(
      (c) =>
        `<tr><td>${esc(c.name)}</td><td>${esc(c.state)}${c.reason ? ` (${esc(c.reason)})` : ''}${c.nextRestart ? ` · restart in <b data-countdown="backoff" data-deadline="${c.nextRestart}">${secs(c.nextRestart - now())}</b>` : ''}</td><td>${c.restartCount}</td></tr>`,
    )
    .join('')}</table>
${actionButtons([['delete-pod', { namespace: p.namespace, name: p.name }, `${p.namespace}/${p.name}`]])}
${scaleTarget ? `<div class="actions"><input id="scale-n" type="number" min="0" max="10000" value="${scaleTarget.desired}" style="width:70px"><button data-scale='${esc(JSON.stringify({ resource: `${scaleTarget.kind.toLowerCase()}s`, namespace: p.namespace, name: scaleTarget.name }))}' ${actions.includes('scale') ? '' : 'disabled'}>scale ${esc(scaleTarget.kind)} ${esc(scaleTarget.name)}</button></div>` : ''}
<div id="scheduling">${attemptHtml(p.id)}</div>`;
}

/**
 * The disruption budgets covering the pod: how many evictions they allow now, and, at 0, that an eviction
 * (kubectl drain, the drain button) of this pod is refused with 429 until another pod of the budget is healthy.
 */
function budgetHtml(p: PodView): string {
  const list = (p.pdbs ?? []).map((k) => budgets.get(k)).filter((b): b is PdbView => b !== undefined);
  if (list.length === 0) return '';
  return list
    .map(
      (b) =>
        `<p class="${b.disruptionsAllowed > 0 ? 'ok' : 'bad'}" data-pdb="${esc(b.name)}" data-disruptions-allowed="${b.disruptionsAllowed}">disruption budget ${esc(b.name)} (${esc(b.rule)}): ${b.currentHealthy} healthy of ${b.expectedPods}, ${b.desiredHealthy} needed · <b>${b.disruptionsAllowed}</b> eviction${b.disruptionsAllowed === 1 ? '' : 's'} allowed now${b.disruptionsAllowed > 0 ? '' : ' — a drain waits until another of its pods is ready'}</p>`,
    )
    .join('');
}

function renderSummary(): void {
  let ready = 0;
  for (const n of nodes.values()) if (n.ready === 'True') ready++;
  $('summary').textContent = `${ready}/${nodes.size} nodes Ready · ${pods.size} pods`;
  $('timing').textContent = timing
    ? `timing ${timing.preset}: node-monitor-grace-period ${timing.nodeMonitorGracePeriodMs / 1000}s, monitor period ${timing.nodeMonitorPeriodMs / 1000}s`
    : 'timing: not published yet';
  $('readonly').textContent = readOnlyReason ?? '';
}

function render(): void {
  rafPending = false;
  stats.renders++;
  renderNodes();
  if (pendingDirty || allDirty) renderPending();
  if (eventsDirty) renderEvents();
  if (detailDirty || allDirty) renderDetail();
  renderSummary();
  pendingDirty = eventsDirty = detailDirty = allDirty = false;
  stats.lastRenderAt = performance.now();
}

/** Countdowns: only the mounted boxes with something to count, and the detail panel. */
function tick(): void {
  for (const [name, el] of mounted) {
    const n = nodes.get(name);
    const cd = el.querySelector<HTMLElement>('.cd');
    if (!n || !cd) continue;
    const html = countdownHtml(n);
    if (cd.innerHTML !== html) cd.innerHTML = html;
  }
  const detailCd = document.querySelector<HTMLElement>('#detail .cd[data-cd-node]');
  if (detailCd) {
    const n = nodes.get(detailCd.dataset.cdNode ?? '');
    if (n) detailCd.innerHTML = countdownHtml(n);
  }
  for (const b of document.querySelectorAll<HTMLElement>('#detail [data-deadline]')) b.textContent = secs(Number(b.dataset.deadline) - now());
}

// ---------- input ----------
function select(kind: 'pod' | 'node', id: string): void {
  const prev = selected;
  selected = { kind, id };
  if (prev?.kind === 'node') dirtyNodes.add(prev.id);
  if (kind === 'node') dirtyNodes.add(id);
  if (prev?.kind === 'pod') {
    const pp = pods.get(prev.id);
    if (pp) markPod(pp);
  }
  if (kind === 'pod') {
    const p = pods.get(id);
    if (p) {
      markPod(p);
      scheduling = { podId: id, state: 'loading' };
      pendingScheduling.set(sendMsg({ t: 'scheduling', namespace: p.namespace, name: p.name }), id);
    }
  }
  detailDirty = eventsDirty = true;
  schedule();
}

document.addEventListener('click', (e) => {
  const t = e.target as HTMLElement;
  const podEl = t.closest<HTMLElement>('[data-id]');
  const nodeEl = t.closest<HTMLElement>('[data-select-node]');
  const ref = t.closest<HTMLElement>('[data-ref]');
  const btn = t.closest<HTMLButtonElement>('button[data-action]');
  const scaleBtn = t.closest<HTMLButtonElement>('button[data-scale]');
  if (btn) {
    act(btn.dataset.action ?? '', JSON.parse(btn.dataset.target ?? '{}') as Record<string, unknown>, btn.dataset.label ?? '');
  } else if (scaleBtn) {
    const target = JSON.parse(scaleBtn.dataset.scale ?? '{}') as Record<string, unknown>;
    const replicas = Number($<HTMLInputElement>('scale-n').value);
    act('scale', { ...target, replicas }, `${String(target.name)} to ${replicas} replicas`);
  } else if (podEl?.dataset.id) select('pod', podEl.dataset.id);
  else if (nodeEl?.dataset.selectNode) select('node', nodeEl.dataset.selectNode);
  else if (ref?.dataset.ref) {
    const [kind, ns, name] = ref.dataset.ref.split('/');
    if (kind === 'Pod' && pods.has(`pod/${ns}/${name}`)) select('pod', `pod/${ns}/${name}`);
    else if (kind === 'Node' && name && nodes.has(name)) select('node', name);
    else {
      $<HTMLInputElement>('filter').value = `${kind.toLowerCase()}/${name}`;
      eventsDirty = true;
      schedule();
    }
  }
});
$('filter').addEventListener('input', () => {
  eventsDirty = true;
  schedule();
});
$('chain-only').addEventListener('change', () => {
  eventsDirty = true;
  schedule();
});
$('nodes-scroll').addEventListener('scroll', schedule, { passive: true });
window.addEventListener('resize', () => {
  allDirty = true;
  schedule();
});

// Frames per second as the browser paints them (the benchmark reads stats.frames).
const countFrame = (): void => {
  stats.frames++;
  requestAnimationFrame(countFrame);
};
requestAnimationFrame(countFrame);
setInterval(tick, 100);
connect();
