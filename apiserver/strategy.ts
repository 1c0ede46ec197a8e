/**
 * A resource's API behaviour in one record, as Kubernetes keeps one `strategy.go` per resource
 * (pkg/registry/<group>/<resource>/strategy.go) next to a generic store: the registry does the same
 * steps for every resource and asks the strategy at each step. Every hook is optional; `resolveStrategy`
 * fills in the generic behaviour, so a pure-data resource needs only its validation (or nothing).
 *
 * Order on create: defaults → prepareForCreate → validate → validateCreate → (namespace check) → admit →
 * (uid, creationTimestamp) → completeCreate → (generation unless !tracksGeneration) → allocate → store.
 * Order on update: mergeSubresource or prepareForUpdate → defaults → validateUpdate → validate → allocate →
 * store → afterUpdate (or afterDelete when the write completed a deletion).
 */
import type { ApiError, StatusCause } from '../api/errors.js';
import type { ResourceInfo } from '../api/resources.js';
import type { KObject } from '../api/types.js';
import type { Allocators } from './allocator.js';
import type { ColumnDef } from '../api/tables.js';
import { validateDns1123Subdomain } from './validation.js';

export type Causes = StatusCause[];

/** Checks metadata.name (Kubernetes' ValidateNameFunc); adds causes for `field`. */
export type NameValidator = (c: Causes, field: string, name: string) => void;

