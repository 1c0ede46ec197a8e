/**
 * The registry: every API verb for every resource, over etcd storage and the watch cache. Both the gRPC
 * API and the REST facade call this one implementation. It is a generic store (Kubernetes'
 * genericregistry.Store): server-owned metadata, compare-and-swap, graceful deletion and finalizers are
 * the same for every resource, and each step asks the resource's strategy (apiserver/strategies/) for
 * defaults, validation, admission, status handling and what the resource holds outside etcd.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  isAlreadyExists,
  notFound,
  type StatusCause,
} from '../api/errors.js';
import { RESOURCES, apiVersionOf, resourceInfo, type ResourceInfo } from '../api/resources.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError } from '../api/selectors.js';
import type { KObject } from '../api/types.js';
import { generateNameSuffix, nowTimestamp } from '../api/objects.js';
import { Allocators } from './allocator.js';
import { applyPatch } from './patch.js';
import { compileSchemas, decodeObject, typeError } from './schema.js';
import { Storage } from './storage.js';
import { SYSTEM_NAMESPACES } from './strategies/core.js';
import { strategyFor, validateObject } from './strategies/index.js';
import type { DeleteRequest, ResolvedStrategy, StrategyContext } from './strategy.js';
import { MAX_OBJECT_BYTES, SYSTEM_PRIORITY_CLASSES } from './validation.js';
import { WatchCache, type WatchSink } from './watchcache.js';
import type { AdmissionPlugin, AdmissionRequest } from './auth/admission.js';
import type { UserInfo } from './auth/user.js';
import { MutatingFlowControl } from './flowcontrol.js';
import type { ApiserverMetrics, RequestVerb } from './metrics.js';

export interface RegistryConfig {
  serviceCidr: string;
  nodePortRange: [number, number];
  defaultTolerationSeconds: number;
  watchWindowSize: number;
  bookmarkIntervalMs: number;
  /** Clients' mutating requests at once (flowcontrol.ts); 0: no limit. Default 200, as kube-apiserver. */
  maxMutatingInflight?: number;
}

export type DeleteOptionsBody = DeleteRequest;

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  /** Exact: the list as it was at `resourceVersion` (read from etcd at that revision). */
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

export interface WatchQuery {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowBookmarks?: boolean;
}

export interface WriteOptions {
  dryRun?: boolean;
  subresource?: string;
  /** Who asks: admission plugins run only for requests that carry a user (not the apiserver's own writes). */
  user?: UserInfo;
  /** Collects the admission warnings for the client's Warning headers. */
  warnings?: string[];
}

/** Who asks a delete, for admission. */
export interface RequestContext {
  user?: UserInfo;
  warnings?: string[];
}

export { SYSTEM_NAMESPACES };

/**
 * Labels the apiserver keeps on its system namespaces: kube-system runs what the cluster itself needs
 * (hostNetwork, privileged daemons), so Pod Security lets it, as clusters commonly label or exempt it.
 */
export const SYSTEM_NAMESPACE_LABELS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'kube-system': { 'pod-security.kubernetes.io/enforce': 'privileged' },
};

const MAX_CAS_RETRIES = 20;

/** Bytes of stored objects after which a paged list (`limit` set) ends its page early with a continue token. */
export const PAGE_BYTES = 8 * 1024 * 1024;

/** Kubernetes' maxNameGenerationCreateAttempts: a create with generateName tries this many names before AlreadyExists. */
const NAME_GENERATION_ATTEMPTS = 8;

/** How long after deleting a namespace its admission reads it from etcd (Kubernetes' forceLiveLookupTTL). */
const NAMESPACE_LIVE_LOOKUP_MS = 30_000;

export class Registry {
  readonly caches = new Map<string, WatchCache>();
  /**
   * Namespaces this apiserver deleted in the last 30 s, as Kubernetes' NamespaceLifecycle admission keeps them
   * (forceLiveLookupTTL): a create there right after the delete reads the namespace from etcd, since the watch cache may
   * not have its deletionTimestamp yet (`kubectl delete ns x; kubectl create cm -n x …` was let in).
   */
  private readonly namespacesDeleted = new Map<string, number>();

  /** The last task queued per key by StrategyContext.serialize (evictions in a namespace run one at a time). */
  private readonly serialized = new Map<string, Promise<unknown>>();
  readonly allocators: Allocators;
  /** Seats for clients' mutating requests (Lease writes and the apiserver's own never wait). */
  readonly flow: MutatingFlowControl;
  /** What the strategies may use of this store. */
  private readonly ctx: StrategyContext;
  /** Admission plugins that depend on the requesting user, run after each strategy's own admission. */
  admission: readonly AdmissionPlugin[] = [];
  /** Counts and times each request (set by the server; tests may leave it out). */
  metrics?: ApiserverMetrics;
  /** Answers serviceaccounts/token (the TokenRequest API); set when the apiserver has a service-account key. */
  tokenIssuer?: (namespace: string, name: string, body: unknown) => Promise<KObject>;

