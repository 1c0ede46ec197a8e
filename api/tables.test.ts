import { describe, expect, it } from 'vitest';
import type { KObject, core } from './types.js';
import { formatEndpoints, formatLabelSelector, humanDuration, nodeStatus, podReady, podRestarts, podStatus, serviceExternalIp, servicePorts, tableFor } from './tables.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');

function pod(p: Partial<core.Pod> & { status?: core.PodStatus }): core.Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', creationTimestamp: '2024-05-01T11:55:00Z', ...p.metadata },
    spec: { containers: [{ name: 'app', image: 'busybox' }], ...p.spec },
    status: p.status,
  };
}

const running = (name: string, ready = true): core.ContainerStatus => ({
  name,
  image: 'busybox',
  imageID: '',
  ready,
  restartCount: 0,
  state: { running: { startedAt: '2024-05-01T11:56:00Z' } },
});

describe('humanDuration', () => {
  it('prints durations as kubectl does', () => {
    expect(humanDuration(45_000)).toBe('45s');
    expect(humanDuration(119_000)).toBe('119s');
    expect(humanDuration(200_000)).toBe('3m20s');
    expect(humanDuration(30 * 60_000)).toBe('30m');
    expect(humanDuration(5 * 3600_000 + 7 * 60_000)).toBe('5h7m');
    expect(humanDuration(20 * 3600_000)).toBe('20h');
    expect(humanDuration(3 * 86400_000 + 4 * 3600_000)).toBe('3d4h');
    expect(humanDuration(100 * 86400_000)).toBe('100d');
    expect(humanDuration(-5000)).toBe('<invalid>');
  });
});

describe('pod status', () => {
  it('is the phase for a plain pending pod and ContainerCreating while the kubelet starts it', () => {
    expect(podStatus(pod({ status: { phase: 'Pending' } }))).toBe('Pending');
    const creating = pod({ status: { phase: 'Pending', containerStatuses: [{ ...running('app', false), state: { waiting: { reason: 'ContainerCreating' } } }] } });
    expect(podStatus(creating)).toBe('ContainerCreating');
  });

  it('shows Running, CrashLoopBackOff, ErrImagePull, Completed', () => {
    expect(podStatus(pod({ status: { phase: 'Running', containerStatuses: [running('app')] } }))).toBe('Running');
    const crash = { ...running('app', false), restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } };
    expect(podStatus(pod({ status: { phase: 'Running', containerStatuses: [crash] } }))).toBe('CrashLoopBackOff');
    const pull = { ...running('app', false), state: { waiting: { reason: 'ErrImagePull' } } };
    expect(podStatus(pod({ status: { phase: 'Pending', containerStatuses: [pull] } }))).toBe('ErrImagePull');
    const done = { ...running('app', false), state: { terminated: { exitCode: 0, reason: 'Completed' } } };
    expect(podStatus(pod({ status: { phase: 'Succeeded', containerStatuses: [done] } }))).toBe('Completed');
    const failed = { ...running('app', false), state: { terminated: { exitCode: 3 } } };
    expect(podStatus(pod({ status: { phase: 'Failed', containerStatuses: [failed] } }))).toBe('ExitCode:3');
  });

  it('shows init progress and Terminating', () => {
    const p = pod({
      spec: { initContainers: [{ name: 'init' }], containers: [{ name: 'app' }] },
      status: { phase: 'Pending', initContainerStatuses: [{ ...running('init', false), state: { running: {} } }] },
    });
    expect(podStatus(p)).toBe('Init:0/1');
    const t = pod({ metadata: { deletionTimestamp: '2024-05-01T12:00:30Z' }, status: { phase: 'Running', containerStatuses: [running('app')] } });
    expect(podStatus(t)).toBe('Terminating');
  });

  it('counts ready containers and restarts with the last restart age', () => {
    const p = pod({
      spec: { containers: [{ name: 'a' }, { name: 'b' }] },
      status: {
        phase: 'Running',
        containerStatuses: [
          running('a'),
          { ...running('b', false), restartCount: 2, lastState: { terminated: { exitCode: 1, finishedAt: '2024-05-01T11:58:00Z' } } },
        ],
      },
    });
    expect(podReady(p)).toBe('1/2');
    expect(podRestarts(p, NOW)).toBe('2 (2m ago)');
  });
});

describe('tableFor', () => {
  it('gives pods NAME READY STATUS RESTARTS AGE, and the wide columns only when asked', () => {
    const p = pod({ spec: { nodeName: 'worker-1', containers: [{ name: 'app' }] }, status: { phase: 'Running', podIP: '10.0.0.5', containerStatuses: [running('app')] } });
    const narrow = tableFor('pods', [p as KObject], { now: NOW });
    expect(narrow.columns.map((c) => c.name)).toEqual(['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    expect(narrow.rows[0].cells).toEqual(['p', '1/1', 'Running', '0', '5m']);
    const wide = tableFor('pods', [p as KObject], { now: NOW, wide: true });
    expect(wide.columns.filter((c) => c.priority === 1).map((c) => c.name)).toEqual(['IP', 'Node', 'Nominated Node', 'Readiness Gates']);
    expect(wide.rows[0].cells.slice(5)).toEqual(['10.0.0.5', 'worker-1', '<none>', '<none>']);
  });

  it('prints node status with SchedulingDisabled and roles', () => {
    const node: core.Node = {
      metadata: { name: 'n1', labels: { 'node-role.kubernetes.io/control-plane': '' }, creationTimestamp: '2024-05-01T10:00:00Z' },
      spec: { unschedulable: true },
      status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.32.0-kubelab' } as core.NodeSystemInfo },
    };
    expect(nodeStatus(node)).toBe('Ready,SchedulingDisabled');
    const t = tableFor('nodes', [node as KObject], { now: NOW });
    expect(t.rows[0].cells).toEqual(['n1', 'Ready,SchedulingDisabled', 'control-plane', '120m', 'v1.32.0-kubelab']);
    expect(nodeStatus({ status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } })).toBe('NotReady');
  });

  it('prints deployments, services and endpoints as kubectl does', () => {
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', creationTimestamp: '2024-05-01T11:59:00Z' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'c', image: 'nginx' }] } } }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } };
    expect(tableFor('deployments', [d], { now: NOW, wide: true }).rows[0].cells).toEqual(['web', '2/3', 3, 2, '60s', 'c', 'nginx', 'app=web']);
    const svc: core.Service = { spec: { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] } };
    expect(servicePorts(svc)).toBe('80:30080/TCP,53/UDP');
    expect(serviceExternalIp(svc)).toBe('<none>');
    expect(serviceExternalIp({ spec: { type: 'LoadBalancer' } })).toBe('<pending>');
    const ep: core.Endpoints = { subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }, { ip: '10.0.0.4' }], ports: [{ port: 80 }] }] };
    expect(formatEndpoints(ep)).toBe('10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...');
    expect(formatEndpoints({})).toBe('<none>');
    expect(formatLabelSelector({ matchLabels: { a: 'b' }, matchExpressions: [{ key: 'x', operator: 'In', values: ['1', '2'] }] })).toBe('a=b,x in (1,2)');
  });

  it('falls back to NAME AGE for resources without a printer', () => {
    const t = tableFor('widgets', [{ metadata: { name: 'w', creationTimestamp: '2024-05-01T11:00:00Z' } }], { now: NOW });
    expect(t.columns.map((c) => c.name)).toEqual(['Name', 'Age']);
    expect(t.rows[0].cells).toEqual(['w', '60m']);
  });
});
