import { describe, expect, it } from 'vitest';
import { FakeClock } from '../component-base/clock.js';
import type { core } from '../api/types.js';
import { computePodActions, type PodActions, type PodActionsContext } from './actions.js';
import { Backoff } from './backoff.js';
import { generatePodStatus } from './podstatus.js';
import { SANDBOX, type RuntimeContainer } from './runtime/types.js';

const UID = 'uid-1';
const INITIAL_MS = 10_000;
const MAX_MS = 40_000;
const RESET_MS = 600_000;

/** A pod as the kubelet receives it (defaults applied). */
function pod(spec: Partial<core.PodSpec> = {}, status: core.PodStatus = {}): core.Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', uid: UID },
    spec: { containers: [{ name: 'app', image: 'busybox' }], restartPolicy: 'Always', terminationGracePeriodSeconds: 30, ...spec },
    status,
  };
}

/** The node as the hollow runtime reports it: containers with its labels' shape, times from the fake clock. */
class Node {
  readonly containers: RuntimeContainer[] = [];
  private n = 0;

  constructor(private readonly clock: FakeClock) {}

  add(name: string, state: RuntimeContainer['state'], over: Partial<RuntimeContainer> = {}): RuntimeContainer {
    const now = this.clock.now();
    const c: RuntimeContainer = {
      id: `c${++this.n}`,
      podUid: UID,
      namespace: 'ns',
      podName: 'p',
      name,
      attempt: 0,
      state,
      createdAt: now,
      image: name === SANDBOX ? 'kubelab/pause:latest' : 'busybox',
      imageId: name === SANDBOX ? 'sha256:hollow-kubelab/pause:latest' : 'sha256:hollow-busybox',
      graceSeconds: 30,
      ...(state === 'running' || state === 'exited' ? { startedAt: now } : {}),
      ...(state === 'exited' ? { finishedAt: now, exitCode: 0 } : {}),
      ...(name === SANDBOX ? { ip: '10.1.0.1' } : {}),
      ...over,
    };
    this.containers.push(c);
    return c;
  }

  /** A running sandbox plus the given containers. */
  static with(clock: FakeClock, ...cs: [string, RuntimeContainer['state'], Partial<RuntimeContainer>?][]): Node {
    const node = new Node(clock);
    node.add(SANDBOX, 'running');
    for (const [name, state, over] of cs) node.add(name, state, over);
    return node;
  }
}

interface Harness {
  clock: FakeClock;
  backoff: Backoff;
  ctx(over?: Partial<PodActionsContext>): PodActionsContext;
}

function harness(): Harness {
  const clock = new FakeClock();
  const backoff = new Backoff({ initialMs: INITIAL_MS, maxMs: MAX_MS, resetMs: RESET_MS }, clock);
  return {
    clock,
    backoff,
    ctx: (over = {}) => ({ now: clock.now(), status: undefined, crashBackoff: backoff, backoffResetMs: RESET_MS, probeFailure: () => undefined, ...over }),
  };
}

/** What a user would read off the actions: names to start/kill, and the pod-level decisions. */
function summary(a: PodActions): Record<string, unknown> {
  return {
    killPod: a.killPod?.reason,
    createSandbox: a.createSandbox !== undefined,
    init: a.nextInitContainer?.container.name,
    start: a.containersToStart.map((s) => `${s.container.name}#${s.attempt}`),
    kill: a.containersToKill.map((k) => k.container.name),
    ephemeral: a.ephemeralToStart.map((e) => e.container.name),
    waiting: Object.fromEntries([...a.waiting].map(([n, w]) => [n, w.reason])),
  };
}