  constructor(
    readonly storage: Storage,
    private readonly cfg: RegistryConfig,
    private readonly log: Logger,
  ) {
    this.allocators = new Allocators(storage, cfg.serviceCidr, cfg.nodePortRange);
    this.flow = new MutatingFlowControl({ maxMutatingInflight: cfg.maxMutatingInflight ?? 200 });
    this.ctx = this.strategyContext();
    compileSchemas(RESOURCES.filter((i) => !i.virtual));
    for (const info of RESOURCES.filter((i) => !i.virtual))
      this.caches.set(
        info.resource,
        new WatchCache(storage, info.resource, { logger: log, windowSize: cfg.watchWindowSize, bookmarkIntervalMs: cfg.bookmarkIntervalMs }),
      );
  }

  /** Fills the watch caches and makes sure the system namespaces and priority classes exist. */
  async start(): Promise<void> {
    await Promise.all([...this.caches.values()].map((c) => c.start()));
    const ensure = async (resource: string, obj: KObject): Promise<void> => {
      try {
        await this.create(resource, '', obj);
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
      }
    };
    // All at once: each is an etcd write or two, and a fresh apiserver serves only after them.
    const namespace = async (name: string): Promise<void> => {
      const labels = SYSTEM_NAMESPACE_LABELS[name];
      await ensure('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels ? { labels: { ...labels } } : {}) } });
      // A namespace made before the label existed (a lab's etcd volume kept across upgrades) gets it too;
      // a value the user set is theirs to keep.
      const cur = this.caches.get('namespaces')?.items.get(name) ?? (await this.storage.get(this.storage.key('namespaces', '', name)))?.obj;
      if (labels && Object.keys(labels).some((k) => cur?.metadata?.labels?.[k] === undefined))
        await this.mutate(this.info('namespaces'), '', name, (o) => ({ ...o, metadata: { ...o.metadata, labels: { ...labels, ...(o.metadata?.labels ?? {}) } } }));
    };
    await Promise.all([
      ...SYSTEM_NAMESPACES.map(namespace),
      ...[...SYSTEM_PRIORITY_CLASSES].map(([name, value]) =>
        ensure('priorityclasses', {
          apiVersion: 'scheduling.k8s.io/v1',
          kind: 'PriorityClass',
          metadata: { name },
          value,
          description: `Used for system critical pods that must ${name === 'system-node-critical' ? 'not be moved from their current node' : 'run in the cluster, but can be moved to another node if necessary'}.`,
        }),
      ),
    ]);
  }

  stop(): void {
    for (const c of this.caches.values()) c.stop();
  }

  info(resource: string): ResourceInfo {
    const info = resourceInfo(resource);
    if (!info || info.virtual) throw new ApiError('NotFound', `the server could not find the requested resource (resource "${resource}")`);
    return info;
  }

  private key(info: ResourceInfo, namespace: string, name: string): string {
    return this.storage.key(info.resource, info.namespaced ? namespace : '', name);
  }

  private scope(info: ResourceInfo, namespace: string): string {
    if (!info.namespaced) return '';
    if (!namespace) throw badRequest(`a namespace is required for ${info.resource}`);
    return namespace;
  }

  // ---------------------------------------------------------------- reads

  async get(resource: string, namespace: string, name: string, subresource = ''): Promise<KObject> {
    return this.timed('GET', resource, subresource, () => this.getNow(resource, namespace, name, subresource));
  }

  /** Runs a request and reports it to `metrics`: a resource or subresource this server does not have is counted as "unknown". */
  private timed<T>(verb: RequestVerb, resource: string, subresource: string, fn: () => Promise<T>): Promise<T> {
    const m = this.metrics;
    if (!m) return fn();
    const t0 = performance.now();
    const info = resourceInfo(resource);
    const label = info ? resource : 'unknown';
    const sub = !subresource ? '' : info?.subresources.includes(subresource) ? subresource : 'unknown';
    return fn().then(
      (v) => {
        m.observe(verb, label, sub, t0);
        return v;
      },
      (err: unknown) => {
        m.observe(verb, label, sub, t0, err);
        throw err;
      },
    );
  }

  private async getNow(resource: string, namespace: string, name: string, subresource: string): Promise<KObject> {
    const info = this.info(resource);
    const cur = await this.storage.get(this.key(info, this.scope(info, namespace), name));
    if (!cur) throw notFound(info.resource, name, info.group);
    if (subresource === 'scale') return toScale(info, cur.obj);
    return cur.obj;
  }

  async list(resource: string, namespace: string, q: ListQuery = {}): Promise<{ items: KObject[]; resourceVersion: string; continue?: string; remaining?: number }> {
    return this.timed('LIST', resource, '', () => this.listNow(resource, namespace, q));
  }

  private async listNow(resource: string, namespace: string, q: ListQuery): Promise<{ items: KObject[]; resourceVersion: string; continue?: string; remaining?: number }> {
    const info = this.info(resource);
    const filter = this.filter(info, namespace, q.labelSelector, q.fieldSelector);
    const prefix = info.namespaced && namespace ? `${this.storage.resourcePrefix(info.resource)}${namespace}/` : this.storage.resourcePrefix(info.resource);
    if (q.resourceVersion === '0' && !q.limit) {
      const cache = this.caches.get(info.resource);
      if (cache) {
        await cache.start();
        const items = [...cache.items.values()].filter(filter).sort(byKey);
        return { items, resourceVersion: String(cache.revision) };
      }
    }
    let startKey: string | undefined;
    let rev = q.resourceVersionMatch === 'Exact' && q.resourceVersion ? Number(q.resourceVersion) : 0;
    if (q.continue) {
      try {
        const tok = JSON.parse(Buffer.from(q.continue, 'base64').toString()) as { rv?: unknown; start?: unknown };
        // A client-supplied token: its fields are checked, a string revision would reach etcd as a 503.
        if (!Number.isSafeInteger(tok.rv) || (tok.rv as number) <= 0 || typeof tok.start !== 'string') throw new Error('malformed');
        rev = tok.rv as number;
        startKey = prefix + tok.start;
      } catch {
        throw badRequest('continue key is not valid');
      }
    }
    const limit = q.limit && q.limit > 0 ? q.limit : 0;
    const items: KObject[] = [];
    let bytes = 0;
    for (;;) {
      // Unlimited lists are still read from etcd in pages (at one revision), so one etcd reply stays small.
      const page = await this.storage.list(prefix, { startKey, rev, limit: limit ? Math.max(limit, 100) : 1000 });
      rev = page.rev;
      for (let i = 0; i < page.items.length; i++) {
        const obj = page.items[i].obj;
        if (!filter(obj)) continue;
        items.push(obj);
        bytes += page.items[i].size ?? 0;
        // A paged list also ends a page at PAGE_BYTES (the API lets a page hold fewer than `limit` items), so
        // no reply outgrows a transport's message limit however big the objects are.
        if (limit && (items.length === limit || bytes >= PAGE_BYTES)) {
          const lastKey = this.storage.key(info.resource, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
          const more = i < page.items.length - 1 || page.nextKey !== undefined;
          if (!more) return { items, resourceVersion: String(rev) };
          const tok = { rv: rev, start: lastKey.slice(prefix.length) + '\x00' };
          return { items, resourceVersion: String(rev), continue: Buffer.from(JSON.stringify(tok)).toString('base64') };
        }
      }
      if (!page.nextKey) break;
      startKey = page.nextKey;
    }
    return { items, resourceVersion: String(rev) };
  }

  private filter(info: ResourceInfo, namespace: string, labelSelector?: string, fieldSelector?: string): (o: KObject) => boolean {
    let labels;
    let fields;
    try {
      labels = parseLabelSelector(labelSelector);
      fields = parseFieldSelector(fieldSelector);
    } catch (err) {
      if (err instanceof SelectorError) throw badRequest(err.message);
      throw err;
    }
    const ns = info.namespaced ? namespace : '';
    return (o) =>
      (!ns || o.metadata?.namespace === ns) && matchesLabels(labels, o.metadata?.labels) && (fields.length === 0 || matchesFields(fields, o));
  }

  /** Subscribes a watcher; returns the unsubscribe function. Throws "gone" for a too-old resourceVersion. */
  async watch(resource: string, namespace: string, q: WatchQuery, sink: WatchSink): Promise<() => void> {
    return this.timed('WATCH', resource, '', () => this.watchNow(resource, namespace, q, sink));
  }

  private async watchNow(resource: string, namespace: string, q: WatchQuery, sink: WatchSink): Promise<() => void> {
    const info = this.info(resource);
    const filter = this.filter(info, namespace, q.labelSelector, q.fieldSelector);
    const cache = this.caches.get(info.resource);
    if (!cache) throw notFound(info.resource, '', info.group);
    await cache.start();
    const rv = q.resourceVersion ? Number(q.resourceVersion) : 0;
    if (Number.isNaN(rv)) throw badRequest(`invalid resourceVersion "${q.resourceVersion}"`);
    return cache.watch(rv, filter, sink, q.allowBookmarks ?? false);
  }

  // ------------------------------------------------ writes, through flow control

  async create(resource: string, namespace: string, input: unknown, opts: WriteOptions & { name?: string } = {}): Promise<KObject> {
    return this.timed('POST', resource, opts.subresource ?? '', () => this.flow.run(resource, opts.user, () => this.createRetryingGeneratedName(resource, namespace, input, opts)));
  }

  /**
   * Kubernetes' RetryGenerateName: a create whose generated name is already taken is run again with a new one, up
   * to 8 attempts, rather than failing its client (a ReplicaSet's pod would otherwise be one creation short).
   */
  private async createRetryingGeneratedName(resource: string, namespace: string, input: unknown, opts: WriteOptions & { name?: string }): Promise<KObject> {
    const meta = (input as { metadata?: { name?: unknown; generateName?: unknown } } | null)?.metadata;
    const generated = !opts.subresource && typeof meta?.generateName === 'string' && meta.generateName !== '' && !meta.name;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.createNow(resource, namespace, input, opts);
      } catch (err) {
        if (!generated || attempt >= NAME_GENERATION_ATTEMPTS || !isAlreadyExists(err)) throw err;
      }
    }
  }

