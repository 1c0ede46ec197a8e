import { describe, expect, it } from 'vitest';
import type { core } from '../api/types.js';
import { activeDeadlineLeftMs, buildPodStatus, containerStatus, DEADLINE_EXCEEDED, ephemeralContainerStatus, isOwnStatusEcho, podPhase } from './status.js';
import type { RuntimeContainer } from './runtime/types.js';

const rc = (over: Partial<RuntimeContainer>): RuntimeContainer => ({
  id: 'abc',
  podUid: 'u',
  namespace: 'ns',
  podName: 'p',
  name: 'app',
  attempt: 0,
  state: 'running',
  createdAt: 1_700_000_000_000,
  startedAt: 1_700_000_001_000,
  image: 'busybox',
  imageId: 'sha256:1',
  ...over,
});
const spec: core.Container = { name: 'app', image: 'busybox' };
const st = (latest?: RuntimeContainer, extra: Partial<Parameters<typeof containerStatus>[0]> = {}): core.ContainerStatus =>
  containerStatus({ spec, latest, ready: true, started: true, runtime: 'docker', ...extra });

describe('containerStatus', () => {
  it('reports OOMKilled and Completed/Error reasons', () => {
    expect(st(rc({ state: 'exited', exitCode: 137, oomKilled: true, finishedAt: 1_700_000_002_000 })).state?.terminated?.reason).toBe('OOMKilled');
    expect(st(rc({ state: 'exited', exitCode: 0 })).state?.terminated?.reason).toBe('Completed');
    expect(st(rc({ state: 'exited', exitCode: 2 })).state?.terminated?.reason).toBe('Error');
  });

  it('shows a crash-looping container as waiting with its last termination', () => {
    const s = st(rc({ state: 'exited', exitCode: 1, attempt: 3 }), { waiting: { reason: 'CrashLoopBackOff' } });
    expect(s.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(s.lastState?.terminated?.exitCode).toBe(1);
    expect(s.restartCount).toBe(3);
  });
});

describe('podPhase', () => {
  const running = st(rc({}));
  const done = st(rc({ state: 'exited', exitCode: 0 }));
  const failed = st(rc({ state: 'exited', exitCode: 1 }));
  const waiting = st(undefined);
  it('follows the kubelet rules', () => {
    expect(podPhase({ containers: [spec] }, [], [waiting])).toBe('Pending');
    expect(podPhase({ containers: [spec] }, [], [running])).toBe('Running');
    expect(podPhase({ containers: [spec], restartPolicy: 'Never' }, [], [done])).toBe('Succeeded');
    expect(podPhase({ containers: [spec], restartPolicy: 'Never' }, [], [failed])).toBe('Failed');
    expect(podPhase({ containers: [spec], restartPolicy: 'OnFailure' }, [], [failed])).toBe('Running');
    expect(podPhase({ containers: [spec], restartPolicy: 'Never' }, [failed], [waiting])).toBe('Failed');
    expect(podPhase({ containers: [spec] }, [running], [waiting])).toBe('Pending');
  });
});

describe('isOwnStatusEcho', () => {
  const pod = (rv: string, status: core.PodStatus, over: Partial<core.Pod> = {}): core.Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', uid: 'u', resourceVersion: rv },
    spec: { containers: [{ name: 'app', image: 'busybox' }] },
    status,
    ...over,
  });
  const running: core.PodStatus = { phase: 'Running', podIP: '10.0.0.2' };

  it('recognises the kubelet’s own status write coming back', () => {
    expect(isOwnStatusEcho(pod('1', { phase: 'Pending' }), pod('2', running), running)).toBe(true);
  });

  it('is not an echo when anything but that status changed', () => {
    expect(isOwnStatusEcho(pod('1', {}), pod('2', { phase: 'Running', podIP: '10.0.0.3' }), running)).toBe(false);
    expect(isOwnStatusEcho(pod('1', {}), pod('2', running), undefined)).toBe(false);
    const deleting = pod('2', running);
    deleting.metadata = { ...deleting.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' };
    expect(isOwnStatusEcho(pod('1', {}), deleting, running)).toBe(false);
    expect(isOwnStatusEcho(pod('1', {}), pod('2', running, { spec: { containers: [{ name: 'app', image: 'other' }] } }), running)).toBe(false);
  });
});

