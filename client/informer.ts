/**
 * Informer<T>: list, then watch from the list's resourceVersion, keeping a local cache.
 * A broken stream resumes from the last seen resourceVersion; "gone" (compaction) forces a relist whose
 * diff against the cache is delivered as add/update/delete. Backoff 1 s → 30 s, reset by any event.
 * Handlers receive cached objects: never mutate them (clone first).
 */
import type { Logger } from 'pino';
import type { ApiClient, ListOptions } from './api.js';
import { isGone } from '../api/errors.js';
import { realClock, type Clock } from '../component-base/clock.js';
import { keyOf, type KObject, type TypeOf } from '../api/types.js';
import { matchesLabels, type Selector } from '../api/selectors.js';

export interface EventHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  clock?: Clock;
  logger?: Logger;
  /**
   * Page size of the list (default 500, as client-go's pager; 0: one unpaged list). Paged, no list reply can pass
   * the 16 MiB gRPC message limit: an unpaged relist of 30,000 pods (96 MB) failed and kept a re-elected
   * controller-manager from ever syncing (bench/scale.ts).
   */
  pageSize?: number;
}

export type IndexFunc<T> = (obj: T) => string[];

/** Read-only view of an informer's cache. */
export interface Lister<T> {
  get(key: string): T | undefined;
  list(): T[];
  /** Objects in one namespace, optionally filtered by a label selector. */
  byNamespace(namespace: string, selector?: Selector): T[];
  byIndex(index: string, value: string): T[];
}

export class Informer<R extends string, T extends KObject = TypeOf<R> & KObject> implements Lister<T> {
  private readonly items = new Map<string, T>();
  private readonly handlers: EventHandlers<T>[] = [];
  private readonly indexers = new Map<string, IndexFunc<T>>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private resourceVersion = '';
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private readonly clock: Clock;
  private running?: Promise<void>;
  /** Count of list calls (exposed for tests and metrics). */
  relists = 0;

  constructor(
    private readonly client: ApiClient,
    readonly resource: R,
    private readonly opts: InformerOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.addIndex('namespace', (o) => [o.metadata?.namespace ?? '']);
  }

  addHandler(h: EventHandlers<T>): void {
    this.handlers.push(h);
    if (this.synced) for (const obj of this.items.values()) h.onAdd?.(obj);
  }

  addIndex(name: string, fn: IndexFunc<T>): void {
    this.indexers.set(name, fn);
    const idx = new Map<string, Set<string>>();
    this.indices.set(name, idx);
    for (const [key, obj] of this.items) for (const v of this.keysOf(name, fn, obj)) addTo(idx, v, key);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list has been loaded into the cache. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      this.syncWaiters.push(resolve);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  byNamespace(namespace: string, selector?: Selector): T[] {
    const keys = this.indices.get('namespace')?.get(namespace) ?? new Set<string>();
    const out: T[] = [];
    for (const k of keys) {
      const o = this.items.get(k);
      if (o && (!selector || matchesLabels(selector, o.metadata?.labels))) out.push(o);
    }
    return out;
  }

  byIndex(index: string, value: string): T[] {
    const keys = this.indices.get(index)?.get(value);
    if (!keys) return [];
    return [...keys].map((k) => this.items.get(k)).filter((o): o is T => o !== undefined);
  }

  /** Starts the list/watch loop; returns at once. The loop ends when the signal aborts. */
  start(signal: AbortSignal): void {
    if (this.running) return;
    this.running = this.run(signal).catch((err: unknown) => {
      if (!signal.aborted) this.opts.logger?.error({ err, resource: this.resource }, 'informer stopped');
    });
  }

  /** Resolves when the loop has ended (after abort). */
  async stopped(): Promise<void> {
    await this.running;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let backoff = 1000;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          backoff = 1000;
        }
        for await (const ev of this.client.watch(this.resource, {
          namespace: this.opts.namespace,
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
          resourceVersion: this.resourceVersion,
          allowBookmarks: true,
          signal,
        })) {
          backoff = 1000;
          const obj = ev.object as unknown as T;
          const rv = obj.metadata?.resourceVersion;
          if (ev.type === 'BOOKMARK') {
            if (rv) this.resourceVersion = rv;
            continue;
          }
          if (ev.type === 'DELETED') this.remove(keyOf(obj), obj);
          else this.upsert(obj);
          if (rv) this.resourceVersion = rv;
        }
        // The server ended the stream cleanly (timeout, shutdown): resume from the last resourceVersion.
      } catch (err) {
        if (signal.aborted) return;
        if (isGone(err)) {
          this.opts.logger?.info({ resource: this.resource }, 'watch expired; relisting');
          needList = true;
          continue;
        }
        this.opts.logger?.warn({ resource: this.resource, err: (err as Error).message, backoffMs: backoff }, 'watch failed; retrying');
        try {
          await this.clock.sleep(backoff, signal);
        } catch {
          return;
        }
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  private async relist(): Promise<void> {
    this.relists++;
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    do {
      const opts: ListOptions = {
        namespace: this.opts.namespace,
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        limit: this.opts.pageSize ?? 500,
        continue: cont,
      };
      const page = await this.client.list(this.resource, opts);
      for (const item of page.items as unknown as T[]) fresh.set(keyOf(item), item);
      rv = page.metadata.resourceVersion ?? rv;
      cont = page.metadata.continue || undefined;
    } while (cont);
    for (const [key, old] of [...this.items]) if (!fresh.has(key)) this.remove(key, old);
    for (const obj of fresh.values()) this.upsert(obj);
    this.resourceVersion = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private upsert(obj: T): void {
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    this.index(key, obj);
    for (const h of this.handlers) {
      try {
        if (old) h.onUpdate?.(old, obj);
        else h.onAdd?.(obj);
      } catch (err) {
        this.opts.logger?.error({ err, key }, 'event handler threw');
      }
    }
  }

  private remove(key: string, last: T): void {
    const old = this.items.get(key);
    if (!old) return;
    this.unindex(key, old);
    this.items.delete(key);
    for (const h of this.handlers) {
      try {
        h.onDelete?.(last);
      } catch (err) {
        this.opts.logger?.error({ err, key }, 'event handler threw');
      }
    }
  }

  /**
   * An index's keys for an object; none when the index function throws on it (a malformed object written around
   * the apiserver's validation: an ownerReferences that is not a list). The object stays in the cache and in the
   * other indexes; the informer goes on.
   */
  private keysOf(name: string, fn: IndexFunc<T>, obj: T): string[] {
    try {
      const keys = fn(obj);
      return Array.isArray(keys) ? keys : [];
    } catch (err) {
      this.opts.logger?.warn({ resource: this.resource, index: name, key: keyOf(obj), err: (err as Error).message }, 'index function failed on an object; not indexed there');
      return [];
    }
  }

  private index(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const idx = this.indices.get(name);
      if (idx) for (const v of this.keysOf(name, fn, obj)) addTo(idx, v, key);
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const idx = this.indices.get(name);
      if (!idx) continue;
      for (const v of this.keysOf(name, fn, obj)) {
        const set = idx.get(v);
        set?.delete(key);
        if (set && set.size === 0) idx.delete(v);
      }
    }
  }
}

function addTo(idx: Map<string, Set<string>>, v: string, key: string): void {
  let set = idx.get(v);
  if (!set) idx.set(v, (set = new Set()));
  set.add(key);
}