  async update(resource: string, namespace: string, name: string, input: unknown, opts: WriteOptions = {}): Promise<KObject> {
    return this.timed('PUT', resource, opts.subresource ?? '', () => this.flow.run(resource, opts.user, () => this.updateNow(resource, namespace, name, input, opts)));
  }

  async patch(resource: string, namespace: string, name: string, type: string, patchBody: unknown, opts: WriteOptions = {}): Promise<KObject> {
    return this.timed('PATCH', resource, opts.subresource ?? '', () => this.flow.run(resource, opts.user, () => this.patchNow(resource, namespace, name, type, patchBody, opts)));
  }

  async delete(resource: string, namespace: string, name: string, options: DeleteOptionsBody = {}, rc: RequestContext = {}): Promise<KObject> {
    const deleted = await this.timed('DELETE', resource, '', () => this.flow.run(resource, rc.user, () => this.deleteNow(resource, namespace, name, options, rc)));
    if (resource === 'namespaces') this.noteNamespaceDeleted(name);
    return deleted;
  }

  private noteNamespaceDeleted(name: string): void {
    const now = Date.now();
    for (const [ns, at] of this.namespacesDeleted) if (now - at > NAMESPACE_LIVE_LOOKUP_MS) this.namespacesDeleted.delete(ns);
    this.namespacesDeleted.set(name, now);
  }

