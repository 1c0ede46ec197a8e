/**
 * The watch cache: one etcd watch per resource, fanned out to every API watcher with server-side
 * filtering. It keeps the current objects and a window of recent events, so a watch can resume from
 * any resourceVersion still in the window (older: "410 Gone", the client relists).
 *
 * On start the window is pre-filled from etcd history (up to `prefillRevisions` back), so clients of an
 * apiserver that restarted resume where they were instead of relisting.
 */
import type { Logger } from 'pino';
import type { Watcher } from 'etcd3';
import { gone } from '../api/errors.js';
import type { KObject, WatchEventType } from '../api/types.js';
import { CorruptObjectError, Storage } from './storage.js';

export interface CacheEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  obj: KObject;
  prev?: KObject;
  rev: number;
  key: string;
  /** JSON of `obj`, computed once and shared by every watcher. */
  json?: string;
  /** Per-event memo for sinks: each wire encoding is computed once however many watchers get it. */
  memo?: Map<string, unknown>;
}

export interface WatchSink {
  /** Returns false when the watcher can take no more (it is then closed). */
  send(type: WatchEventType, obj: KObject, json: string, memo?: Map<string, unknown>): boolean;
  close(err?: Error): void;
}

interface Subscriber {
  filter: (obj: KObject) => boolean;
  sink: WatchSink;
  fromRev: number;
  bookmarks: boolean;
}

export interface WatchCacheOptions {
  windowSize?: number;
  prefillRevisions?: number;
  bookmarkIntervalMs?: number;
  logger: Logger;
}

export class WatchCache {
  readonly items = new Map<string, KObject>();
  private window: CacheEvent[] = [];
  private windowStart = 0;
  private rev = 0;
  private readonly subs = new Set<Subscriber>();
  private watcher?: Watcher;
  private ready?: Promise<void>;
  private readonly windowSize: number;
  private readonly prefill: number;
  private bookmarkTimer?: NodeJS.Timeout;
  private readonly freshWaiters: { rev: number; resolve: () => void }[] = [];
  private stopped = false;

  constructor(
    private readonly storage: Storage,
    readonly resource: string,
    private readonly opts: WatchCacheOptions,
  ) {
    this.windowSize = opts.windowSize ?? 10_000;
    this.prefill = opts.prefillRevisions ?? 10_000;
  }

  get revision(): number {
    return this.rev;
  }

  get subscriberCount(): number {
    return this.subs.size;
  }

  start(): Promise<void> {
    this.ready ??= this.init();
    return this.ready;
  }

  stop(): void {
    this.stopped = true;
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    void this.watcher?.cancel().catch(() => undefined);
    for (const s of this.subs) s.sink.close();
    this.subs.clear();
  }

  private async init(): Promise<void> {
    const prefix = this.storage.resourcePrefix(this.resource);
    const current = await this.storage.currentRevision();
    let start = Math.max(1, current - this.prefill);
    let page;
    try {
      page = await this.listAll(prefix, start);
    } catch {
      start = current;
      page = await this.listAll(prefix, current);
    }
    this.items.clear();
    for (const it of page) this.items.set(keyFromObj(prefix, it.obj), it.obj);
    this.window = [];
    this.windowStart = start;
    this.rev = start;
    const watcher = await this.storage.etcd.watch().prefix(prefix).startRevision(String(start + 1)).create();
    this.watcher = watcher;
    // A broken stream resumes from what this cache has applied, not from etcd3's own mark: etcd3 moves a watcher's
    // start revision to the header revision of every response and of a reconnect's "created" reply, which runs
    // ahead of the events still to come while a reconnect catches up (etcd sends those in batches) — a second
    // disconnect in that window would skip them (ciZ5: a watch missed every create made during a member's crash).
    // Registered after etcd3's own listeners, so this one has the last word; events already applied are skipped.
    const resumeFromApplied = (): void => {
      watcher.request.start_revision = String(this.rev + 1);
    };
    watcher.on('connected', resumeFromApplied);
    watcher.on('data', (res) => {
      for (const ev of res.events) {
        try {
          this.apply(prefix, ev);
        } catch (err) {
          // A bug on one event must not take the etcd watch (and with it every API watch) down.
          this.opts.logger.error({ resource: this.resource, key: ev.kv.key.toString(), err: (err as Error).message }, 'watch event not applied');
        }
      }
      const headerRev = Number(res.header.revision);
      if (res.events.length === 0 && headerRev > this.rev) this.advance(headerRev);
      resumeFromApplied();
    });
    watcher.on('error', (err) => {
      if (this.stopped) return;
      this.opts.logger.warn({ resource: this.resource, err: err.message }, 'etcd watch failed; rebuilding cache');
      this.reset();
    });
    if (!this.bookmarkTimer) {
      this.bookmarkTimer = setInterval(() => this.bookmark(), this.opts.bookmarkIntervalMs ?? 5000);
      this.bookmarkTimer.unref();
    }
  }

