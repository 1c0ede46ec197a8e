/**
 * Object storage on etcd. Keys are `<prefix>/<resource>/<namespace>/<name>` (cluster-scoped:
 * `<prefix>/<resource>/<name>`); resourceVersion is the etcd mod revision. Values are the object's JSON
 * without resourceVersion, which is set from the revision on every read.
 */
import { Etcd3, Range } from 'etcd3';
import { ApiError } from '../client/errors.js';
import { GRPC_BASE_OPTIONS } from '../client/proto.js';
import type { KObject } from '../client/types.js';

export interface StoredObject {
  obj: KObject;
  rev: number;
}

export interface ListPage {
  items: StoredObject[];
  /** The store revision the list was read at. */
  rev: number;
  /** Key to continue from, when more items remain. */
  nextKey?: string;
}

export class Storage {
  readonly etcd: Etcd3;

  constructor(
    endpoints: string[],
    readonly prefix = '/registry',
  ) {
    this.etcd = new Etcd3({ hosts: endpoints, dialTimeout: 5000, grpcOptions: { ...GRPC_BASE_OPTIONS } });
  }

  close(): void {
    this.etcd.close();
  }

  resourcePrefix(resource: string): string {
    return `${this.prefix}/${resource}/`;
  }

  key(resource: string, namespace: string, name: string): string {
    return namespace ? `${this.prefix}/${resource}/${namespace}/${name}` : `${this.prefix}/${resource}/${name}`;
  }

  /** Parses a stored value and stamps its resourceVersion. */
  static decode(value: Buffer | string, rev: number | string): KObject {
    const obj = JSON.parse(value.toString()) as KObject;
    obj.metadata = { ...obj.metadata, resourceVersion: String(rev) };
    return obj;
  }

  static encode(obj: KObject): string {
    const { resourceVersion: _rv, ...meta } = obj.metadata ?? {};
    return JSON.stringify({ ...obj, metadata: meta });
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const res = await wrap(() => this.etcd.get(key).exec());
    const kv = res.kvs[0];
    if (!kv) return undefined;
    return { obj: Storage.decode(kv.value, kv.mod_revision), rev: Number(kv.mod_revision) };
  }

  /** Creates the key only if it does not exist; returns the new revision, or undefined if it existed. */
  async create(key: string, obj: KObject): Promise<number | undefined> {
    const res = await wrap(() =>
      this.etcd.if(key, 'Create', '==', 0).then(this.etcd.put(key).value(Storage.encode(obj))).commit(),
    );
    return res.succeeded ? Number(res.header.revision) : undefined;
  }

  /** Compare-and-swap on the mod revision; returns the new revision, or undefined on mismatch. */
  async update(key: string, obj: KObject, expectedRev: number): Promise<number | undefined> {
    const res = await wrap(() =>
      this.etcd.if(key, 'Mod', '==', expectedRev).then(this.etcd.put(key).value(Storage.encode(obj))).commit(),
    );
    return res.succeeded ? Number(res.header.revision) : undefined;
  }

  /** Deletes if the mod revision matches; returns the delete revision, or undefined on mismatch. */
  async delete(key: string, expectedRev: number): Promise<number | undefined> {
    const res = await wrap(() => this.etcd.if(key, 'Mod', '==', expectedRev).then(this.etcd.delete().key(key)).commit());
    return res.succeeded ? Number(res.header.revision) : undefined;
  }

  /** Lists keys under a prefix, from `startKey` on, at revision `rev` (0: current). */
  async list(prefix: string, opts: { limit?: number; startKey?: string; rev?: number } = {}): Promise<ListPage> {
    const end = prefixEnd(prefix);
    const q = this.etcd.getAll().inRange(new Range(opts.startKey ?? prefix, end));
    if (opts.limit) q.limit(opts.limit);
    if (opts.rev) q.revision(opts.rev);
    const res = await wrap(() => q.exec());
    const items = res.kvs.map((kv) => ({ obj: Storage.decode(kv.value, kv.mod_revision), rev: Number(kv.mod_revision) }));
    const rev = opts.rev || Number(res.header.revision);
    const last = res.kvs[res.kvs.length - 1];
    return { items, rev, nextKey: res.more && last ? last.key.toString() + '\x00' : undefined };
  }

  async currentRevision(): Promise<number> {
    const res = await wrap(() => this.etcd.get(`${this.prefix}/__revision__`).exec());
    return Number(res.header.revision);
  }

  async compact(rev: number): Promise<void> {
    await wrap(() => this.etcd.kv.compact({ revision: String(rev), physical: false }));
  }
}

function prefixEnd(prefix: string): string {
  const buf = Buffer.from(prefix);
  buf[buf.length - 1]++;
  return buf.toString();
}

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/compacted/i.test(msg)) throw new ApiError('Expired', `The resourceVersion for the provided list is too old: ${msg}`);
    throw new ApiError('ServiceUnavailable', `etcd unavailable: ${msg}`);
  }
}