  // ---------------------------------------------------------------- create

  private async createNow(resource: string, namespace: string, input: unknown, opts: WriteOptions & { name?: string } = {}): Promise<KObject> {
    const info = this.info(resource);
    const strategy = strategyFor(info);
    if (opts.subresource) {
      if (opts.user) {
        const parent = this.caches.get(info.resource)?.items.get(info.namespaced ? `${namespace}/${opts.name ?? ''}` : (opts.name ?? ''));
        await this.runAdmission('validate', {
          operation: 'CREATE', resource: info.resource, group: info.group, subresource: opts.subresource, namespace, name: opts.name ?? '',
          object: (typeof input === 'object' && input !== null ? input : {}) as KObject, oldObject: parent, user: opts.user, warnings: opts.warnings ?? [],
        });
      }
      return this.createSubresource(info, strategy, namespace, opts.name ?? '', opts.subresource, input);
    }
    const ns = this.scope(info, namespace);
    const obj = this.decode(info, this.prepareInput(info, ns, input));
    const meta = obj.metadata ?? {};
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${generateNameSuffix()}`;
    for (const k of ['uid', 'creationTimestamp', 'resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink'] as const) delete meta[k];
    obj.metadata = meta;
    strategy.defaults(obj);
    strategy.prepareForCreate(obj, this.ctx);
    const admission: AdmissionRequest | undefined = opts.user
      ? { operation: 'CREATE', resource: info.resource, group: info.group, subresource: '', namespace: ns, name: meta.name ?? '', object: obj, user: opts.user, warnings: opts.warnings ?? [] }
      : undefined;
    if (admission) await this.runAdmission('mutate', admission);
    this.validate(info, obj);
    this.rejectCauses(info, obj, strategy.validateCreate(obj));
    await this.admit(info, strategy, obj);
    if (admission) await this.runAdmission('validate', admission);
    meta.uid = randomUUID();
    strategy.completeCreate(obj);
    meta.creationTimestamp = nowTimestamp();
    if (obj.spec !== undefined && strategy.tracksGeneration) meta.generation = 1;
    const allocated = await strategy.allocate?.(obj, undefined, this.ctx);
    if (opts.dryRun) {
      await allocated?.();
      return obj;
    }
    const key = this.key(info, ns, meta.name ?? '');
    // A failed write keeps what it allocated: an error from etcd (a deadline, a dropped connection)
    // does not say whether the Service was stored, and freeing an address a stored Service holds
    // would hand it out twice. A leaked address costs one address; only a lost compare frees it.
    const rev = await this.storage.create(key, obj);
    if (rev === undefined) {
      await allocated?.();
      throw alreadyExists(info.resource, meta.name ?? '', info.group);
    }
    meta.resourceVersion = String(rev);
    return obj;
  }

  /** Checks kind/apiVersion/namespace of a request body and returns a private copy. */
  private prepareInput(info: ResourceInfo, ns: string, input: unknown): KObject {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw badRequest('the request body must be a JSON object');
    const obj = structuredClone(input) as KObject;
    const apiVersion = apiVersionOf(info);
    if (obj.kind !== undefined && obj.kind !== info.kind)
      throw badRequest(`the kind "${String(obj.kind)}" of the object does not match the resource "${info.resource}" (expected kind "${info.kind}")`);
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion)
      throw badRequest(`the apiVersion "${String(obj.apiVersion)}" of the object does not match the resource "${info.resource}" (expected "${apiVersion}")`);
    obj.kind = info.kind;
    obj.apiVersion = apiVersion;
    if (obj.metadata !== undefined && (typeof obj.metadata !== 'object' || obj.metadata === null))
      throw invalid(info.kind, '', [{ field: 'metadata', message: 'Invalid value: must be an object', reason: 'FieldValueTypeInvalid' }], info.group);
    obj.metadata = { ...(obj.metadata ?? {}) };
    if (info.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== ns)
        throw badRequest(`the namespace of the provided object (${obj.metadata.namespace}) does not match the namespace sent on the request (${ns})`);
      obj.metadata.namespace = ns;
    } else delete obj.metadata.namespace;
    return obj;
  }

  /**
   * Typed decoding, before anything reads the object: a body that does not fit its kind's schema
   * (a string where a list belongs, …) is a 400, as kube-apiserver's decoder answers, so defaulting,
   * validation and every controller only ever see well-typed objects. Normalises `obj` in place.
   */
  private decode(info: ResourceInfo, obj: KObject): KObject {
    const { mismatches } = decodeObject(info, obj);
    if (mismatches.length) throw typeError(info, obj.metadata?.name ?? obj.metadata?.generateName, mismatches);
    return obj;
  }

  private validate(info: ResourceInfo, obj: KObject): void {
    const size = Buffer.byteLength(JSON.stringify(obj));
    if (size > MAX_OBJECT_BYTES)
      throw new ApiError('RequestEntityTooLarge', `Request entity too large: the object is ${size} bytes; limit is ${MAX_OBJECT_BYTES}`, {
        name: obj.metadata?.name,
        kind: info.kind,
        causes: [{ field: 'metadata', message: `Too long: the object is ${size} bytes, must have at most ${MAX_OBJECT_BYTES} bytes`, reason: 'FieldValueTooLong' }],
      });
    this.rejectCauses(info, obj, validateObject(info, obj));
  }

  private rejectCauses(info: ResourceInfo, obj: KObject, causes: StatusCause[]): void {
    if (causes.length) throw invalid(info.kind, obj.metadata?.name ?? obj.metadata?.generateName ?? '', causes, info.group);
  }

  /** Admission on create: the namespace must exist and not be terminating; then the strategy's own. */
  private async admit(info: ResourceInfo, strategy: ResolvedStrategy, obj: KObject): Promise<void> {
    if (info.namespaced) {
      const nsCache = this.caches.get('namespaces');
      const ns = obj.metadata?.namespace ?? '';
      const deletedAt = this.namespacesDeleted.get(ns);
      const live = deletedAt !== undefined && Date.now() - deletedAt <= NAMESPACE_LIVE_LOOKUP_MS;
      let nsObj = live ? undefined : nsCache?.items.get(ns);
      if (!nsObj) nsObj = (await this.storage.get(this.storage.key('namespaces', '', ns)))?.obj;
      if (!nsObj) throw notFound('namespaces', ns);
      if (nsObj.metadata?.deletionTimestamp && !strategy.createInTerminatingNamespace)
        throw new ApiError('Forbidden', `${info.resource} "${obj.metadata?.name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`);
    }
    await strategy.admit(obj, this.ctx);
  }

  /** Runs the mutating or validating half of every admission plugin, in order. */
  private async runAdmission(phase: 'mutate' | 'validate', req: AdmissionRequest): Promise<void> {
    for (const p of this.admission) await p[phase]?.(req, this.ctx);
  }

  private updateAdmission(info: ResourceInfo, ns: string, sub: string, cur: KObject, next: KObject, opts: WriteOptions): Promise<void> {
    if (!opts.user) return Promise.resolve();
    return this.runAdmission('validate', {
      operation: 'UPDATE', resource: info.resource, group: info.group, subresource: sub, namespace: ns, name: cur.metadata?.name ?? '',
      object: next, oldObject: cur, user: opts.user, warnings: opts.warnings ?? [],
    });
  }

  private async createSubresource(info: ResourceInfo, strategy: ResolvedStrategy, namespace: string, name: string, sub: string, input: unknown): Promise<KObject> {
    if (Object.keys(strategy.createSubresources).length === 0 || !name)
      throw new ApiError('NotFound', `the server could not find the requested resource (post ${info.resource}/${sub})`);
    const handler = strategy.createSubresources[sub];
    if (!handler) throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource (post ${info.resource}/${sub})`);
    return handler(this.ctx, namespace, name, input);
  }

  private strategyContext(): StrategyContext {
    const cache = (resource: string): WatchCache | undefined => this.caches.get(resource);
    return {
      config: { defaultTolerationSeconds: this.cfg.defaultTolerationSeconds },
      allocators: this.allocators,
      cachedList: (resource) => [...(cache(resource)?.items.values() ?? [])],
      cachedGet: (resource, key) => cache(resource)?.items.get(key),
      read: async (resource, namespace, name) => (await this.storage.get(this.storage.key(resource, namespace, name)))?.obj,
      mutate: (resource, namespace, name, fn, opts) => this.mutate(this.info(resource), namespace, name, fn, opts),
      issueToken: (namespace, name, body) => {
        if (!this.tokenIssuer) throw new ApiError('NotFound', 'the server could not find the requested resource (post serviceaccounts/token)');
        return this.tokenIssuer(namespace, name, body);
      },
      delete: (resource, namespace, name, options) => this.delete(resource, namespace, name, options),
      waitFresh: async (resource, rev) => {
        await cache(resource)?.waitFresh(rev);
      },
      serialize: (key, fn) => this.serialize(key, fn),
    };
  }

  /** Runs `fn` once every earlier task queued under `key` has settled; a failed task does not stop the next. */
  private serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.serialized.get(key) ?? Promise.resolve();
    const run = previous.then(fn);
    const settled = run.catch(() => undefined);
    this.serialized.set(key, settled);
    void settled.then(() => {
      if (this.serialized.get(key) === settled) this.serialized.delete(key);
    });
    return run;
  }

  // ---------------------------------------------------------------- update / patch

  /** Replaces an object (or its status/scale/finalize subresource). metadata.resourceVersion set = CAS. */
  private async updateNow(resource: string, namespace: string, name: string, input: unknown, opts: WriteOptions = {}): Promise<KObject> {
    const info = this.info(resource);
    const ns = this.scope(info, namespace);
    const sub = opts.subresource ?? '';
    if (typeof input !== 'object' || input === null) throw badRequest('the request body must be a JSON object');
    const incoming = structuredClone(input) as KObject;
    if (incoming.metadata?.name && incoming.metadata.name !== name && sub !== 'scale')
      throw badRequest(`the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`);
    const wantRv = incoming.metadata?.resourceVersion;
    for (let attempt = 0; ; attempt++) {
      const cur = await this.storage.get(this.key(info, ns, name));
      if (!cur) throw notFound(info.resource, name, info.group);
      if (wantRv && wantRv !== String(cur.rev))
        throw conflict(info.resource, name, 'the object has been modified; please apply your changes to the latest version and try again', info.group);
      const next = this.merge(info, ns, sub, cur.obj, incoming);
      await this.updateAdmission(info, ns, sub, cur.obj, next, opts);
      const result = await this.write(info, ns, cur.obj, cur.rev, next, opts.dryRun ?? false, false, sub);
      if (result) return sub === 'scale' ? toScale(info, result) : result;
      if (wantRv || attempt >= MAX_CAS_RETRIES) throw conflict(info.resource, name, 'the object has been modified; please apply your changes to the latest version and try again', info.group);
    }
  }

  /**
   * Builds the object to store from the current one and the request body, per subresource. Every
   * update and patch passes here, so the result is type-checked here (see decode()).
   */
  private merge(info: ResourceInfo, ns: string, sub: string, cur: KObject, incoming: KObject): KObject {
    return this.decode(info, this.mergeParts(info, strategyFor(info), ns, sub, cur, incoming));
  }

  private mergeParts(info: ResourceInfo, strategy: ResolvedStrategy, ns: string, sub: string, cur: KObject, incoming: KObject): KObject {
    if (sub === 'status') {
      const next = structuredClone(cur);
      next.status = incoming.status;
      return next;
    }
    if (sub === 'scale') {
      const replicas = (incoming.spec as { replicas?: number } | undefined)?.replicas;
      const next = structuredClone(cur);
      next.spec = { ...(next.spec as object), replicas };
      return next;
    }
    const own = strategy.mergeSubresources[sub];
    if (own) return own(cur, incoming);
    if (sub && !info.subresources.includes(sub)) throw new ApiError('NotFound', `the server could not find the requested resource (${info.resource}/${sub})`);
    if (sub) throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource (put ${info.resource}/${sub})`);
    const next = this.prepareInput(info, ns, incoming);
    const meta = next.metadata ?? {};
    const cm = cur.metadata ?? {};
    meta.name = cm.name;
    meta.uid = cm.uid;
    meta.creationTimestamp = cm.creationTimestamp;
    meta.generation = cm.generation;
    if (cm.deletionTimestamp) {
      meta.deletionTimestamp = cm.deletionTimestamp;
      meta.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    if (cm.generateName) meta.generateName = cm.generateName;
    else delete meta.generateName;
    strategy.prepareForUpdate(next, cur);
    return next;
  }

  /**
   * Defaults, validates and CAS-writes `next` over `cur`. Returns the stored object, or undefined when
   * the revision moved (caller retries). A write that changes nothing stores nothing.
   */
  private async write(info: ResourceInfo, ns: string, cur: KObject, rev: number, next: KObject, dryRun: boolean, ignoreImmutability: boolean, sub = ''): Promise<KObject | undefined> {
    const strategy = strategyFor(info);
    strategy.defaults(next);
    this.rejectCauses(info, next, strategy.validateUpdate(next, cur, { subresource: sub, ignoreImmutability }));
    this.validate(info, next);
    if (!isDeepStrictEqual(cur.spec, next.spec) && next.metadata && cur.metadata?.generation !== undefined)
      next.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    const release = await strategy.allocate?.(next, cur, this.ctx);
    const curCmp = { ...cur, metadata: { ...cur.metadata, resourceVersion: undefined } };
    const nextCmp = { ...next, metadata: { ...next.metadata, resourceVersion: undefined } };
    // A write that changes nothing stores nothing (kubectl apply prints "unchanged"). Serialized lengths
    // differ for almost every real change, which spares the parse-and-compare on the hot path.
    const curJson = JSON.stringify(curCmp);
    const nextJson = JSON.stringify(nextCmp);
    if (curJson === nextJson || (curJson.length === nextJson.length && isDeepStrictEqual(JSON.parse(curJson), JSON.parse(nextJson)))) return cur;
    if (dryRun) {
      await release?.();
      return next;
    }
    const key = this.key(info, ns, cur.metadata?.name ?? '');
    if (this.deletionComplete(strategy, next)) {
      const drev = await this.storage.delete(key, rev);
      if (drev === undefined) return undefined;
      await strategy.afterDelete(next, this.ctx);
      next.metadata = { ...next.metadata, resourceVersion: String(drev) };
      return next;
    }
    const newRev = await this.storage.update(key, next, rev);
    if (newRev === undefined) {
      await release?.();
      return undefined;
    }
    await strategy.afterUpdate(cur, next, this.ctx);
    next.metadata = { ...next.metadata, resourceVersion: String(newRev) };
    return next;
  }

  /** An object being deleted goes once its last finalizer is removed and its strategy agrees (pods: once the kubelet is done). */
  private deletionComplete(strategy: ResolvedStrategy, obj: KObject): boolean {
    const meta = obj.metadata;
    if (!meta?.deletionTimestamp || (meta.finalizers?.length ?? 0) > 0) return false;
    return strategy.deletionComplete(obj);
  }

  /** Read-modify-write with CAS retries; `fn` gets a private copy of the current object. */
  async mutate(info: ResourceInfo, namespace: string, name: string, fn: (obj: KObject) => KObject, opts: { ignoreImmutability?: boolean } = {}): Promise<KObject> {
    const ns = this.scope(info, namespace);
    for (let attempt = 0; ; attempt++) {
      // The first attempt reads the watch cache instead of etcd (one etcd round trip less per binding):
      // the compare-and-swap on its revision catches a stale copy, and a rejection by `fn` is only
      // believed once re-checked against etcd.
      const cachedObj = attempt === 0 ? this.caches.get(info.resource)?.items.get(ns ? `${ns}/${name}` : name) : undefined;
      const cached = cachedObj?.metadata?.resourceVersion ? { obj: cachedObj, rev: Number(cachedObj.metadata.resourceVersion) } : undefined;
      const cur = cached ?? (await this.storage.get(this.key(info, ns, name)));
      if (!cur) throw notFound(info.resource, name, info.group);
      let next: KObject;
      try {
        next = fn(structuredClone(cur.obj));
      } catch (err) {
        if (cached) continue;
        throw err;
      }
      const res = await this.write(info, ns, cur.obj, cur.rev, next, false, opts.ignoreImmutability ?? false);
      if (res) return res;
      if (attempt >= MAX_CAS_RETRIES) throw conflict(info.resource, name, 'too many concurrent updates', info.group);
    }
  }

  private async patchNow(resource: string, namespace: string, name: string, type: string, patchBody: unknown, opts: WriteOptions = {}): Promise<KObject> {
    const info = this.info(resource);
    const ns = this.scope(info, namespace);
    const sub = opts.subresource ?? '';
    for (let attempt = 0; ; attempt++) {
      const cur = await this.storage.get(this.key(info, ns, name));
      if (!cur) throw notFound(info.resource, name, info.group);
      const view = sub === 'scale' ? toScale(info, cur.obj) : cur.obj;
      const patched = applyPatch(type, view, patchBody) as KObject;
      if (typeof patched !== 'object' || patched === null) throw badRequest('the patch produced something that is not an object');
      // Only a resourceVersion the patch itself sets is a precondition; otherwise a race is retried.
      const wantRv = patchSetsResourceVersion(patchBody) ? patched.metadata?.resourceVersion : undefined;
      if (wantRv && wantRv !== String(cur.rev))
        throw conflict(info.resource, name, 'the object has been modified; please apply your changes to the latest version and try again', info.group);
      if (patched.metadata?.name !== undefined && patched.metadata.name !== name) throw badRequest('the patch may not change the name');
      const next = this.merge(info, ns, sub, cur.obj, patched);
      await this.updateAdmission(info, ns, sub, cur.obj, next, opts);
      const res = await this.write(info, ns, cur.obj, cur.rev, next, opts.dryRun ?? false, false, sub);
      if (res) return sub === 'scale' ? toScale(info, res) : res;
      if (wantRv || attempt >= MAX_CAS_RETRIES) throw conflict(info.resource, name, 'the object has been modified; please apply your changes to the latest version and try again', info.group);
    }
  }

  // ---------------------------------------------------------------- delete

  /**
   * Deletes an object. Pods bound to a node are deleted gracefully (deletionTimestamp, the kubelet
   * finishes with gracePeriodSeconds=0); objects with finalizers wait for them; Orphan and Foreground
   * propagation add the matching finalizer for the garbage collector.
   */
  private async deleteNow(resource: string, namespace: string, name: string, options: DeleteOptionsBody = {}, rc: RequestContext = {}): Promise<KObject> {
    const info = this.info(resource);
    const strategy = strategyFor(info);
    const ns = this.scope(info, namespace);
    const key = this.key(info, ns, name);
    const dryRun = (options.dryRun?.length ?? 0) > 0;
    const refused = strategy.admitDelete?.(name);
    if (refused) throw refused;
    if (options.gracePeriodSeconds !== undefined && (typeof options.gracePeriodSeconds !== 'number' || options.gracePeriodSeconds < 0))
      throw invalid('DeleteOptions', name, [{ field: 'gracePeriodSeconds', message: 'Invalid value: must be >= 0', reason: 'FieldValueInvalid' }]);
    const policy = options.propagationPolicy ?? (options.orphanDependents ? 'Orphan' : undefined);
    if (policy && !['Foreground', 'Background', 'Orphan'].includes(policy))
      throw invalid('DeleteOptions', name, [{ field: 'propagationPolicy', message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`, reason: 'FieldValueNotSupported' }]);
    for (let attempt = 0; ; attempt++) {
      const cur = await this.storage.get(key);
      if (!cur) throw notFound(info.resource, name, info.group);
      const obj = cur.obj;
      const meta = obj.metadata ?? {};
      if (rc.user && attempt === 0)
        await this.runAdmission('validate', {
          operation: 'DELETE', resource: info.resource, group: info.group, subresource: '', namespace: ns, name, oldObject: obj, user: rc.user, warnings: rc.warnings ?? [],
        });
      const pre = options.preconditions;
      if (pre?.uid && pre.uid !== meta.uid)
        throw conflict(info.resource, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`, info.group);
      if (pre?.resourceVersion && pre.resourceVersion !== String(cur.rev))
        throw conflict(info.resource, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.rev}`, info.group);
      const next = structuredClone(obj);
      const nm = next.metadata ?? {};
      next.metadata = nm;
      const finalizers = new Set(nm.finalizers ?? []);
      if (policy === 'Orphan') finalizers.add('orphan');
      if (policy === 'Foreground') finalizers.add('foregroundDeletion');
      if (policy === 'Background') {
        finalizers.delete('orphan');
        finalizers.delete('foregroundDeletion');
      }
      const grace = strategy.gracePeriodSeconds(obj, options.gracePeriodSeconds);
      const needsWait = finalizers.size > 0 || grace > 0 || strategy.deletionPending(obj);
      if (!needsWait) {
        if (dryRun) return obj;
        const drev = await this.storage.delete(key, cur.rev);
        if (drev === undefined) {
          if (attempt >= MAX_CAS_RETRIES) throw conflict(info.resource, name, 'too many concurrent updates', info.group);
          continue;
        }
        await strategy.afterDelete(obj, this.ctx);
        return { ...obj, metadata: { ...meta, resourceVersion: String(drev) } };
      }
      nm.finalizers = [...finalizers];
      if (nm.finalizers.length === 0) delete nm.finalizers;
      const now = Date.now();
      if (!nm.deletionTimestamp) {
        nm.deletionTimestamp = nowTimestamp(now + grace * 1000);
        nm.deletionGracePeriodSeconds = grace;
      } else if (grace < (nm.deletionGracePeriodSeconds ?? Infinity)) {
        // A shorter grace period (e.g. --force / --grace-period=0) shortens an ongoing deletion. Only a
        // strategy with a grace period (pods) ever gets here with a positive one: every other deletion
        // was marked with 0, and 0 < 0 is false.
        nm.deletionTimestamp = nowTimestamp(now + grace * 1000);
        nm.deletionGracePeriodSeconds = grace;
      }
      strategy.prepareForDelete(next);
      if (isDeepStrictEqual(next, obj)) return obj;
      if (dryRun) return next;
      const written = await this.write(info, ns, obj, cur.rev, next, false, true);
      if (written) return written;
      if (attempt >= MAX_CAS_RETRIES) throw conflict(info.resource, name, 'too many concurrent updates', info.group);
    }
  }

}

function patchSetsResourceVersion(body: unknown): boolean {
  let b = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b) as unknown;
    } catch {
      return false;
    }
  }
  if (Array.isArray(b)) return b.some((op) => typeof op === 'object' && op !== null && (op as { path?: unknown }).path === '/metadata/resourceVersion');
  const meta = (b as { metadata?: { resourceVersion?: unknown } } | null)?.metadata;
  return typeof meta === 'object' && meta !== null && meta.resourceVersion !== undefined && meta.resourceVersion !== null;
}

function byKey(a: KObject, b: KObject): number {
  const ka = `${a.metadata?.namespace ?? ''}/${a.metadata?.name ?? ''}`;
  const kb = `${b.metadata?.namespace ?? ''}/${b.metadata?.name ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The autoscaling/v1 Scale view of a workload. */
export function toScale(info: ResourceInfo, obj: KObject): KObject {
  if (!info.subresources.includes('scale')) throw new ApiError('NotFound', `the server could not find the requested resource (${info.resource}/scale)`);
  const spec = obj.spec as { replicas?: number; selector?: unknown } | undefined;
  const status = obj.status as { replicas?: number } | undefined;
  const sel = spec?.selector as { matchLabels?: Record<string, string> } | undefined;
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name: obj.metadata?.name, namespace: obj.metadata?.namespace, uid: obj.metadata?.uid, resourceVersion: obj.metadata?.resourceVersion, creationTimestamp: obj.metadata?.creationTimestamp },
    spec: { replicas: spec?.replicas ?? 0 },
    status: { replicas: status?.replicas ?? 0, selector: Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') },
  };
}

export type { StatusCause };