  private async listAll(prefix: string, rev: number): Promise<{ obj: KObject }[]> {
    const out: { obj: KObject }[] = [];
    let startKey: string | undefined;
    do {
      const page = await this.storage.list(prefix, { rev, startKey, limit: 5000 });
      out.push(...page.items);
      startKey = page.nextKey;
    } while (startKey);
    return out;
  }

  /** Throws away the cache after etcd history was lost: every watcher gets "gone" and relists. */
  private reset(): void {
    for (const s of this.subs) s.sink.close(gone('watch cache was reset: the resourceVersion is too old'));
    this.subs.clear();
    void this.watcher?.cancel().catch(() => undefined);
    this.ready = undefined;
    void this.start().catch((err: unknown) => this.opts.logger.error({ err, resource: this.resource }, 'watch cache restart failed'));
  }

  /** Applies one etcd event. The previous object comes from `items` (every live key is there), not from etcd's prev_kv. */
  private apply(prefix: string, ev: { type: string; kv: { key: Buffer; value: Buffer; mod_revision: string } }): void {
    const key = ev.kv.key.toString();
    const shortKey = key.slice(prefix.length);
    const rev = Number(ev.kv.mod_revision);
    if (rev <= this.rev) return;
    const prev = this.items.get(shortKey);
    let ce: CacheEvent;
    if (ev.type === 'Delete') {
      if (!prev) {
        this.advance(rev);
        return;
      }
      const obj = { ...prev, metadata: { ...prev.metadata, resourceVersion: String(rev) } };
      this.items.delete(shortKey);
      ce = { type: 'DELETED', obj, prev, rev, key: shortKey };
    } else {
      let obj: KObject;
      try {
        obj = this.storage.decodeValue(ev.kv.value, rev, key);
      } catch (err) {
        if (!(err instanceof CorruptObjectError)) throw err;
        // Lists skip such a key; the cache does the same, so watchers see the object go as a list would show.
        this.opts.logger.error({ resource: this.resource, key, reason: err.why }, 'skipping a stored object that cannot be decoded');
        if (!prev) {
          this.advance(rev);
          return;
        }
        this.items.delete(shortKey);
        ce = { type: 'DELETED', obj: { ...prev, metadata: { ...prev.metadata, resourceVersion: String(rev) } }, prev, rev, key: shortKey };
        this.push(ce);
        return;
      }
      this.items.set(shortKey, obj);
      ce = { type: prev ? 'MODIFIED' : 'ADDED', obj, prev, rev, key: shortKey };
    }
    this.push(ce);
  }

