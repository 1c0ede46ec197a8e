import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors.js';
import { MutatingFlowControl } from './flowcontrol.js';

const user = { username: 'u', groups: [] };

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
