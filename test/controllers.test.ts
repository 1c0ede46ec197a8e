/**
 * The controller-manager against a real apiserver and etcd, with fake nodes (test/support/fakekubelet.ts)
 * and a fake scheduler: the behaviour a user of the lab notices (pods replaced, rollouts bounded,
 * cascading deletion, node loss healed).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../client/api.js';
import { isNotFound } from '../api/errors.js';
import { isPodReady } from '../api/objects.js';
import type { apps, core } from '../api/types.js';
import { compileControllerManagerConfig, startControllerManager } from '../controller-manager/index.js';
import { rollbackDeployment } from '../cli/commands/rollout.js';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';
import { exitsWith, startFakeNodes, startFakeScheduler, type FakeNodes } from './support/fakekubelet.js';
import { waitFor } from './support/wait.js';

let cp: TestControlPlane;
let client: ApiClient;
let nodes: FakeNodes;
let scheduler: { close(): Promise<void> };
const cm = new AbortController();
let cmDone: Promise<void>;
let firstLeading = false;
let cmAdminPort = 0;
const standby = new AbortController();
let standbyDone: Promise<void> | undefined;

beforeAll(async () => {
  // The lab preset, with the apiserver's default tolerations shortened as the lab does.
  cp = await startControlPlane({ defaultTolerationSeconds: 2 });
  client = cp.client;
  nodes = await startFakeNodes(cp.address, ['node-a', 'node-b', 'node-c'], { leaseRenewMs: 500 });
  scheduler = await startFakeScheduler(cp.address);
  const cfg = compileControllerManagerConfig({
    apiserver: cp.address,
    adminPort: 0,
    bindAddress: '127.0.0.1',
    timing: 'lab',
    leaderElect: true,
    nodeMonitorGracePeriodMs: 3000,
    nodeMonitorPeriodMs: 500,
    jobBackoffBaseMs: 200,
  });
  cmDone = startControllerManager(cfg, cm.signal, { onLeading: (l) => (firstLeading = l), onAdmin: (a) => (cmAdminPort = a.port) });
  await waitFor(() => firstLeading, { what: 'first controller-manager leading' });
});

afterAll(async () => {
  cm.abort();
  standby.abort();
  await standbyDone?.catch(() => undefined);
  await cmDone?.catch(() => undefined);
  await scheduler?.close();
  await nodes?.close();
  await cp?.stop();
});

async function namespace(name: string): Promise<string> {
  await client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

function template(labels: Record<string, string>, image = 'kubelab/busybox:latest', annotations?: Record<string, string>): core.PodTemplateSpec {
  return {
    metadata: { labels, ...(annotations ? { annotations } : {}) },
    spec: { containers: [{ name: 'c', image, command: ['sleep', '3600'] }], terminationGracePeriodSeconds: 1 },
  };
}

async function activePods(ns: string, selector: string): Promise<core.Pod[]> {
  const list = await client.list('pods', { namespace: ns, labelSelector: selector });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
}

describe('replicaset', () => {
  it('replaces a deleted pod and keeps exactly the desired count', async () => {
    const ns = await namespace('rs-heal');
    await client.create('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web', namespace: ns },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }) },
    });
    const first = await waitFor(async () => {
      const pods = await activePods(ns, 'app=web');
      return pods.length === 3 && pods.every(isPodReady) && pods;
    }, { what: '3 ready pods' });
    const victim = first[0].metadata?.name ?? '';
    await client.delete('pods', victim, { namespace: ns });
    const after = await waitFor(async () => {
      const pods = await activePods(ns, 'app=web');
      return pods.length === 3 && pods.every(isPodReady) && !pods.some((p) => p.metadata?.name === victim) && pods;
    }, { what: 'replacement pod' });
    expect(after.every((p) => p.metadata?.ownerReferences?.[0]?.kind === 'ReplicaSet')).toBe(true);
    const rs = await waitFor(async () => {
      const r = await client.get('replicasets', 'web', { namespace: ns });
      return r.status?.readyReplicas === 3 && r.status.availableReplicas === 3 && r;
    }, { what: 'rs status' });
    expect(rs.status?.observedGeneration).toBe(rs.metadata?.generation);
    const events = await client.list('events', { namespace: ns });
    expect(events.items.some((e) => e.reason === 'SuccessfulCreate')).toBe(true);
    // Never more than 3: the expectations held off a second creation while the watch caught up.
    const all = await client.list('pods', { namespace: ns });
    expect(all.items.filter((p) => !p.metadata?.deletionTimestamp).length).toBe(3);
  });

  it('adopts a matching bare pod instead of creating one, and lets go of a pod relabelled out of its selector', async () => {
    const ns = await namespace('rs-adopt');
    const bare = await client.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare', namespace: ns, labels: { app: 'adopt' } }, spec: template({}).spec });
    await client.create('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'adopt', namespace: ns },
      spec: { replicas: 2, selector: { matchLabels: { app: 'adopt' } }, template: template({ app: 'adopt' }) },
    });
    const rs = await client.get('replicasets', 'adopt', { namespace: ns });
    const owned = await waitFor(async () => {
      const pods = await activePods(ns, 'app=adopt');
      return pods.length === 2 && pods.every((p) => p.metadata?.ownerReferences?.some((r) => r.controller && r.uid === rs.metadata?.uid)) && pods;
    }, { what: 'the bare pod adopted and one more created' });
    expect(owned.map((p) => p.metadata?.name)).toContain('bare');
    expect(bare.metadata?.uid).toBe(owned.find((p) => p.metadata?.name === 'bare')?.metadata?.uid);
    // Relabelled out of the selector: released (no owner) and replaced.
    await client.patch('pods', 'bare', { metadata: { labels: { app: 'elsewhere' } } }, { namespace: ns });
    await waitFor(async () => {
      const freed = await client.get('pods', 'bare', { namespace: ns });
      const pods = await activePods(ns, 'app=adopt');
      return !freed.metadata?.ownerReferences?.length && pods.length === 2 && !pods.some((p) => p.metadata?.name === 'bare');
    }, { what: 'the relabelled pod released and replaced' });
  });
});

describe('poison objects', () => {
  it('a ReplicaSet whose reconcile throws gets a FailedSync event and retries while its neighbours are reconciled', async () => {
    const ns = await namespace('rs-poison');
    // Stored around the apiserver (an older version, a hand edit of etcd): a selector expression that is null.
    const bad = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'bad', namespace: ns, uid: randomUUID(), generation: 1, creationTimestamp: new Date().toISOString() },
      spec: { replicas: 1, selector: { matchLabels: { app: 'bad' }, matchExpressions: [null] }, template: template({ app: 'bad' }) },
    };
    await cp.apiserver.storage.etcd.put(`/registry/replicasets/${ns}/bad`).value(JSON.stringify(bad));
    const event = await waitFor(
      async () => (await client.list('events', { namespace: ns })).items.find((e) => e.reason === 'FailedSync' && e.involvedObject.name === 'bad'),
      { what: 'a FailedSync event on the poison ReplicaSet' },
    );
    expect(event.type).toBe('Warning');
    expect(event.involvedObject.kind).toBe('ReplicaSet');
    expect(event.message).toMatch(/^Error syncing replicaset rs-poison\/bad: /);
    await client.create('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'good', namespace: ns },
      spec: { replicas: 2, selector: { matchLabels: { app: 'good' } }, template: template({ app: 'good' }) },
    });
    await waitFor(async () => (await activePods(ns, 'app=good')).length === 2, { what: '2 pods of the good ReplicaSet' });
    // The poison key is retried with backoff: the event's count grows instead of a new event per attempt.
    await waitFor(
      async () => ((await client.list('events', { namespace: ns })).items.find((e) => e.reason === 'FailedSync' && e.involvedObject.name === 'bad')?.count ?? 0) > 1,
      { what: 'the poison ReplicaSet to be retried' },
    );
    expect(await activePods(ns, 'app=bad')).toHaveLength(0);
    await cp.apiserver.storage.etcd.delete().key(`/registry/replicasets/${ns}/bad`).exec();
  });
});

describe('deployment', () => {
  it('rolls out within maxSurge/maxUnavailable on every watch event, and rolls back to the previous template', async () => {
    const ns = await namespace('deploy-roll');
    const replicas = 4;
    await client.create('deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: {
        replicas,
        selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
        template: template({ app: 'web' }, 'kubelab/busybox:v1'),
      },
    });
    const done = (image: string) => async () => {
      const d = await client.get('deployments', 'web', { namespace: ns });
      const pods = await activePods(ns, 'app=web');
      const s = d.status;
      return (
        s?.observedGeneration === d.metadata?.generation && s?.updatedReplicas === replicas && s?.availableReplicas === replicas && s?.replicas === replicas &&
        pods.length === replicas && pods.every((p) => p.spec?.containers[0].image === image && isPodReady(p)) && d
      );
    };
    const first = await waitFor(done('kubelab/busybox:v1'), { what: 'first rollout' });
    expect(first.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(first.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');

    // Watch every pod event during the update and check the bounds on each.
    const ctl = new AbortController();
    const seen = new Map<string, core.Pod>();
    const violations: string[] = [];
    let events = 0;
    const list = await client.list('pods', { namespace: ns });
    for (const p of list.items) seen.set(p.metadata?.name ?? '', p);
    const watching = (async () => {
      for await (const ev of client.watch('pods', { namespace: ns, resourceVersion: list.metadata.resourceVersion, signal: ctl.signal })) {
        if (ev.type === 'BOOKMARK') continue;
        events++;
        if (ev.type === 'DELETED') seen.delete(ev.object.metadata?.name ?? '');
        else seen.set(ev.object.metadata?.name ?? '', ev.object);
        const active = [...seen.values()].filter((p) => !p.metadata?.deletionTimestamp);
        const available = active.filter(isPodReady).length;
        if (active.length > replicas + 1) violations.push(`${active.length} pods > ${replicas}+1 surge`);
        if (available < replicas - 1) violations.push(`${available} available < ${replicas}-1`);
      }
    })().catch(() => undefined);
    await client.patch('deployments', 'web', { spec: { template: { spec: { containers: [{ name: 'c', image: 'kubelab/busybox:v2', command: ['sleep', '3600'] }] } } } }, { namespace: ns });
    const second = await waitFor(done('kubelab/busybox:v2'), { what: 'rollout to v2' });
    ctl.abort();
    await watching;
    expect(events).toBeGreaterThan(8);
    expect(violations).toEqual([]);
    expect(second.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    const rss = await client.list('replicasets', { namespace: ns });
    expect(rss.items).toHaveLength(2);
    expect(rss.items.every((rs) => rs.metadata?.labels?.['pod-template-hash'] && rs.metadata.name === `web-${rs.metadata.labels['pod-template-hash']}`)).toBe(true);
    const evs = await client.list('events', { namespace: ns });
    expect(evs.items.some((e) => e.reason === 'ScalingReplicaSet' && /^Scaled up replica set web-\w+ to \d+$/.test(e.message ?? ''))).toBe(true);

    // Rollback as `kubelab rollout undo` does: the old template comes back as revision 3.
    const restored = await rollbackDeployment(client, ns, 'web');
    expect(restored).toBe(1);
    const third = await waitFor(done('kubelab/busybox:v1'), { what: 'rollback to v1' });
    expect(third.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect((await client.list('replicasets', { namespace: ns })).items).toHaveLength(2);
  });

  it('scales proportionally through the scale subresource and pauses', async () => {
    const ns = await namespace('deploy-scale');
    await client.create('deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: ns },
      spec: { replicas: 2, selector: { matchLabels: { app: 'api' } }, template: template({ app: 'api' }) },
    });
    await waitFor(async () => (await activePods(ns, 'app=api')).filter(isPodReady).length === 2, { what: '2 pods' });
    await client.patch('deployments', 'api', { spec: { paused: true } }, { namespace: ns });
    await client.patch('deployments', 'api', { spec: { template: { metadata: { labels: { app: 'api', v: '2' } } } } }, { namespace: ns });
    await client.patch('deployments', 'api', { spec: { replicas: 5 } }, { namespace: ns, subresource: 'scale' });
    const d = await waitFor(async () => {
      const d = await client.get('deployments', 'api', { namespace: ns });
      return d.status?.availableReplicas === 5 && d;
    }, { what: 'scaled to 5 while paused' });
    expect(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('DeploymentPaused');
    // Paused: no new ReplicaSet for the changed template.
    expect((await client.list('replicasets', { namespace: ns })).items).toHaveLength(1);
    expect((await activePods(ns, 'app=api')).every((p) => p.metadata?.labels?.v === undefined)).toBe(true);
  });
});

async function deployment(ns: string, name: string, replicas: number): Promise<void> {
  await client.create('deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: template({ app: name }) },
  });
  await waitFor(async () => (await activePods(ns, `app=${name}`)).filter(isPodReady).length === replicas, { what: `${name} pods` });
}

describe('garbage collection', () => {
  it('background deletion removes the ReplicaSets and pods of a Deployment; orphan leaves them', async () => {
    const ns = await namespace('gc');
    await deployment(ns, 'bg', 2);
    await deployment(ns, 'orph', 2);
    await client.delete('deployments', 'bg', { namespace: ns, propagationPolicy: 'Background' });
    await client.delete('deployments', 'orph', { namespace: ns, propagationPolicy: 'Orphan' });
    await waitFor(async () => {
      const rs = await client.list('replicasets', { namespace: ns, labelSelector: 'app=bg' });
      const pods = await client.list('pods', { namespace: ns, labelSelector: 'app=bg' });
      return rs.items.length === 0 && pods.items.length === 0;
    }, { what: 'bg ReplicaSet and pods gone' });
    const orphans = await waitFor(async () => {
      const rs = await client.list('replicasets', { namespace: ns, labelSelector: 'app=orph' });
      const gone = await client.get('deployments', 'orph', { namespace: ns }).then(() => false, (e: unknown) => isNotFound(e));
      return gone && rs.items.length === 1 && !rs.items[0].metadata?.ownerReferences?.length && rs.items;
    }, { what: 'orph deployment gone, its ReplicaSet orphaned' });
    expect(orphans[0].spec?.replicas).toBe(2);
    expect((await activePods(ns, 'app=orph')).length).toBe(2);
  });

  it('foreground deletion removes dependents before the owner', async () => {
    const ns = await namespace('gc-fg');
    await deployment(ns, 'fg', 2);
    await client.delete('deployments', 'fg', { namespace: ns, propagationPolicy: 'Foreground' });
    await waitFor(async () => {
      const gone = await client.get('deployments', 'fg', { namespace: ns }).then(() => false, (e: unknown) => isNotFound(e));
      const rs = await client.list('replicasets', { namespace: ns });
      const pods = await client.list('pods', { namespace: ns });
      return gone && rs.items.length === 0 && pods.items.length === 0;
    }, { what: 'foreground cascade' });
  });

  it('deleting a namespace empties it and then removes it', async () => {
    const ns = await namespace('doomed');
    await deployment(ns, 'app', 2);
    await client.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: ns }, data: { a: 'b' } });
    await client.delete('namespaces', ns);
    await waitFor(async () => client.get('namespaces', ns).then(() => false, (e: unknown) => isNotFound(e)), { what: 'namespace gone' });
    expect((await client.list('pods', { namespace: ns })).items).toEqual([]);
    expect((await client.list('configmaps', { namespace: ns })).items).toEqual([]);
  });
});

describe('endpoints', () => {
  it('lists ready and not-ready pod addresses with named target ports resolved', async () => {
    const ns = await namespace('eps');
    const tpl = template({ app: 'be' });
    tpl.spec!.containers[0].ports = [{ name: 'http', containerPort: 8080 }];
    await client.create('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'be', namespace: ns },
      spec: { replicas: 2, selector: { matchLabels: { app: 'be' } }, template: tpl },
    });
    await client.create('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'be', namespace: ns },
      spec: { selector: { app: 'be' }, ports: [{ port: 80, targetPort: 'http' }] },
    });
    const ep = await waitFor(async () => {
      const e = await client.get('endpoints', 'be', { namespace: ns });
      return e.subsets?.[0]?.addresses?.length === 2 && e;
    }, { what: 'endpoints with 2 addresses' });
    expect(ep.subsets?.[0].ports).toEqual([{ port: 8080, protocol: 'TCP' }]);
    expect(ep.subsets?.[0].addresses?.every((a) => a.targetRef?.kind === 'Pod' && a.nodeName)).toBe(true);
    // A pod that turns unready moves to notReadyAddresses.
    const pods = await activePods(ns, 'app=be');
    const p = pods[0];
    await client.updateStatus('pods', { ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'False' }] } });
    await waitFor(async () => {
      const e = await client.get('endpoints', 'be', { namespace: ns });
      return e.subsets?.[0]?.addresses?.length === 1 && e.subsets[0].notReadyAddresses?.[0]?.targetRef?.name === p.metadata?.name;
    }, { what: 'not ready address', timeoutMs: 3000 });
    // kubectl describe service reads EndpointSlices: one slice labelled with the service, owned by it.
    const svc = await client.get('services', 'be', { namespace: ns });
    const slice = await waitFor(async () => {
      const list = await client.list('endpointslices', { namespace: ns, labelSelector: 'kubernetes.io/service-name=be' });
      const s = list.items[0];
      return list.items.length === 1 && s.endpoints.length === 2 && s.endpoints.some((e) => e.conditions?.ready === false) && s;
    }, { what: 'an EndpointSlice with one ready and one not-ready endpoint', timeoutMs: 3000 });
    expect(slice.addressType).toBe('IPv4');
    expect(slice.ports).toEqual([{ name: '', port: 8080, protocol: 'TCP' }]);
    expect(slice.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Service', uid: svc.metadata?.uid });
    expect(slice.endpoints.find((e) => e.conditions?.ready === false)?.targetRef?.name).toBe(p.metadata?.name);
    // A selector-less Service's hand-made Endpoints are mirrored; deleting the Service removes its slices.
    await client.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: ns }, spec: { ports: [{ port: 5432 }] } });
    await client.create('endpoints', {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'ext', namespace: ns },
      subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432 }] }],
    });
    await waitFor(async () => {
      const list = await client.list('endpointslices', { namespace: ns, labelSelector: 'kubernetes.io/service-name=ext' });
      return list.items[0]?.endpoints[0]?.addresses[0] === '192.0.2.10';
    }, { what: 'the mirrored slice of a selector-less service', timeoutMs: 3000 });
    await client.delete('services', 'be', { namespace: ns });
    await waitFor(async () => (await client.list('endpointslices', { namespace: ns, labelSelector: 'kubernetes.io/service-name=be' })).items.length === 0, {
      what: 'the slices of a deleted service to go',
      timeoutMs: 5000,
    });
  });
});

describe('statefulset', () => {
  it('starts pods in order, keeps names and claims across deletion and scale down/up', async () => {
    const ns = await namespace('sts');
    const ctl = new AbortController();
    const order: string[] = [];
    const readyWhenAdded: boolean[] = [];
    const ready = new Set<string>();
    const start = await client.list('pods', { namespace: ns });
    const watching = (async () => {
      for await (const ev of client.watch('pods', { namespace: ns, resourceVersion: start.metadata.resourceVersion, signal: ctl.signal })) {
        const name = ev.object.metadata?.name ?? '';
        if (ev.type === 'ADDED') {
          order.push(name);
          const ord = Number(name.split('-').pop());
          readyWhenAdded.push(ord === 0 || ready.has(`db-${ord - 1}`));
        }
        if (ev.type === 'MODIFIED' && isPodReady(ev.object)) ready.add(name);
        if (ev.type === 'DELETED') ready.delete(name);
      }
    })().catch(() => undefined);
    await client.create('statefulsets', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: ns },
      spec: {
        replicas: 3,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: {
          ...template({ app: 'db' }),
          spec: { ...template({ app: 'db' }).spec!, containers: [{ name: 'c', image: 'kubelab/busybox:latest', command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    });
    const readyPods = (n: number) => async () => {
      const pods = await activePods(ns, 'app=db');
      return pods.length === n && pods.every(isPodReady) && pods.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    };
    const pods = await waitFor(readyPods(3), { what: 'db-0..2 ready' });
    expect(order).toEqual(['db-0', 'db-1', 'db-2']);
    expect(readyWhenAdded).toEqual([true, true, true]);
    expect(pods.map((p) => [p.metadata?.name, p.spec?.hostname, p.spec?.subdomain])).toEqual([['db-0', 'db-0', 'db'], ['db-1', 'db-1', 'db'], ['db-2', 'db-2', 'db']]);
    expect(pods[1].spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe('data-db-1');
    const uid1 = pods[1].metadata?.uid;
    await client.delete('pods', 'db-1', { namespace: ns });
    await waitFor(async () => {
      const p = await client.get('pods', 'db-1', { namespace: ns });
      return p.metadata?.uid !== uid1 && isPodReady(p);
    }, { what: 'db-1 recreated' });
    await client.patch('statefulsets', 'db', { spec: { replicas: 1 } }, { namespace: ns, subresource: 'scale' });
    await waitFor(readyPods(1), { what: 'scaled down to db-0' });
    expect(order.slice(3)).toEqual(['db-1']);
    const claims = await client.list('persistentvolumeclaims', { namespace: ns });
    expect(claims.items.map((c) => c.metadata?.name).sort()).toEqual(['data-db-0', 'data-db-1', 'data-db-2']);
    await client.patch('statefulsets', 'db', { spec: { replicas: 3 } }, { namespace: ns, subresource: 'scale' });
    const again = await waitFor(readyPods(3), { what: 'scaled up again' });
    expect(again.map((p) => p.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName)).toEqual(['data-db-0', 'data-db-1', 'data-db-2']);
    const bound = await waitFor(async () => {
      const list = await client.list('persistentvolumeclaims', { namespace: ns });
      return list.items.length === 3 && list.items.every((c) => c.status?.phase === 'Bound') && list.items;
    }, { what: 'claims bound by the default provisioner' });
    const pv = await client.get('persistentvolumes', bound[0].spec?.volumeName ?? '');
    expect(pv.spec?.hostPath?.path).toBe(`/var/lib/kubelab/pv/${pv.metadata?.name}`);
    expect(bound[0].spec?.storageClassName).toBe('standard');
    ctl.abort();
    await watching;
  });
});

describe('daemonset', () => {
  it('runs one pod per node and follows a node that joins', async () => {
    const ns = await namespace('ds');
    await client.create('daemonsets', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: ns },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: template({ app: 'agent' }) },
    });
    const perNode = (n: number) => async () => {
      const pods = await activePods(ns, 'app=agent');
      const nodesWithPod = new Set(pods.filter(isPodReady).map((p) => p.spec?.nodeName));
      return pods.length === n && nodesWithPod.size === n && pods;
    };
    await waitFor(perNode(3), { what: 'one agent per node' });
    await nodes.add('node-d');
    const pods = await waitFor(perNode(4), { what: 'agent on node-d' });
    expect(pods.some((p) => p.spec?.nodeName === 'node-d')).toBe(true);
    const ds = await waitFor(async () => {
      const d = await client.get('daemonsets', 'agent', { namespace: ns });
      return d.status?.numberReady === 4 && d;
    }, { what: 'ds status' });
    expect(ds.status?.desiredNumberScheduled).toBe(4);
  });
});

describe('job', () => {
  it('retries a failing pod up to backoffLimit, then fails', async () => {
    const ns = await namespace('job-fail');
    const tpl = template({ app: 'fail' }, 'kubelab/busybox:latest', exitsWith(1));
    tpl.spec!.restartPolicy = 'Never';
    await client.create('jobs', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'fail', namespace: ns }, spec: { backoffLimit: 2, template: tpl } });
    const job = await waitFor(async () => {
      const j = await client.get('jobs', 'fail', { namespace: ns });
      return j.status?.conditions?.some((c) => c.type === 'Failed' && c.status === 'True') && j;
    }, { what: 'job Failed' });
    expect(job.status?.conditions?.find((c) => c.type === 'Failed')?.reason).toBe('BackoffLimitExceeded');
    expect(job.status?.failed).toBe(3);
    const pods = await client.list('pods', { namespace: ns });
    expect(pods.items.filter((p) => p.status?.phase === 'Failed')).toHaveLength(3);
  });

  it('completes after the requested completions', async () => {
    const ns = await namespace('job-ok');
    const tpl = template({ app: 'ok' }, 'kubelab/busybox:latest', exitsWith(0));
    tpl.spec!.restartPolicy = 'Never';
    await client.create('jobs', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'ok', namespace: ns }, spec: { completions: 3, parallelism: 2, template: tpl } });
    const job = await waitFor(async () => {
      const j = await client.get('jobs', 'ok', { namespace: ns });
      return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') && j;
    }, { what: 'job Complete' });
    expect(job.status?.succeeded).toBe(3);
    expect(job.status?.completionTime).toBeTruthy();
    // The selector the apiserver generated picks exactly the Job's pods (what `kubectl logs job/ok` uses),
    // and not the pods of another workload in the namespace.
    const uid = job.metadata?.uid ?? '';
    expect(job.spec?.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    expect(job.spec?.template.metadata?.labels).toMatchObject({ app: 'ok', 'batch.kubernetes.io/job-name': 'ok', 'job-name': 'ok', 'controller-uid': uid });
    await client.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bystander', namespace: ns, labels: { app: 'ok' } }, spec: tpl.spec! });
    const selected = await client.list('pods', { namespace: ns, labelSelector: `batch.kubernetes.io/controller-uid=${uid}` });
    expect(selected.items.map((p) => p.metadata?.name).sort()).toEqual((await client.list('pods', { namespace: ns })).items.map((p) => p.metadata?.name).filter((n) => n !== 'bystander').sort());
    expect(selected.items).toHaveLength(3);
  });
});

// Last: it takes a node away for good.
describe('disruption budgets and priority', () => {
  it('a PodDisruptionBudget shows its allowed disruptions and makes evictions beyond them fail with 429', async () => {
    const ns = await namespace('pdb');
    await client.create('deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }) },
    });
    await client.create('poddisruptionbudgets', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web', namespace: ns },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
    });
    await waitFor(async () => (await client.get('poddisruptionbudgets', 'web', { namespace: ns })).status?.disruptionsAllowed === 1, {
      what: 'the budget to allow one disruption with 3 ready pods',
    });
    const pods = (await activePods(ns, 'app=web')).filter(isPodReady);
    expect(pods).toHaveLength(3);
    await client.evict(ns, pods[0].metadata?.name ?? '', 1);
    // The first eviction spent the only allowed disruption: the second is refused until a replacement is Ready.
    const refused = await client.evict(ns, pods[1].metadata?.name ?? '', 1).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toMatchObject({ reason: 'TooManyRequests', code: 429 });
    expect((refused as Error).message).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect((await client.get('pods', pods[1].metadata?.name ?? '', { namespace: ns })).metadata?.deletionTimestamp).toBeUndefined();
    // Once the ReplicaSet's replacement is Ready the budget allows one disruption again, and the eviction goes through.
    await waitFor(async () => (await client.get('poddisruptionbudgets', 'web', { namespace: ns })).status?.disruptionsAllowed === 1, {
      what: 'the budget to recover after the replacement pod is ready',
    });
    await client.evict(ns, pods[1].metadata?.name ?? '', 1);
  });

  it('pods get their priority from their PriorityClass; unknown classes and hand-set priorities are refused', async () => {
    const ns = await namespace('prio');
    const classes = await client.list('priorityclasses');
    expect(classes.items.map((c) => [c.metadata?.name, c.value])).toEqual(
      expect.arrayContaining([
        ['system-cluster-critical', 2000000000],
        ['system-node-critical', 2000001000],
      ]),
    );
    await client.create('priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 });
    const pod = (name: string, spec: Partial<core.PodSpec>): core.Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns },
      spec: { containers: [{ name: 'c', image: 'kubelab/busybox:latest' }], ...spec },
    });
    const high = await client.create('pods', pod('high', { priorityClassName: 'high' }));
    expect(high.spec?.priority).toBe(1000);
    expect(high.spec?.preemptionPolicy).toBe('PreemptLowerPriority');
    expect((await client.create('pods', pod('plain', {}))).spec?.priority).toBe(0);
    await expect(client.create('pods', pod('ghost', { priorityClassName: 'nope' }))).rejects.toThrow('no PriorityClass with name nope was found');
    await expect(client.create('pods', pod('sneaky', { priority: 5 }))).rejects.toThrow('the integer value of priority (5) must not be provided in pod spec');
    await expect(
      client.create('priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'too-high' }, value: 2_000_000_000 }),
    ).rejects.toThrow('maximum allowed value of a user defined priority is 1000000000');
    await client.create('priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'default-one' }, value: 10, globalDefault: true });
    await expect(
      client.create('priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'default-two' }, value: 20, globalDefault: true }),
    ).rejects.toThrow('PriorityClass default-one is already marked as default');
    expect((await client.create('pods', pod('defaulted', {}))).spec?.priority).toBe(10);
    await client.delete('priorityclasses', 'default-one');
  });
});

describe('node lifecycle', () => {
  it('a node whose lease stops goes Unknown, is tainted, and its pods are replaced elsewhere with none lost', async () => {
    const ns = await namespace('node-loss');
    await client.create('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'spread', namespace: ns },
      spec: { replicas: 6, selector: { matchLabels: { app: 'spread' } }, template: template({ app: 'spread' }) },
    });
    const before = await waitFor(async () => {
      const pods = await activePods(ns, 'app=spread');
      return pods.length === 6 && pods.every(isPodReady) && pods;
    }, { what: '6 ready pods' });
    const counts = new Map<string, number>();
    for (const p of before) counts.set(p.spec?.nodeName ?? '', (counts.get(p.spec?.nodeName ?? '') ?? 0) + 1);
    const victim = [...counts].sort((x, y) => y[1] - x[1])[0][0];
    const lost = before.filter((p) => p.spec?.nodeName === victim).map((p) => p.metadata?.name);
    expect(lost.length).toBeGreaterThan(0);
    const crashedAt = Date.now();
    nodes.crash(victim);
    const node = await waitFor(async () => {
      const n = await client.get('nodes', victim);
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'Unknown' && (n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') && n;
    }, { what: `${victim} Unknown and tainted`, timeoutMs: 20_000 });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.message).toBe('Kubelet stopped posting node status.');
    expect(node.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoSchedule')).toBe(true);
    const healed = await waitFor(async () => {
      const pods = await activePods(ns, 'app=spread');
      return pods.length === 6 && pods.every((p) => isPodReady(p) && p.spec?.nodeName !== victim) && pods;
    }, { what: `6 ready pods off ${victim}`, timeoutMs: 30_000 });
    const healMs = Date.now() - crashedAt;
    expect(healed.some((p) => lost.includes(p.metadata?.name))).toBe(false);
    // The lost pods are force-deleted once their 1 s grace period is over (lab preset).
    await waitFor(async () => {
      const all = await client.list('pods', { namespace: ns });
      return all.items.every((p) => p.spec?.nodeName !== victim);
    }, { what: 'lost pods gone', timeoutMs: 20_000 });
    const events = await client.list('events', { namespace: ns });
    expect(events.items.some((e) => e.reason === 'TaintManagerEviction')).toBe(true);
    console.log(`node loss healed in ${healMs} ms`);
  });

  it('exports how old node Lease renewals are when it sees them: the watch delay it judges nodes with', async () => {
    const text = await (await fetch(`http://127.0.0.1:${cmAdminPort}/metrics`)).text();
    const value = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    const count = value('kubelab_node_lease_observed_lag_seconds_count');
    const sum = value('kubelab_node_lease_observed_lag_seconds_sum');
    // Three fake nodes renew every 500 ms: many renewals seen, each well within the 3 s grace period.
    expect(count).toBeGreaterThan(10);
    expect(sum / count).toBeLessThan(1.5);
  });
});

describe('apiserver outage', () => {
  it('loses no node and evicts no pod when the apiserver is away longer than the grace period', async () => {
    const ns = await namespace('outage');
    await client.create('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web', namespace: ns },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template({ app: 'web' }) },
    });
    const before = await waitFor(async () => {
      const pods = await activePods(ns, 'app=web');
      return pods.length === 3 && pods.every(isPodReady) ? pods : undefined;
    }, { what: '3 ready pods before the outage' });
    const readyNodes = (await client.list('nodes')).items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata?.name);
    expect(readyNodes.length).toBeGreaterThan(0);

    await cp.apiserver.stop();
    // The outage itself: longer than the 3 s node-monitor grace period.
    await new Promise((r) => setTimeout(r, 4500));
    await cp.restartApiserver();

    // For two grace periods after the return, no node that was Ready is declared lost, no pod replaced.
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      const nodesNow = (await client.list('nodes')).items.filter((n) => readyNodes.includes(n.metadata?.name));
      for (const n of nodesNow) expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, `node ${n.metadata?.name}`).not.toBe('Unknown');
      await new Promise((r) => setTimeout(r, 250));
    }
    const after = await activePods(ns, 'app=web');
    expect(after.map((p) => p.metadata?.uid).sort()).toEqual(before.map((p) => p.metadata?.uid).sort());
  });
});

describe('high availability', () => {
  it('a standby takes over the lease when the leader stops, and keeps healing', async () => {
    let leading = false;
    const cfg = compileControllerManagerConfig({ apiserver: cp.address, adminPort: 0, bindAddress: '127.0.0.1', timing: 'lab', identity: 'standby' });
    standbyDone = startControllerManager(cfg, standby.signal, { onLeading: (l) => (leading = l) });
    const lease = await client.get('leases', 'kube-controller-manager', { namespace: 'kube-system' });
    expect(lease.spec?.holderIdentity).not.toBe('standby');
    expect(leading).toBe(false);
    cm.abort();
    await cmDone;
    await waitFor(() => leading, { what: 'standby leading', timeoutMs: 10_000 });
    const ns = await namespace('ha');
    await client.create('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'ha', namespace: ns },
      spec: { replicas: 2, selector: { matchLabels: { app: 'ha' } }, template: template({ app: 'ha' }) },
    });
    await waitFor(async () => (await activePods(ns, 'app=ha')).filter(isPodReady).length === 2, { what: 'standby runs the ReplicaSet' });
    expect((await client.get('leases', 'kube-controller-manager', { namespace: 'kube-system' })).spec?.holderIdentity).toBe('standby');
  });
});
