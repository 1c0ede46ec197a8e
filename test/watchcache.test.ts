/**
 * The apiserver's watch cache against a real etcd whose connection the test breaks (issue 22, ciZ5: an HA
 * watch missed every create made while an etcd member was down). However often the cache's etcd watch
 * breaks — even right after it reconnected, before etcd sent the events it missed, or between two of the
 * batches etcd sends them in — every change reaches the cache's watchers once and in order.
 */
import { Etcd3, type Watcher } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KObject, WatchEventType } from '../api/types.js';
import { Storage } from '../apiserver/storage.js';
import { WatchCache } from '../apiserver/watchcache.js';
import { nullLogger } from '../component-base/log.js';
import { startEtcd, type TestEtcd } from './support/etcd.js';
import { startTcpProxy, type TcpProxy } from './support/tcpproxy.js';
import { waitFor } from './support/wait.js';

let etcd: TestEtcd;
let proxy: TcpProxy;
let storage: Storage;
let direct: Etcd3;
let cache: WatchCache;

beforeAll(async () => {
  etcd = await startEtcd();
  const url = new URL(etcd.endpoint);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  // The cache talks to etcd through the proxy; the test writes past it, so writes go on while the watch is cut.
  storage = new Storage([`http://${proxy.address}`]);
  direct = new Etcd3({ hosts: etcd.endpoint });
  cache = new WatchCache(storage, 'configmaps', { logger: nullLogger(), bookmarkIntervalMs: 60_000 });
  await cache.start();
});
afterAll(async () => {
  cache?.stop();
  storage?.close();
  direct?.close();
  await proxy?.close();
  await etcd?.stop();
});

const configMap = (name: string): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'wc' }, data: { name } }) as KObject;

async function putAll(names: string[]): Promise<void> {
  // 50 at a time; each put is its own revision.
  for (let i = 0; i < names.length; i += 50) {
    const batch = names.slice(i, i + 50);
    await Promise.all(batch.map((n) => direct.put(`/registry/configmaps/wc/${n}`).value(JSON.stringify(configMap(n)))));
  }
}

describe('watch cache', () => {
  it('gets every event once and in order when its etcd watch is cut on reconnect and again mid catch-up', async () => {
    const events: { type: WatchEventType; name: string; rv: number }[] = [];
    const stop = cache.watch(undefined, () => true, {
      send: (type, obj) => {
        events.push({ type, name: String(obj.metadata?.name), rv: Number(obj.metadata?.resourceVersion) });
        return true;
      },
      close: () => undefined,
    }, false);

    const before = Array.from({ length: 5 }, (_, i) => `before-${i}`);
    await putAll(before);
    await waitFor(() => cache.items.size === 5, { what: 'the cache to see the first 5 ConfigMaps', timeoutMs: 10_000 });

    // The watch goes down, and 2,500 writes happen meanwhile: etcd will send them in batches (≤ 1,000
    // revisions each) after the watch's "created" reply once it reconnects.
    proxy.pause();
    proxy.cut();
    const during = Array.from({ length: 2500 }, (_, i) => `during-${String(i).padStart(4, '0')}`);
    await putAll(during);
    const last = Number((await direct.get('/registry/configmaps/wc/during-2499').exec()).header.revision);

    // Cut again at the worst two moments: just after the reconnect's "created" reply (before any missed
    // event), then just after the first batch of the next catch-up.
    const watcher = (cache as unknown as { watcher: Watcher }).watcher;
    let stage: 'first-reconnect' | 'second-reconnect' | 'catching-up' | 'done' = 'first-reconnect';
    watcher.on('connected', () => {
      if (stage === 'first-reconnect') {
        stage = 'second-reconnect';
        proxy.cut();
      } else if (stage === 'second-reconnect') stage = 'catching-up';
    });
    watcher.on('data', (res: { events: unknown[] }) => {
      if (stage === 'catching-up' && res.events.length > 0) {
        stage = 'done';
        proxy.cut();
      }
    });
    proxy.resume();

    await waitFor(() => stage === 'done' && cache.revision >= last, {
      what: `the cache to catch up to revision ${last} after three cuts`,
      timeoutMs: 60_000,
    }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message} (stage ${stage}, cache at revision ${cache.revision} with ${cache.items.size} items)`);
    });
    stop();
    expect(cache.items.size).toBe(2505);
    expect(events.map((e) => e.type).every((t) => t === 'ADDED')).toBe(true);
    // Each name once (the puts of a batch race, so their order is etcd's), in resourceVersion order.
    expect(events.map((e) => e.name).sort()).toEqual([...before, ...during]);
    expect(events.every((e, i) => i === 0 || e.rv > events[i - 1].rv)).toBe(true);
    expect(events[events.length - 1].rv).toBe(last);
  });
});
