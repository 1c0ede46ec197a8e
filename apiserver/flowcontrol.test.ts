import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors.js';
import { MutatingFlowControl } from './flowcontrol.js';

const user = { name: 'u', groups: [] };
const other = { name: 'probe', groups: [] };

/** A request that holds its seat until released. */
function held(): { promise: Promise<void>; release: () => void } {
  let release = (): void => undefined;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

describe('mutating flow control', () => {
  it('serves up to the seats at once, queues the rest in order, and passes a freed seat to the next', async () => {
    const fc = new MutatingFlowControl({ maxMutatingInflight: 2 });
    const order: number[] = [];
    const gates = [held(), held(), held(), held()];
    const runs = gates.map((g, i) => fc.run('pods', user, async () => {
      order.push(i);
      await g.promise;
    }));
    await Promise.resolve();
    expect(order).toEqual([0, 1]);
    expect(fc.inFlight).toBe(2);
    expect(fc.waiting).toBe(2);
    gates[1]?.release();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([0, 1, 2]);
    for (const g of gates) g.release();
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(fc.inFlight).toBe(0);
  });

  it("serves the waiting flows (users) in turn: one client's burst does not make another wait behind all of it", async () => {
    const fc = new MutatingFlowControl({ maxMutatingInflight: 1 });
    const order: string[] = [];
    const gates = new Map<string, ReturnType<typeof held>>();
    const request = (who: typeof user, name: string): Promise<void> => {
      const g = held();
      gates.set(name, g);
      return fc.run('pods', who, async () => {
        order.push(name);
        await g.promise;
      });
    };
    const runs = [request(user, 'a0'), request(user, 'a1'), request(user, 'a2'), request(user, 'a3'), request(other, 'b1')];
    await Promise.resolve();
    expect(order).toEqual(['a0']);
    expect(fc.waiting).toBe(4);
    expect(fc.waitingFlows).toBe(2);
    for (const name of ['a0', 'a1', 'b1', 'a2', 'a3']) {
      gates.get(name)?.release();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(runs);
    // b1 came last but was served second after a0's seat went round: a1 (its flow's turn), then b1, then a's rest.
    expect(order).toEqual(['a0', 'a1', 'b1', 'a2', 'a3']);
    expect(fc.inFlight).toBe(0);
    expect(fc.waitingFlows).toBe(0);
  });

  it('a flow may fill at most three quarters of the queue: another user still finds room', async () => {
    const fc = new MutatingFlowControl({ maxMutatingInflight: 1, maxQueued: 4, queueTimeoutMs: 5_000 });
    const g = held();
    const busy = fc.run('pods', user, () => g.promise);
    const mine = [1, 2, 3].map(() => fc.run('pods', user, async () => 'mine'));
    const refused = await fc.run('pods', user, async () => 'never').catch((e: unknown) => e);
    expect((refused as ApiError).reason).toBe('TooManyRequests');
    expect((refused as ApiError).message).toMatch(/3 of them from this user/);
    const theirs = fc.run('pods', other, async () => 'theirs');
    expect(fc.waiting).toBe(4);
    g.release();
    await busy;
    await expect(theirs).resolves.toBe('theirs');
    await expect(Promise.all(mine)).resolves.toEqual(['mine', 'mine', 'mine']);
  });

  it('queues a burst of 1,000 writes from one user behind 50 seats instead of refusing it (the queue is not cut with the seats)', async () => {
    const fc = new MutatingFlowControl({ maxMutatingInflight: 50 });
    const g = held();
    const burst = Array.from({ length: 1_000 }, (_, i) => fc.run('pods', user, async () => {
      await g.promise;
      return i;
    }));
    expect(fc.inFlight).toBe(50);
    expect(fc.waiting).toBe(950);
    g.release();
    expect((await Promise.all(burst)).length).toBe(1_000);
  });

  it("never queues Lease writes or the apiserver's own writes", async () => {
    const fc = new MutatingFlowControl({ maxMutatingInflight: 1 });
    const g = held();
    const busy = fc.run('pods', user, () => g.promise);
    // The one seat is taken: a lease renewal and an internal write go at once.
    await expect(fc.run('leases', user, async () => 'renewed')).resolves.toBe('renewed');
    await expect(fc.run('services', undefined, async () => 'internal')).resolves.toBe('internal');
    g.release();
    await busy;
  });

  it('answers 429 TooManyRequests with a retry-after when the queue is full or the wait too long, and frees nothing it did not take', async () => {
    const fc = new MutatingFlowControl({ maxMutatingInflight: 1, maxQueued: 1, queueTimeoutMs: 50 });
    const g = held();
    const busy = fc.run('pods', user, () => g.promise);
    const waiting = fc.run('pods', user, async () => 'late');
    const full = await fc.run('pods', user, async () => 'never').catch((e: unknown) => e);
    expect(full).toBeInstanceOf(ApiError);
    expect((full as ApiError).reason).toBe('TooManyRequests');
    expect((full as ApiError).toStatus().code).toBe(429);
    expect((full as ApiError).toStatus().details?.retryAfterSeconds).toBe(1);
    const timedOut = await waiting.catch((e: unknown) => e);
    expect((timedOut as ApiError).message).toMatch(/waited 50 ms/);
    expect(fc.stats.rejected).toBe(2);
    g.release();
    await busy;
    expect(fc.inFlight).toBe(0);
    await expect(fc.run('pods', user, async () => 'ok')).resolves.toBe('ok');
  });

  it('a request that throws gives its seat back', async () => {
    const fc = new MutatingFlowControl({ maxMutatingInflight: 1 });
    await expect(fc.run('pods', user, async () => Promise.reject(new Error('invalid')))).rejects.toThrow('invalid');
    expect(fc.inFlight).toBe(0);
    await expect(fc.run('pods', user, async () => 'next')).resolves.toBe('next');
  });

  it('0 seats: no limit', async () => {
    const fc = new MutatingFlowControl({ maxMutatingInflight: 0 });
    const gates = [held(), held(), held()];
    const runs = gates.map((g) => fc.run('pods', user, () => g.promise));
    expect(fc.waiting).toBe(0);
    for (const g of gates) g.release();
    await Promise.all(runs);
  });
});
