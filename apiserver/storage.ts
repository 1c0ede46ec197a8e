/**
 * Object storage on etcd. Keys are `<prefix>/<resource>/<namespace>/<name>` (cluster-scoped:
 * `<prefix>/<resource>/<name>`); resourceVersion is the etcd mod revision. Values are the object's JSON
 * without resourceVersion, which is set from the revision on every read.
 */
import type { Metadata } from '@grpc/grpc-js';
import { ExponentialBackoff } from 'cockatiel';
import { Etcd3, Range } from 'etcd3';
import type { Logger } from 'pino';
import { ApiError } from '../api/errors.js';
import { GRPC_BASE_OPTIONS } from '../client/proto.js';
import { resourceInfo } from '../api/resources.js';
import type { KObject } from '../api/types.js';
import type { EncryptionConfig } from './encryption.js';
import { EtcdWire, KEEPALIVE_MS, KEEPALIVE_TIMEOUT_MS, type Compare, type EtcdTls, type RequestOp } from './etcdwire.js';
import { LeaseManager } from './leases.js';

export interface StoredObject {
  obj: KObject;
  rev: number;
  /** Bytes of the stored value (lists bound their pages by it); absent where it was not read from etcd. */
  size?: number;
}

export interface ListPage {
  items: StoredObject[];
  /** The store revision the list was read at. */
  rev: number;
  /** Key to continue from, when more items remain. */
  nextKey?: string;
}

/**
 * Thrown when a value stored under a key is not an object of that key's resource (not JSON, not an
 * object, or another kind): written around the apiserver, or by a bug. Reads of the key fail with it;
 * lists and the watch cache skip the key with an error log.
 */
export class CorruptObjectError extends ApiError {
  constructor(
    readonly key: string,
    readonly why: string,
  ) {
    super('InternalError', `the object stored at ${key} cannot be decoded: ${why}`);
    this.name = 'CorruptObjectError';
  }
}

export class Storage {
  /** Watches, lists, compaction. */
  readonly etcd: Etcd3;
  /** Single-key reads and the compare-and-swap writes: the per-request path (see etcdwire.ts). */
  private readonly wire: EtcdWire;

