import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type TestControlPlane } from './support/apiserver.js';

let cp: TestControlPlane;
beforeAll(async () => {
  cp = await startControlPlane();
});
afterAll(async () => {
  await cp?.stop();
});

describe('smoke', () => {
  it('creates and watches a pod', async () => {
    const ns = await cp.client.list('namespaces');
    expect(ns.items.map((n) => n.metadata?.name).sort()).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    const pod = await cp.client.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    expect(pod.metadata?.uid).toBeTruthy();
    const ctl = new AbortController();
    const seen: string[] = [];
    for await (const ev of cp.client.watch('pods', { namespace: 'default', resourceVersion: '1', signal: ctl.signal })) {
      seen.push(`${ev.type} ${ev.object.metadata?.name}`);
      if (seen.length === 1) ctl.abort();
    }
    expect(seen).toEqual(['ADDED p1']);
  });
});