describe('computePodActions: restart policy × exit code', () => {
  const table: { policy: 'Always' | 'OnFailure' | 'Never'; exitCode: number; restart: boolean }[] = [
    { policy: 'Always', exitCode: 0, restart: true },
    { policy: 'Always', exitCode: 1, restart: true },
    { policy: 'Always', exitCode: 137, restart: true },
    { policy: 'OnFailure', exitCode: 0, restart: false },
    { policy: 'OnFailure', exitCode: 1, restart: true },
    { policy: 'OnFailure', exitCode: 137, restart: true },
    { policy: 'Never', exitCode: 0, restart: false },
    { policy: 'Never', exitCode: 1, restart: false },
  ];
  it.each(table)('restartPolicy $policy, exit $exitCode → restart $restart', ({ policy, exitCode, restart }) => {
    const h = harness();
    const node = Node.with(h.clock, ['app', 'exited', { exitCode, attempt: 2 }]);
    const a = computePodActions(pod({ restartPolicy: policy }), node.containers, h.ctx());
    expect(summary(a)).toMatchObject({ killPod: undefined, createSandbox: false, start: restart ? ['app#3'] : [], waiting: {} });
    if (restart) expect(a.containersToStart[0]?.backoff).toEqual({ key: `${UID}/app`, reset: false });
  });

  it('starts a container that never ran with attempt 0 and no back-off, and resumes one only created', () => {
    const h = harness();
    const node = Node.with(h.clock, ['sidecar', 'created']);
    const a = computePodActions(pod({ containers: [{ name: 'app' }, { name: 'sidecar' }] }), node.containers, h.ctx());
    expect(a.containersToStart).toEqual([{ container: { name: 'app' }, attempt: 0 }]);
    expect(a.containersToResume.map((c) => c.name)).toEqual(['sidecar']);
  });

  it('with a new sandbox, replaces a container created in the old one instead of resuming it', () => {
    const h = harness();
    const node = new Node(h.clock);
    node.add(SANDBOX, 'exited');
    const stale = node.add('app', 'created');
    const a = computePodActions(pod(), node.containers, h.ctx());
    expect(a.createSandbox).toEqual({ attempt: 1, kill: [stale] });
    expect(a.containersToResume).toEqual([]);
    expect(a.containersToStart.map((s) => `${s.container.name}#${s.attempt}`)).toEqual(['app#1']);
  });

  it('leaves a running container alone', () => {
    const h = harness();
    const a = computePodActions(pod(), Node.with(h.clock, ['app', 'running']).containers, h.ctx());
    expect(summary(a)).toEqual({ killPod: undefined, createSandbox: false, init: undefined, start: [], kill: [], ephemeral: [], waiting: {} });
    expect(a.requeueAfterMs).toBeUndefined();
  });
});