  constructor(
    endpoints: string[],
    readonly prefix = '/registry',
    private readonly log?: Logger,
    /** Encryption at rest per resource (--encryption-provider-config); none = values stored as JSON. */
    private readonly encryption: EncryptionConfig = new Map(),
    /** Mutual TLS to etcd (etcd's --client-cert-auth): its CA and the apiserver's etcd client certificate. */
    tls?: EtcdTls,
    /** Resources whose keys expire, with their time to live in seconds (--event-ttl: `events`). */
    private readonly ttls: ReadonlyMap<string, number> = new Map(),
  ) {
    // Replies as big as etcd sends (kube-apiserver's etcd client: MaxCallRecvMsgSize = MaxInt32): grpc-js'
    // default of 4 MiB made a list of five 1 MB ConfigMaps fail, open etcd3's circuit breaker and answer
    // every request 503, and the apiserver could not start again with them stored.
    this.etcd = new Etcd3({
      hosts: endpoints,
      dialTimeout: 5000,
      // A watch stream that broke reconnects (from its last revision) to a member picked at random; with
      // one member down, a few picks of it in a row grew etcd3's default backoff (up to 30 s) and held
      // every watch of a resource for that long. A short cap: the next try is another member anyway.
      faultHandling: { watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }).next() },
      ...(tls ? { credentials: { rootCertificate: tls.ca, certChain: tls.cert, privateKey: tls.key } } : {}),
      grpcOptions: {
        ...GRPC_BASE_OPTIONS,
        'grpc.max_receive_message_length': 2 ** 31 - 1,
        // A member that went silent (partitioned) is found by a missed ping, not after TCP gives up: the same
        // period as etcdwire's (its comment says what etcd must allow). Pings with no call or stream open would
        // be answered with GOAWAY (etcd's enforcement policy), so none are sent then.
        'grpc.keepalive_time_ms': KEEPALIVE_MS,
        'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
      },
    });
    requireLeader(this.etcd, log);
    this.wire = new EtcdWire(endpoints, undefined, tls);
    this.leases = new LeaseManager({ grant: async (ttl) => (await wrap(() => this.etcd.lease(ttl, { autoKeepAlive: false }).grant())).toString() });
  }

  private readonly leases: LeaseManager;

  /** The lease a write of `key` carries: its resource's TTL (Events), or none. */
  private async leaseFor(key: string): Promise<string | undefined> {
    if (this.ttls.size === 0 || !key.startsWith(`${this.prefix}/`)) return undefined;
    const ttl = this.ttls.get(key.slice(this.prefix.length + 1).split('/')[0]);
    return ttl === undefined ? undefined : this.leases.lease(ttl);
  }

  close(): void {
    this.etcd.close();
    this.wire.close();
  }

  resourcePrefix(resource: string): string {
    return `${this.prefix}/${resource}/`;
  }

  key(resource: string, namespace: string, name: string): string {
    return namespace ? `${this.prefix}/${resource}/${namespace}/${name}` : `${this.prefix}/${resource}/${name}`;
  }

  /**
   * Parses a stored value and stamps its resourceVersion. With the value's `key`, checks that it is an
   * object of the key's resource (throws CorruptObjectError otherwise).
   */
  static decode(value: Buffer | string, rev: number | string, key?: string, prefix = '/registry'): KObject {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value.toString());
    } catch (err) {
      throw new CorruptObjectError(key ?? '(unknown key)', `not JSON (${(err as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CorruptObjectError(key ?? '(unknown key)', `not a JSON object`);
    const obj = parsed as KObject;
    if (obj.metadata !== undefined && (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata)))
      throw new CorruptObjectError(key ?? '(unknown key)', 'metadata is not an object');
    if (key?.startsWith(`${prefix}/`)) {
      const resource = key.slice(prefix.length + 1).split('/')[0];
      const kind = resourceInfo(resource)?.kind;
      if (kind && obj.kind !== undefined && obj.kind !== kind) throw new CorruptObjectError(key, `kind "${String(obj.kind)}" where ${resource} hold kind "${kind}"`);
    }
    obj.metadata = { ...obj.metadata, resourceVersion: String(rev) };
    return obj;
  }

  /** The transformer of the resource a key belongs to, if its values are encrypted. */
  private transformerFor(key: string): ReturnType<EncryptionConfig['get']> {
    if (this.encryption.size === 0 || !key.startsWith(`${this.prefix}/`)) return undefined;
    return this.encryption.get(key.slice(this.prefix.length + 1).split('/')[0]);
  }

  /** decode() after the value's encryption is removed (a value no provider reads is a CorruptObjectError). */
  decodeValue(value: Buffer, rev: number | string, key: string): KObject {
    const t = this.transformerFor(key);
    if (!t) return Storage.decode(value, rev, key, this.prefix);
    let plain: Buffer;
    try {
      plain = t.fromStorage(key, value);
    } catch (err) {
      throw new CorruptObjectError(key, `cannot decrypt (${(err as Error).message})`);
    }
    return Storage.decode(plain, rev, key, this.prefix);
  }

  /** Decodes listed key-values, skipping (with an error log) the ones that are not objects of their resource. */
  decodeAll(kvs: readonly { key: Buffer; value: Buffer; mod_revision: string }[]): StoredObject[] {
    const out: StoredObject[] = [];
    for (const kv of kvs) {
      try {
        out.push({ obj: this.decodeValue(kv.value, kv.mod_revision, kv.key.toString()), rev: Number(kv.mod_revision), size: kv.value.length });
      } catch (err) {
        if (!(err instanceof CorruptObjectError)) throw err;
        this.log?.error({ key: err.key, reason: err.why }, 'skipping a stored object that cannot be decoded');
      }
    }
    return out;
  }

  static encode(obj: KObject): string {
    const { resourceVersion: _rv, ...meta } = obj.metadata ?? {};
    return JSON.stringify({ ...obj, metadata: meta });
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const res = await wrap(() => this.wire.range({ key: Buffer.from(key) }));
    const kv = res.kvs[0];
    if (!kv) return undefined;
    return { obj: this.decodeValue(kv.value, kv.mod_revision, key), rev: Number(kv.mod_revision) };
  }

  /** Creates the key only if it does not exist; returns the new revision, or undefined if it existed. */
  create(key: string, obj: KObject): Promise<number | undefined> {
    return this.txn(key, { target: 'Create', create_revision: '0' }, obj);
  }

  /** Compare-and-swap on the mod revision; returns the new revision, or undefined on mismatch. */
  update(key: string, obj: KObject, expectedRev: number): Promise<number | undefined> {
    return this.txn(key, { target: 'Mod', mod_revision: String(expectedRev) }, obj);
  }

  /** Deletes if the mod revision matches; returns the delete revision, or undefined on mismatch. */
  delete(key: string, expectedRev: number): Promise<number | undefined> {
    return this.txn(key, { target: 'Mod', mod_revision: String(expectedRev) });
  }

  /** One equality compare on `key`, then a put of `obj` (a delete without one); the new revision, or undefined. */
  private async txn(key: string, cmp: Omit<Compare, 'key' | 'result'>, obj?: KObject): Promise<number | undefined> {
    const k = Buffer.from(key);
    let value: Buffer | undefined;
    if (obj) {
      value = Buffer.from(Storage.encode(obj));
      const t = this.transformerFor(key);
      if (t) value = t.toStorage(key, value);
    }
    const lease = value ? await this.leaseFor(key) : undefined;
    const op: RequestOp = value ? { request_put: { key: k, value, ...(lease ? { lease } : {}) } } : { request_delete_range: { key: k } };
    const res = await wrap(() => this.wire.txn({ compare: [{ ...cmp, key: k, result: 'Equal' }], success: [op], failure: [] }));
    return res.succeeded ? Number(res.header.revision) : undefined;
  }

  /** Lists keys under a prefix, from `startKey` on, at revision `rev` (0: current). */
  async list(prefix: string, opts: { limit?: number; startKey?: string; rev?: number } = {}): Promise<ListPage> {
    const end = prefixEnd(prefix);
    const q = this.etcd.getAll().inRange(new Range(opts.startKey ?? prefix, end));
    if (opts.limit) q.limit(opts.limit);
    if (opts.rev) q.revision(opts.rev);
    const res = await wrap(() => q.exec());
    const items = this.decodeAll(res.kvs);
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

/**
 * Every etcd3 call and watch stream carries etcd's `hasleader` metadata, as kube-apiserver's watches do
 * (clientv3.WithRequireLeader): a member cut off from its peers then cancels the watch with "no leader"
 * and etcd3 reconnects it to another member from its last revision, instead of the watch going quiet on
 * the lost member for good. etcd3 has no option for call metadata: its connection pool's metadata source
 * (etcd3 1.1, no auth configured) is wrapped. If that shape is not there, calls go without it, with a warning.
 */
function requireLeader(etcd: Etcd3, log?: Logger): void {
  const auth = (etcd as unknown as { pool?: { authenticator?: { getMetadata?: () => Promise<Metadata> } } }).pool?.authenticator;
  const inner = auth?.getMetadata?.bind(auth);
  if (!auth || !inner) {
    log?.warn('etcd3 has no metadata hook: watches will not require a leader (a partitioned etcd member may stall them)');
    return;
  }
  auth.getMetadata = async () => {
    const md = (await inner()).clone();
    md.set('hasleader', 'true');
    return md;
  };
}

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/compacted/i.test(msg)) throw new ApiError('Expired', `The resourceVersion for the provided list is too old: ${msg}`);
    // etcd's request limit (--max-request-bytes): the client sent too much, it is not an outage.
    if (/request is too large/i.test(msg)) throw new ApiError('RequestEntityTooLarge', `Request entity too large: ${msg}`);
    if (/future revision/i.test(msg))
      throw new ApiError('Timeout', `Timeout: Too large resource version: ${msg}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
    throw new ApiError('ServiceUnavailable', `etcd unavailable: ${msg}`);
  }
}