describe('activeDeadlineLeftMs', () => {
  const start = '2026-01-01T00:00:00Z';
  const t0 = Date.parse(start);
  it('counts activeDeadlineSeconds from status.startTime', () => {
    const spec = { containers: [spec0()], activeDeadlineSeconds: 3 };
    expect(activeDeadlineLeftMs(spec, start, t0 + 1000)).toBe(2000);
    expect(activeDeadlineLeftMs(spec, start, t0 + 3000)).toBe(0);
    expect(activeDeadlineLeftMs(spec, start, t0 + 4500)).toBe(-1500);
  });
  it('has no deadline without activeDeadlineSeconds or before the pod has a start time', () => {
    expect(activeDeadlineLeftMs({ containers: [spec0()] }, start, t0)).toBeUndefined();
    expect(activeDeadlineLeftMs({ containers: [spec0()], activeDeadlineSeconds: 3 }, undefined, t0)).toBeUndefined();
  });
  function spec0(): core.Container {
    return { name: 'app', image: 'busybox' };
  }
});

describe('buildPodStatus', () => {
  const base = (status?: core.PodStatus): core.Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', uid: 'u' },
    spec: { containers: [spec], restartPolicy: 'Always' },
    ...(status ? { status } : {}),
  });
  const killed = st(rc({ state: 'exited', exitCode: 137 }), { ready: false });
  const input = (pod: core.Pod, extra: Partial<Parameters<typeof buildPodStatus>[0]> = {}): Parameters<typeof buildPodStatus>[0] => ({
    pod,
    init: [],
    app: [killed],
    hostIp: '10.0.0.1',
    now: 1_700_000_000_000,
    qosClass: 'BestEffort',
    ...extra,
  });

  it('fails an evicted pod with the eviction reason and message, not ready', () => {
    const s = buildPodStatus(input(base({ phase: 'Running', startTime: '2023-11-14T22:13:20Z' }), { evicted: DEADLINE_EXCEEDED }));
    expect(s.phase).toBe('Failed');
    expect(s.reason).toBe('DeadlineExceeded');
    expect(s.message).toBe('Pod was active on the node longer than the specified deadline');
    expect(s.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  });

  it('keeps a terminal phase and its reason although restartPolicy Always would restart the containers', () => {
    const s = buildPodStatus(input(base({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'm' })));
    expect(s).toMatchObject({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'm' });
  });

  it('sets no reason on a pod that runs', () => {
    const s = buildPodStatus(input(base({ phase: 'Pending' }), { app: [st(rc({}))] }));
    expect(s.phase).toBe('Running');
    expect(s.reason).toBeUndefined();
  });

  it('reports ephemeral containers apart: never ready, no started flag, no effect on phase or readiness', () => {
    const debug: core.EphemeralContainer = { name: 'debugger', image: 'busybox', targetContainerName: 'app' };
    const running = ephemeralContainerStatus(debug, rc({ id: 'dbg', name: 'debugger' }), undefined, 'docker');
    expect(running).toEqual({
      name: 'debugger',
      image: 'busybox',
      imageID: 'docker-pullable://sha256:1',
      restartCount: 0,
      containerID: 'docker://dbg',
      ready: false,
      state: { running: { startedAt: '2023-11-14T22:13:21Z' } },
      lastState: {},
    });
    const done = ephemeralContainerStatus(debug, rc({ id: 'dbg', name: 'debugger', state: 'exited', exitCode: 0 }), undefined, 'docker');
    expect(done.state?.terminated?.reason).toBe('Completed');
    const waiting = ephemeralContainerStatus(debug, undefined, { reason: 'CreateContainerConfigError', message: 'unable to find target container app' }, 'docker');
    expect(waiting.state?.waiting?.reason).toBe('CreateContainerConfigError');
    const s = buildPodStatus(input(base({ phase: 'Running' }), { app: [st(rc({}))], ephemeral: [done] }));
    expect(s.phase).toBe('Running');
    expect(s.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(s.ephemeralContainerStatuses).toEqual([done]);
    expect(buildPodStatus(input(base({ phase: 'Running' }))).ephemeralContainerStatuses).toBeUndefined();
  });
});