/** The graceful-deletion options a strategy sees. */
export interface DeleteRequest {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

/**
 * What a strategy may use of the store it runs in: configuration, allocators, the watch caches (which
 * may trail etcd by a moment), and the store's own verbs. Implemented by the Registry.
 */
export interface StrategyContext {
  readonly config: { readonly defaultTolerationSeconds: number };
  readonly allocators: Allocators;
  /** Every object of `resource` in its watch cache. */
  cachedList(resource: string): KObject[];
  /** One object from the watch cache; `key` is `namespace/name`, or `name` when cluster-scoped. */
  cachedGet(resource: string, key: string): KObject | undefined;
  /** One object read from etcd, undefined when absent. */
  read(resource: string, namespace: string, name: string): Promise<KObject | undefined>;
  /** Read-modify-write with compare-and-swap retries; `fn` gets a private copy. */
  mutate(resource: string, namespace: string, name: string, fn: (obj: KObject) => KObject, opts?: { ignoreImmutability?: boolean }): Promise<KObject>;
  delete(resource: string, namespace: string, name: string, options?: DeleteRequest): Promise<KObject>;
  /** Resolves once the watch cache of `resource` has seen revision `rev`. */
  waitFresh(resource: string, rev: number): Promise<void>;
  /** Runs `fn` after every earlier call with the same key has settled (one at a time per key). */
  serialize<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Answers a TokenRequest for the ServiceAccount namespace/name (serviceaccounts/token); set by apiserver/auth. */
  issueToken(namespace: string, name: string, body: unknown): Promise<KObject>;
}

/** Handles a POST to a subresource (pods/binding); answers the response body. */
export type SubresourceCreate = (ctx: StrategyContext, namespace: string, name: string, body: unknown) => Promise<KObject>;

export interface Strategy {
  /** metadata.name rule; default DNS-1123 subdomain, as for most Kubernetes kinds. */
  readonly validateName?: NameValidator;
  /** Scheme defaulting, in place, on every create and update, before validation. */
  defaults?(obj: KObject): void;
  /** PrepareForCreate: resets what a client may not set on create (status), in place. */
  prepareForCreate?(obj: KObject, ctx: StrategyContext): void;
  /**
   * PrepareForUpdate of the main resource: carries over from `cur` what a plain update may not change.
   * Default: the status, for kinds with a status subresource.
   */
  prepareForUpdate?(next: KObject, cur: KObject): void;
  /** Kind-specific validation on every create and update (metadata is checked generically). */
  validate?(obj: KObject): Causes;
  /** Validation only made on create. */
  validateCreate?(obj: KObject): Causes;
  /** ValidateUpdate: `next` against the stored `cur`, both defaulted. */
  validateUpdate?(next: KObject, cur: KObject, opts: { subresource: string; ignoreImmutability: boolean }): Causes;
  /** Admission on create (mutating and validating), after validation; may read the caches. Throws ApiError. */
  admit?(obj: KObject, ctx: StrategyContext): void | Promise<void>;
  /** Admission on delete (e.g. protected namespaces); returns the refusal, if any. */
  admitDelete?(name: string): ApiError | undefined;
  /** NamespaceLifecycle lets this kind be created in a terminating namespace (events). */
  readonly createInTerminatingNamespace?: boolean;
  /** Runs once the server set uid and creationTimestamp: fields derived from identity (a Job's selector). */
  completeCreate?(obj: KObject): void;
  /** Whether metadata.generation counts spec changes; default true. */
  readonly tracksGeneration?: boolean;
  /** Allocates what the object holds (ClusterIPs, NodePorts); returns a function that frees what was newly taken. */
  allocate?(obj: KObject, old: KObject | undefined, ctx: StrategyContext): Promise<() => Promise<void>>;
  /** After a stored update (frees what the update dropped). */
  afterUpdate?(cur: KObject, next: KObject, ctx: StrategyContext): Promise<void>;
  /** After the object left storage (frees what it held). */
  afterDelete?(obj: KObject, ctx: StrategyContext): Promise<void>;
  /** Graceful deletion period for a delete request; default 0 (deleted at once unless finalizers wait). */
  gracePeriodSeconds?(obj: KObject, requested: number | undefined): number;
  /** Whether the object itself holds its deletion besides metadata.finalizers (a namespace's spec.finalizers). */
  deletionPending?(obj: KObject): boolean;
  /** Whether an object marked for deletion with no finalizers left may go now; default true. */
  deletionComplete?(obj: KObject): boolean;
  /** Changes made when an object is marked for deletion (a namespace turns Terminating), in place. */
  prepareForDelete?(obj: KObject): void;
  /** POST handlers for subresources (pods/binding, pods/eviction). */
  readonly createSubresources?: Readonly<Record<string, SubresourceCreate>>;
  /** PUT/PATCH subresources with their own merge rule: builds the object to store from `cur` and the body. */
  readonly mergeSubresources?: Readonly<Record<string, (cur: KObject, incoming: KObject) => KObject>>;
  /** Table columns after NAME (kubectl get); AGE is appended when missing. */
  readonly columns?: readonly ColumnDef[];
}

/** A strategy with every hook filled in with the generic behaviour. */
export type ResolvedStrategy = Required<Omit<Strategy, 'admitDelete' | 'allocate'>> & Pick<Strategy, 'admitDelete' | 'allocate'>;

const nothing = (): Causes => [];
const noop = (): void => undefined;
const done = async (): Promise<void> => undefined;

/** Fills in the generic behaviour for the hooks `s` leaves out. */
export function resolveStrategy(info: ResourceInfo, s: Strategy): ResolvedStrategy {
  return {
    validateName: s.validateName ?? validateDns1123Subdomain,
    defaults: s.defaults?.bind(s) ?? noop,
    prepareForCreate: s.prepareForCreate?.bind(s) ?? noop,
    prepareForUpdate:
      s.prepareForUpdate?.bind(s) ??
      ((next, cur) => {
        if (info.hasStatus) next.status = cur.status;
      }),
    validate: s.validate?.bind(s) ?? nothing,
    validateCreate: s.validateCreate?.bind(s) ?? nothing,
    validateUpdate: s.validateUpdate?.bind(s) ?? nothing,
    admit: s.admit?.bind(s) ?? noop,
    admitDelete: s.admitDelete?.bind(s),
    createInTerminatingNamespace: s.createInTerminatingNamespace ?? false,
    completeCreate: s.completeCreate?.bind(s) ?? noop,
    tracksGeneration: s.tracksGeneration ?? true,
    allocate: s.allocate?.bind(s),
    afterUpdate: s.afterUpdate?.bind(s) ?? done,
    afterDelete: s.afterDelete?.bind(s) ?? done,
    gracePeriodSeconds: s.gracePeriodSeconds?.bind(s) ?? (() => 0),
    deletionPending: s.deletionPending?.bind(s) ?? (() => false),
    deletionComplete: s.deletionComplete?.bind(s) ?? (() => true),
    prepareForDelete: s.prepareForDelete?.bind(s) ?? noop,
    createSubresources: s.createSubresources ?? {},
    mergeSubresources: s.mergeSubresources ?? {},
    columns: s.columns ?? [],
  };
}