  /** Appends an event to the window, advances the revision and delivers it. */
  private push(ce: CacheEvent): void {
    const rev = ce.rev;
    this.window.push(ce);
    // Trimmed in steps of a tenth of the window, not one event per push: a splice at the front moves every event
    // left behind it (10,000 per event at 500 events/s was the top of the apiserver's own CPU profile in
    // bench/scale.ts). The window only ever holds more than it must, never less.
    if (this.window.length > this.windowSize + Math.max(1, Math.floor(this.windowSize / 10))) {
      const dropped = this.window.splice(0, this.window.length - this.windowSize);
      this.windowStart = dropped[dropped.length - 1].rev;
    }
    this.advance(rev);
    for (const s of this.subs) this.deliver(s, ce);
    // The encodings served the watchers of this moment; a watch that resumes from the window later encodes again.
    // Kept, they were two copies of each of the window's 10,000 objects (~55 MB of the apiserver at 30,000 pods).
    ce.json = undefined;
    ce.memo = undefined;
  }

  private advance(rev: number): void {
    this.rev = rev;
    if (this.freshWaiters.length) {
      for (const w of this.freshWaiters.filter((w) => w.rev <= rev)) w.resolve();
      this.freshWaiters.splice(0, this.freshWaiters.length, ...this.freshWaiters.filter((w) => w.rev > rev));
    }
  }

  /** Resolves once the cache has seen revision `rev` (or after `timeoutMs`, whichever first). */
  waitFresh(rev: number, timeoutMs = 3000): Promise<void> {
    if (this.rev >= rev) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.freshWaiters.push({ rev, resolve: () => (clearTimeout(t), resolve()) });
    });
  }

  private deliver(s: Subscriber, ev: CacheEvent): void {
    if (ev.rev <= s.fromRev) return;
    let cur: boolean;
    let was: boolean;
    try {
      cur = s.filter(ev.obj);
      was = ev.prev ? s.filter(ev.prev) : false;
    } catch (err) {
      // A selector that cannot be evaluated on a malformed object: this watcher does not get that event.
      this.opts.logger.warn({ resource: this.resource, key: ev.key, err: (err as Error).message }, 'watch filter failed on an object');
      return;
    }
    let type: WatchEventType;
    if (ev.type === 'DELETED') {
      if (!was && !cur) return;
      type = 'DELETED';
    } else if (ev.type === 'ADDED') {
      if (!cur) return;
      type = 'ADDED';
    } else if (cur && was) type = 'MODIFIED';
    else if (cur) type = 'ADDED';
    else if (was) type = 'DELETED';
    else return;
    ev.json ??= JSON.stringify(ev.obj);
    ev.memo ??= new Map();
    if (!s.sink.send(type, ev.obj, ev.json, ev.memo)) {
      this.subs.delete(s);
      s.sink.close(new Error('watcher too slow: closed'));
    }
  }

  /**
   * Subscribes a watcher. `fromRev` undefined/0 sends the current state as ADDED first.
   * Throws "gone" when `fromRev` is older than the window.
   */
  watch(fromRev: number | undefined, filter: (obj: KObject) => boolean, sink: WatchSink, bookmarks: boolean): () => void {
    const sub: Subscriber = { filter, sink, fromRev: 0, bookmarks };
    if (!fromRev) {
      for (const obj of this.items.values()) if (filter(obj)) sink.send('ADDED', obj, JSON.stringify(obj));
      sub.fromRev = this.rev;
    } else {
      if (fromRev < this.windowStart) {
        throw gone(`too old resource version: ${fromRev} (${this.windowStart})`);
      }
      sub.fromRev = fromRev;
      for (const ev of this.window)
        if (ev.rev > fromRev) {
          this.deliver(sub, ev);
          ev.json = undefined;
          ev.memo = undefined;
        }
    }
    this.subs.add(sub);
    return () => {
      this.subs.delete(sub);
    };
  }

  private bookmark(): void {
    for (const s of this.subs) {
      if (!s.bookmarks || this.rev <= s.fromRev) continue;
      const obj = { kind: '', apiVersion: '', metadata: { resourceVersion: String(this.rev) } };
      s.sink.send('BOOKMARK', obj, JSON.stringify(obj));
    }
  }
}

function keyFromObj(prefix: string, obj: KObject): string {
  void prefix;
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name}` : `${obj.metadata?.name}`;
}