describe('computePodActions: crash-loop back-off', () => {
  it('restarts at once, then waits 10 s, 20 s, 40 s, and stays capped at 40 s', async () => {
    const h = harness();
    const p = pod();
    const node = Node.with(h.clock, ['app', 'exited', { exitCode: 1 }]);
    const waits: number[] = [];
    for (let round = 0; round < 5; round++) {
      let a = computePodActions(p, node.containers, h.ctx());
      let waited = 0;
      while (a.containersToStart.length === 0) {
        // The sync comes back when the back-off ends (retryMs), not by polling.
        expect(a.waiting.get('app')?.reason).toBe('CrashLoopBackOff');
        const retry = a.requeueAfterMs ?? 0;
        expect(retry).toBeGreaterThan(0);
        await h.clock.advance(retry);
        waited += retry;
        a = computePodActions(p, node.containers, h.ctx());
      }
      waits.push(Math.round(waited / 1000) * 1000);
      // The executor records the restart; the new container crashes at once.
      const s = a.containersToStart[0];
      if (s?.backoff) h.backoff.next(s.backoff.key);
      node.add('app', 'exited', { exitCode: 1, attempt: s?.attempt ?? 0 });
    }
    expect(waits).toEqual([0, 10_000, 20_000, 40_000, 40_000]);
  });

  it('says how long it backs off in the waiting message, as kubectl shows it', () => {
    const h = harness();
    h.backoff.next(`${UID}/app`);
    h.backoff.next(`${UID}/app`);
    const a = computePodActions(pod(), Node.with(h.clock, ['app', 'exited', { exitCode: 2, attempt: 2 }]).containers, h.ctx());
    expect(a.waiting.get('app')).toEqual({ reason: 'CrashLoopBackOff', message: `back-off 20s restarting failed container=app pod=p_ns(${UID})` });
    expect(a.requeueAfterMs).toBe(20_020);
  });

  it('forgets the back-off of a container that ran longer than the reset period', () => {
    const h = harness();
    h.backoff.next(`${UID}/app`);
    const started = h.clock.now() - RESET_MS;
    const a = computePodActions(pod(), Node.with(h.clock, ['app', 'exited', { exitCode: 1, startedAt: started, attempt: 4 }]).containers, h.ctx());
    expect(summary(a).start).toEqual(['app#5']);
    expect(a.containersToStart[0]?.backoff).toEqual({ key: `${UID}/app`, reset: true });
  });

  it('shows CrashLoopBackOff in the status while waiting, and not once the pod is stopping', () => {
    const h = harness();
    h.backoff.next(`${UID}/app`);
    const node = Node.with(h.clock, ['app', 'exited', { exitCode: 1, attempt: 1 }]);
    const statusCtx = { now: h.clock.now(), crashBackoff: h.backoff, backoffResetMs: RESET_MS, previous: undefined, waiting: new Map(), probeState: () => undefined, runtimeKind: 'hollow' as const, podIp: '10.1.0.1', hostIp: '10.0.0.1', qosClass: 'BestEffort' };
    const waiting = generatePodStatus(pod(), node.containers, { ...statusCtx, stopping: false });
    expect(waiting.containerStatuses?.[0]?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    const stopping = generatePodStatus(pod(), node.containers, { ...statusCtx, stopping: true });
    expect(stopping.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(1);
  });
});

describe('computePodActions: init containers', () => {
  const spec = (restartPolicy: 'Always' | 'Never'): Partial<core.PodSpec> => ({ restartPolicy, initContainers: [{ name: 'init-1' }, { name: 'init-2' }] });

  it('runs init containers one at a time, in order, before any app container', () => {
    const h = harness();
    const node = Node.with(h.clock);
    const steps: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const a = computePodActions(pod(spec('Always')), node.containers, h.ctx());
      steps.push(summary(a));
      // Pure: the same inputs give the same actions.
      expect(computePodActions(pod(spec('Always')), node.containers, h.ctx())).toEqual(a);
      const next = a.nextInitContainer?.container.name;
      if (next) node.add(next, 'exited', { exitCode: 0 });
    }
    expect(steps.map((s) => [(s as { init?: string }).init, (s as { start: string[] }).start])).toEqual([
      ['init-1', []],
      ['init-2', []],
      [undefined, ['app#0']],
    ]);
  });

  it('waits for a running init container', () => {
    const h = harness();
    const a = computePodActions(pod(spec('Always')), Node.with(h.clock, ['init-1', 'running']).containers, h.ctx());
    expect(summary(a)).toMatchObject({ init: undefined, start: [] });
  });

  it('restarts a failed init container under restartPolicy Always (with back-off)', () => {
    const h = harness();
    const a = computePodActions(pod(spec('Always')), Node.with(h.clock, ['init-1', 'exited', { exitCode: 1 }]).containers, h.ctx());
    expect(a.nextInitContainer).toMatchObject({ container: { name: 'init-1' }, attempt: 1, backoff: { key: `${UID}/init-1` } });
    h.backoff.next(`${UID}/init-1`);
    const held = computePodActions(pod(spec('Always')), Node.with(h.clock, ['init-1', 'exited', { exitCode: 1, attempt: 1 }]).containers, h.ctx());
    expect(summary(held)).toMatchObject({ init: undefined, waiting: { 'init-1': 'CrashLoopBackOff' } });
  });

  it('fails the pod when an init container fails under restartPolicy Never, starting nothing more', () => {
    const h = harness();
    const node = Node.with(h.clock, ['init-1', 'exited', { exitCode: 1 }]);
    const a = computePodActions(pod(spec('Never')), node.containers, h.ctx());
    expect(summary(a)).toMatchObject({ init: undefined, start: [], waiting: {} });
    const status = generatePodStatus(pod(spec('Never')), node.containers, {
      now: h.clock.now(),
      crashBackoff: h.backoff,
      backoffResetMs: RESET_MS,
      previous: undefined,
      waiting: a.waiting,
      stopping: a.stopping,
      probeState: () => undefined,
      runtimeKind: 'hollow',
      podIp: '10.1.0.1',
      hostIp: '10.0.0.1',
      qosClass: 'BestEffort',
    });
    expect(status.phase).toBe('Failed');
  });
});

describe('computePodActions: probes, deadline, sandbox, ephemeral containers', () => {
  it('kills a container whose liveness probe failed, with the pod grace period, and restarts it next sync', () => {
    const h = harness();
    const node = Node.with(h.clock, ['app', 'running']);
    const id = node.containers[1]?.id;
    const failed = (cid: string): string | undefined => (cid === id ? 'Liveness probe failed: HTTP probe failed with statuscode: 500' : undefined);
    const a = computePodActions(pod({ terminationGracePeriodSeconds: 5 }), node.containers, h.ctx({ probeFailure: failed }));
    expect(a.containersToKill.map((k) => [k.container.id, k.graceMs])).toEqual([[id, 5000]]);
    expect(a.events).toEqual([{ type: 'Normal', reason: 'Killing', message: 'Container app failed liveness probe, will be restarted' }]);
    expect(a.containersToStart).toEqual([]);
    // The kill lands (exit 143); the next sync restarts it (Always), the first restart without delay.
    const after = Node.with(h.clock, ['app', 'exited', { exitCode: 143 }]);
    expect(summary(computePodActions(pod(), after.containers, h.ctx())).start).toEqual(['app#1']);
  });

  it('kills the pod once activeDeadlineSeconds has passed, and asks to come back at the deadline before', async () => {
    const h = harness();
    const startTime = new Date(h.clock.now()).toISOString();
    const p = pod({ activeDeadlineSeconds: 60 }, { phase: 'Running', startTime });
    const node = Node.with(h.clock, ['app', 'running']);
    await h.clock.advance(59_999);
    const before = computePodActions(p, node.containers, h.ctx({ status: p.status }));
    expect(before.killPod).toBeUndefined();
    await h.clock.advance(1);
    const a = computePodActions(p, node.containers, h.ctx({ status: p.status }));
    expect(a.killPod).toEqual({ reason: 'evicted', graceMs: 30_000 });
    expect(a.evicted?.reason).toBe('DeadlineExceeded');
    expect(a.stopping).toBe(true);
    expect(summary(a)).toMatchObject({ createSandbox: false, start: [], kill: [] });
  });

  it('kills every running container of a finished pod and starts nothing', () => {
    const h = harness();
    const p = pod({ restartPolicy: 'Never' }, { phase: 'Succeeded' });
    const a = computePodActions(p, Node.with(h.clock, ['app', 'exited']).containers, h.ctx({ status: p.status }));
    expect(summary(a)).toMatchObject({ killPod: 'finished', createSandbox: false, start: [] });
  });

  it('recreates a dead sandbox: stops what still runs, then restarts every container', () => {
    const h = harness();
    const node = new Node(h.clock);
    node.add(SANDBOX, 'exited', { attempt: 2 });
    node.add('app', 'running');
    node.add('sidecar', 'exited', { exitCode: 0 });
    const p = pod({ containers: [{ name: 'app' }, { name: 'sidecar' }] });
    const a = computePodActions(p, node.containers, h.ctx());
    expect(a.createSandbox?.attempt).toBe(3);
    expect(a.createSandbox?.kill.map((c) => c.name)).toEqual(['app']);
    expect(summary(a).start).toEqual(['sidecar#1']);
    // Next sync: the new sandbox runs, the stopped container is restarted too.
    const next = new Node(h.clock);
    next.add(SANDBOX, 'running', { attempt: 3 });
    next.add('app', 'exited', { exitCode: 143 });
    next.add('sidecar', 'running', { attempt: 1 });
    const b = computePodActions(p, next.containers, h.ctx());
    expect(summary(b)).toMatchObject({ createSandbox: false, start: ['app#1'] });
  });

  it('creates the first sandbox with attempt 0', () => {
    const h = harness();
    const a = computePodActions(pod(), [], h.ctx());
    expect(a.createSandbox).toEqual({ attempt: 0, kill: [] });
    expect(summary(a).start).toEqual(['app#0']);
  });

  it('starts an ephemeral container once, even before initialization, joining its target', () => {
    const h = harness();
    const p = pod({ initContainers: [{ name: 'init' }], ephemeralContainers: [{ name: 'debug', targetContainerName: 'init' }] });
    const node = Node.with(h.clock, ['init', 'running']);
    const a = computePodActions(p, node.containers, h.ctx());
    expect(a.ephemeralToStart).toEqual([{ container: { name: 'debug', targetContainerName: 'init' }, targetId: node.containers[1]?.id }]);
    node.add('debug', 'exited', { exitCode: 0 });
    expect(computePodActions(p, node.containers, h.ctx()).ephemeralToStart).toEqual([]);
  });

  it('holds an ephemeral container whose target does not exist yet, and looks again in a second', () => {
    const h = harness();
    const p = pod({ ephemeralContainers: [{ name: 'debug', targetContainerName: 'app' }] });
    const a = computePodActions(p, Node.with(h.clock).containers, h.ctx());
    expect(a.ephemeralToStart).toEqual([]);
    expect(a.waiting.get('debug')).toEqual({ reason: 'CreateContainerConfigError', message: 'unable to find target container app' });
    expect(a.requeueAfterMs).toBe(1000);
  });
});
