import { describe, expect, it } from 'vitest';
import { apiService } from '../client/proto.js';
import { WATCH_BATCH_BYTES, WatchBatcher, encodeWatchBatch } from './grpc.js';

interface Wire {
  type: string;
  object: string;
  events: Wire[];
}
const def = apiService().service.Watch;
const encode = (type: string, object: string): Buffer => def.responseSerialize({ type, object });
const decode = (b: Buffer): Wire => def.responseDeserialize(b) as Wire;
/** What a client reads from one message (client/api.ts watch). */
const events = (b: Buffer): [string, string][] => {
  const m = decode(b);
  return (m.events.length ? m.events : [m]).map((e) => [e.type, e.object]);
};

describe('batched watch events (apiserver/grpc.ts)', () => {
  it('a batch decodes, with the proto, into the same events in the same order — short and long ones', () => {
    const objs = ['{}', 'x'.repeat(200), 'y'.repeat(20_000), 'z'.repeat(3_000_000)];
    const batch = encodeWatchBatch(objs.map((o, i) => encode(i % 2 ? 'MODIFIED' : 'ADDED', o)));
    expect(events(batch)).toEqual(objs.map((o, i) => [i % 2 ? 'MODIFIED' : 'ADDED', o]));
  });

  it('writes the first event at once and what comes during that write as one message after it', () => {
    const writes: Buffer[] = [];
    const done: (() => void)[] = [];
    const b = new WatchBatcher((bytes, cb) => {
      writes.push(bytes);
      done.push(cb);
    });
    b.push(encode('ADDED', '1'));
    expect(writes.map(events)).toEqual([[['ADDED', '1']]]);
    b.push(encode('MODIFIED', '2'));
    b.push(encode('DELETED', '3'));
    expect(writes).toHaveLength(1);
    expect(b.queuedBytes).toBeGreaterThan(0);
    done.shift()?.();
    expect(writes.map(events)).toEqual([[['ADDED', '1']], [['MODIFIED', '2'], ['DELETED', '3']]]);
    expect(b.queuedBytes).toBe(0);
  });

  it(`keeps a message under ${WATCH_BATCH_BYTES / 1024 ** 2} MiB (clients refuse larger ones), and flushAll sends all that is left in order`, () => {
    const writes: Buffer[] = [];
    const b = new WatchBatcher((bytes) => writes.push(bytes));
    b.push(encode('ADDED', 'first'));
    const big = 'b'.repeat(1_500_000);
    for (let i = 0; i < 7; i++) b.push(encode('MODIFIED', `${i}${big}`));
    b.flushAll();
    expect(writes.every((w) => w.length <= WATCH_BATCH_BYTES + 64)).toBe(true);
    expect(writes.length).toBeGreaterThanOrEqual(3);
    expect(writes.flatMap(events).map(([, o]) => o.slice(0, 5))).toEqual(['first', ...Array.from({ length: 7 }, (_, i) => `${i}bbbb`)]);
  });
});
