import { describe, expect, it } from 'vitest';
import { LeaseManager } from './leases.js';

function manager(): { m: LeaseManager; grants: number[]; at: (ms: number) => void } {
  let now = 1_000_000;
  const grants: number[] = [];
  const m = new LeaseManager({ grant: (ttl) => Promise.resolve(String(grants.push(ttl))) }, () => now);
  return { m, grants, at: (ms) => (now = 1_000_000 + ms) };
}

describe('LeaseManager (kube-apiserver --event-ttl leases)', () => {
  it('grants ttl + min(5 %, 60 s) and reuses the lease for writes within that window', async () => {
    const { m, grants, at } = manager();
    expect(await m.lease(3600)).toBe('1');
    expect(grants).toEqual([3660]);
    at(30_000);
    expect(await m.lease(3600)).toBe('1');
    at(59_000);
    expect(await m.lease(3600)).toBe('1');
    // Past the reuse window the old lease would expire before this key's ttl: a new one.
    at(60_000);
    expect(await m.lease(3600)).toBe('2');
    expect(grants).toEqual([3660, 3660]);
  });

  it('never reuses a lease that would end a key before its ttl (short ttls: no reuse window)', async () => {
    const { m, grants, at } = manager();
    await m.lease(2);
    at(1);
    await m.lease(2);
    expect(grants).toEqual([2, 2]);
  });

  it('shares one grant among writes that arrive while it is in flight', async () => {
    let release: (id: string) => void = () => undefined;
    let calls = 0;
    const m = new LeaseManager({ grant: () => (calls++, new Promise<string>((r) => (release = r))) });
    const a = m.lease(3600);
    const b = m.lease(3600);
    release('7');
    expect([await a, await b]).toEqual(['7', '7']);
    expect(calls).toBe(1);
  });

  it('a failed grant fails its writes and the next write asks again', async () => {
    let fail = true;
    const m = new LeaseManager({ grant: () => (fail ? Promise.reject(new Error('etcd unavailable')) : Promise.resolve('9')) });
    await expect(m.lease(60)).rejects.toThrow('etcd unavailable');
    fail = false;
    expect(await m.lease(60)).toBe('9');
  });

  it('puts at most 1,000 keys on one lease (as kube-apiserver): the next write gets a new lease', async () => {
    const { m, grants, at } = manager();
    const ids = [];
    for (let i = 0; i < 2_500; i++) {
      at(i);
      ids.push(await m.lease(3600));
    }
    expect(grants).toEqual([3660, 3660, 3660]);
    expect(ids.filter((id) => id === '1')).toHaveLength(1_000);
    expect(ids.filter((id) => id === '2')).toHaveLength(1_000);
    expect(ids.filter((id) => id === '3')).toHaveLength(500);
  });

  it('counts writes that share an in-flight grant against the limit', async () => {
    const releases: ((id: string) => void)[] = [];
    const m = new LeaseManager({ grant: () => new Promise<string>((r) => releases.push(r)) }, Date.now, 3);
    const first = [m.lease(3600), m.lease(3600), m.lease(3600)];
    const fourth = m.lease(3600);
    expect(releases).toHaveLength(2);
    releases[0]?.('a');
    releases[1]?.('b');
    expect(await Promise.all(first)).toEqual(['a', 'a', 'a']);
    expect(await fourth).toBe('b');
    // The newer grant is the one reused: 'b' has one key, room for two more.
    expect([await m.lease(3600), await m.lease(3600)]).toEqual(['b', 'b']);
    const next = m.lease(3600);
    expect(releases).toHaveLength(3);
    releases[2]?.('c');
    expect(await next).toBe('c');
  });
});
