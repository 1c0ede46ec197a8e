/**
 * The typed gRPC client every kubelab component uses to talk to the apiserver.
 * Unary calls map failures to typed ApiErrors; reads are retried on UNAVAILABLE (see retry.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { ApiError } from '../api/errors.js';
import { apiService, GRPC_BASE_OPTIONS, MAX_MESSAGE_BYTES } from './proto.js';
import type { KObject, ObjectList, TypeOf, WatchEvent, WatchEventType } from '../api/types.js';
import { withRetry } from './retry.js';
import type { ClientTls } from '../component-base/tls.js';

/** Bounds on one unary call: it fails with Timeout past `timeoutMs` and is cancelled when `signal` aborts. */
export interface CallOptions {
  /** This call's deadline in ms from now (at most the client's own per-call deadline). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface CreateOptions extends CallOptions {
  namespace?: string;
  dryRun?: boolean;
  fieldValidation?: 'Ignore' | 'Warn' | 'Strict';
}

export interface GetOptions extends CallOptions {
  namespace?: string;
  subresource?: string;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface UpdateOptions extends CallOptions {
  subresource?: string;
  dryRun?: boolean;
  fieldValidation?: 'Ignore' | 'Warn' | 'Strict';
}

export type PatchType = 'merge' | 'json' | 'strategic';

export interface PatchOptions {
  namespace?: string;
  type?: PatchType;
  subresource?: string;
  dryRun?: boolean;
}

export interface DeleteOptions {
  namespace?: string;
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowBookmarks?: boolean;
  signal?: AbortSignal;
}

export interface LogOptions {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  tailLines?: number;
  timestamps?: boolean;
  sinceSeconds?: number;
  signal?: AbortSignal;
}

export interface ExecOptions {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
}

/** A running exec session: write stdin, read output events, await the exit code. */
export interface ExecSession {
  write(data: Buffer | string): void;
  closeStdin(): void;
  resize(rows: number, cols: number): void;
  onStdout(fn: (b: Buffer) => void): void;
  onStderr(fn: (b: Buffer) => void): void;
  /** Resolves with the command's exit code. */
  readonly exit: Promise<number>;
  cancel(): void;
}

export interface ClientOptions {
  /** A bearer token sent as `authorization` metadata on every call (a ServiceAccount token, a static token). */
  token?: string;
  /** Per-call deadline for unary calls (ms). */
  timeoutMs?: number;
  /** Retries of idempotent reads when the apiserver is unreachable. */
  retries?: number;
  /**
   * TLS to the apiserver: the CA that signed it and the client certificate that names this client's
   * user. Without it the channel is plain (an apiserver started without TLS, in a throwaway test).
   */
  tls?: ClientTls;
  /**
   * Longest pause between reconnection attempts while the apiserver does not answer (default 2 s). A client that
   * waits for an apiserver being started (lab up, test clusters) uses less, so it sees it answer at once.
   */
  maxReconnectBackoffMs?: number;
  /**
   * A connection of its own instead of sharing one with the process's other clients of the same apiserver (grpc-js
   * pools connections per target). For heartbeats and leader election — Kubernetes' heartbeat and leader-election
   * clients — so that their few small calls never wait behind a busy connection's watch traffic.
   */
  ownConnection?: boolean;
}

type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => grpc.ClientUnaryCall;

export function errorFromGrpc(err: grpc.ServiceError): ApiError {
  const raw = err.metadata?.get('k8s-status')?.[0];
  if (raw) {
    try {
      return ApiError.fromStatus(JSON.parse(raw.toString()) as { reason?: string; message?: string });
    } catch {
      /* fall through to the code mapping */
    }
  }
  switch (err.code) {
    case grpc.status.UNAVAILABLE:
      return new ApiError('ServiceUnavailable', `apiserver unavailable: ${err.details}`);
    case grpc.status.DEADLINE_EXCEEDED:
      return new ApiError('Timeout', `request timed out: ${err.details}`);
    case grpc.status.NOT_FOUND:
      return new ApiError('NotFound', err.details);
    case grpc.status.INVALID_ARGUMENT:
      return new ApiError('Invalid', err.details);
    default:
      return new ApiError('InternalError', err.details || err.message);
  }
}

/** A Watch message as it comes off the wire: one event, or several in `events`. */
interface WireWatchEvent {
  type: string;
  object: string;
  events?: WireWatchEvent[];
}

export class ApiClient {
  readonly address: string;
  private readonly raw: grpc.Client & Record<string, unknown>;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly token: string | undefined;

  constructor(address: string, opts: ClientOptions = {}) {
    this.address = address;
    const Ctor = apiService();
    const creds = opts.tls
      ? grpc.credentials.createSsl(opts.tls.ca, opts.tls.key ?? null, opts.tls.cert ?? null)
      : grpc.credentials.createInsecure();
    this.raw = new Ctor(address, creds, {
      ...GRPC_BASE_OPTIONS,
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      'grpc.initial_reconnect_backoff_ms': Math.min(200, opts.maxReconnectBackoffMs ?? 200),
      'grpc.max_reconnect_backoff_ms': opts.maxReconnectBackoffMs ?? 2000,
      'grpc.keepalive_time_ms': 15_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
      ...(opts.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
    }) as grpc.Client & Record<string, unknown>;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.retries = opts.retries ?? 3;
    this.token = opts.token;
  }

  /** Call metadata: wait for a ready channel, and the bearer token when the client has one. */
  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata({ waitForReady: true });
    if (this.token) md.set('authorization', `Bearer ${this.token}`);
    return md;
  }

  close(): void {
    this.raw.close();
  }

  private call<T>(method: string, req: object, opts: CallOptions = {}): Promise<T> {
    const fn = (this.raw[method] as Unary).bind(this.raw);
    const { signal } = opts;
    const timeout = Math.min(this.timeoutMs, opts.timeoutMs ?? this.timeoutMs);
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(aborted(signal));
      let onAbort: (() => void) | undefined;
      const call = fn(req, this.metadata(), { deadline: Date.now() + Math.max(0, timeout) }, (err, res) => {
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) reject(aborted(signal));
        else if (err) reject(errorFromGrpc(err));
        else resolve(res as T);
      });
      if (signal) {
        onAbort = (): void => call.cancel();
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  private read<T>(method: string, req: object, opts: CallOptions = {}): Promise<T> {
    // A bounded call is not retried past its bound: the caller owns the deadline.
    if (opts.signal || opts.timeoutMs !== undefined) return this.call<T>(method, req, opts);
    return withRetry(() => this.call<T>(method, req), { retries: this.retries });
  }

  async create<R extends string>(resource: R, obj: TypeOf<R>, opts: CreateOptions = {}): Promise<TypeOf<R>> {
    const o = obj as KObject;
    const res = await this.call<{ object: string }>('Create', {
      resource,
      namespace: opts.namespace ?? o.metadata?.namespace ?? '',
      object: JSON.stringify(obj),
      dryRun: opts.dryRun ?? false,
      fieldValidation: opts.fieldValidation ?? '',
    }, opts);
    return JSON.parse(res.object) as TypeOf<R>;
  }

  async get<R extends string>(resource: R, name: string, opts: GetOptions = {}): Promise<TypeOf<R>> {
    const res = await this.read<{ object: string }>('Get', {
      resource,
      namespace: opts.namespace ?? '',
      name,
      subresource: opts.subresource ?? '',
    }, opts);
    return JSON.parse(res.object) as TypeOf<R>;
  }

  async list<R extends string>(resource: R, opts: ListOptions = {}): Promise<ObjectList<TypeOf<R>>> {
    const res = await this.read<{ list: string }>('List', {
      resource,
      namespace: opts.namespace ?? '',
      labelSelector: opts.labelSelector ?? '',
      fieldSelector: opts.fieldSelector ?? '',
      limit: opts.limit ?? 0,
      continue: opts.continue ?? '',
      resourceVersion: opts.resourceVersion ?? '',
    });
    return JSON.parse(res.list) as ObjectList<TypeOf<R>>;
  }

  /** Replaces the object; with metadata.resourceVersion set this is compare-and-swap (Conflict on mismatch). */
  async update<R extends string>(resource: R, obj: TypeOf<R>, opts: UpdateOptions = {}): Promise<TypeOf<R>> {
    const o = obj as KObject;
    const res = await this.call<{ object: string }>('Update', {
      resource,
      namespace: o.metadata?.namespace ?? '',
      name: o.metadata?.name ?? '',
      subresource: opts.subresource ?? '',
      object: JSON.stringify(obj),
      dryRun: opts.dryRun ?? false,
      fieldValidation: opts.fieldValidation ?? '',
    }, opts);
    return JSON.parse(res.object) as TypeOf<R>;
  }

  updateStatus<R extends string>(resource: R, obj: TypeOf<R>): Promise<TypeOf<R>> {
    return this.update(resource, obj, { subresource: 'status' });
  }

  async patch<R extends string>(resource: R, name: string, patch: unknown, opts: PatchOptions = {}): Promise<TypeOf<R>> {
    const res = await this.call<{ object: string }>('Patch', {
      resource,
      namespace: opts.namespace ?? '',
      name,
      subresource: opts.subresource ?? '',
      patchType: opts.type ?? 'merge',
      patch: typeof patch === 'string' ? patch : JSON.stringify(patch),
      dryRun: opts.dryRun ?? false,
    });
    return JSON.parse(res.object) as TypeOf<R>;
  }

  /** Deletes (or starts graceful deletion of) an object; returns the object as last seen, or a Status. */
  async delete(resource: string, name: string, opts: DeleteOptions = {}): Promise<KObject> {
    const { namespace, ...options } = opts;
    const res = await this.call<{ object: string }>('Delete', {
      resource,
      namespace: namespace ?? '',
      name,
      options: JSON.stringify(options),
    });
    return JSON.parse(res.object) as KObject;
  }

  /**
   * A TokenRequest (serviceaccounts/<name>/token): a token for the ServiceAccount, bound to `bound`
   * (a pod) when given, valid for `expirationSeconds`.
   */
  async requestToken(
    namespace: string,
    serviceAccount: string,
    spec: { audiences?: string[]; expirationSeconds?: number; boundObjectRef?: { kind: 'Pod'; apiVersion: 'v1'; name: string; uid?: string } },
    call: CallOptions = {},
  ): Promise<{ token: string; expirationTimestamp: string }> {
    const res = await this.call<{ object: string }>('Create', {
      resource: 'serviceaccounts',
      namespace,
      name: serviceAccount,
      subresource: 'token',
      object: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec }),
    }, call);
    const obj = JSON.parse(res.object) as { status?: { token?: string; expirationTimestamp?: string } };
    return { token: obj.status?.token ?? '', expirationTimestamp: obj.status?.expirationTimestamp ?? '' };
  }

  /** Binds a pod to a node through the pods/binding subresource. */
  async bind(namespace: string, pod: string, node: string, uid?: string, call: CallOptions = {}): Promise<void> {
    await this.call('Create', {
      resource: 'pods',
      namespace,
      name: pod,
      subresource: 'binding',
      object: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: pod, namespace, ...(uid ? { uid } : {}) },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      }),
    }, call);
  }

  /** Evicts a pod through pods/eviction (what `kubectl drain` does). */
  async evict(namespace: string, pod: string, gracePeriodSeconds?: number): Promise<void> {
    await this.call('Create', {
      resource: 'pods',
      namespace,
      name: pod,
      subresource: 'eviction',
      object: JSON.stringify({
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: pod, namespace },
        ...(gracePeriodSeconds !== undefined ? { deleteOptions: { gracePeriodSeconds } } : {}),
      }),
    });
  }

  /**
   * Streams watch events until the signal aborts or the server ends the stream.
   * Throws an ApiError (isGone) when the resourceVersion is too old, or ServiceUnavailable when the stream breaks.
   */
  async *watch<R extends string>(resource: R, opts: WatchOptions = {}): AsyncGenerator<WatchEvent<TypeOf<R>>> {
    // A signal aborted before the watch starts ends it at once: its 'abort' event has already fired, so a listener
    // added now would never cancel the call, and an idle watch would wait forever (Informer.stopped() hung so).
    if (opts.signal?.aborted) return;
    const fn = (this.raw.Watch as (req: unknown, md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientReadableStream<{ type: string; object: string }>).bind(this.raw);
    const call = fn({
      resource,
      namespace: opts.namespace ?? '',
      labelSelector: opts.labelSelector ?? '',
      fieldSelector: opts.fieldSelector ?? '',
      resourceVersion: opts.resourceVersion ?? '',
      allowBookmarks: opts.allowBookmarks ?? true,
    }, this.metadata(), {});
    const onAbort = (): void => call.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const msg of call as AsyncIterable<WireWatchEvent>) {
        // A busy watch's events come batched in `events` (apiserver/grpc.ts WatchBatcher), in order.
        for (const ev of msg.events?.length ? msg.events : [msg]) {
          if (ev.type === 'ERROR') throw ApiError.fromStatus(JSON.parse(ev.object) as { reason?: string; message?: string });
          yield { type: ev.type as WatchEventType, object: JSON.parse(ev.object) as TypeOf<R> };
        }
      }
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const e = err as grpc.ServiceError;
      if (e.code === grpc.status.CANCELLED && opts.signal?.aborted) return;
      if (typeof e.code === 'number') throw errorFromGrpc(e);
      throw err;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      call.cancel();
    }
  }

  /** Streams a container's log (pods/log) as raw chunks. */
  async *logs(namespace: string, pod: string, opts: LogOptions = {}): AsyncGenerator<Buffer> {
    const fn = (this.raw.Logs as (req: unknown) => grpc.ClientReadableStream<{ data: Buffer }>).bind(this.raw);
    const call = fn({
      namespace,
      name: pod,
      container: opts.container ?? '',
      follow: opts.follow ?? false,
      previous: opts.previous ?? false,
      tailLines: opts.tailLines ?? -1,
      timestamps: opts.timestamps ?? false,
      sinceSeconds: opts.sinceSeconds ?? 0,
    });
    const onAbort = (): void => call.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of call as AsyncIterable<{ data: Buffer }>) yield chunk.data;
    } catch (err) {
      const e = err as grpc.ServiceError;
      if (e.code === grpc.status.CANCELLED && opts.signal?.aborted) return;
      if (typeof e.code === 'number') throw errorFromGrpc(e);
      throw err;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Runs a command in a pod's container (pods/exec). */
  exec(namespace: string, pod: string, command: string[], opts: ExecOptions = {}): ExecSession {
    const fn = (this.raw.Exec as () => grpc.ClientDuplexStream<object, ExecWire>).bind(this.raw);
    const call = fn();
    const stdout: ((b: Buffer) => void)[] = [];
    const stderr: ((b: Buffer) => void)[] = [];
    call.write({ namespace, name: pod, container: opts.container ?? '', command, stdin: opts.stdin ?? false, tty: opts.tty ?? false });
    const exit = new Promise<number>((resolve, reject) => {
      let code: number | undefined;
      let failure: Error | undefined;
      call.on('data', (m: ExecWire) => {
        if (m.stdout?.length) stdout.forEach((f) => f(m.stdout));
        if (m.stderr?.length) stderr.forEach((f) => f(m.stderr));
        if (m.error) failure = new ApiError('InternalError', m.error);
        if (m.exited) code = m.exitCode;
      });
      call.on('error', (err: grpc.ServiceError) => reject(errorFromGrpc(err)));
      call.on('end', () => (failure ? reject(failure) : code === undefined ? reject(new ApiError('InternalError', 'exec stream ended without an exit code')) : resolve(code)));
    });
    exit.catch(() => undefined);
    return {
      write: (data) => call.write({ stdinData: Buffer.from(data) }),
      closeStdin: () => {
        call.write({ stdinClose: true });
      },
      resize: (rows, cols) => call.write({ rows, cols }),
      onStdout: (f) => stdout.push(f),
      onStderr: (f) => stderr.push(f),
      exit,
      cancel: () => call.cancel(),
    };
  }
}

/** The error of a call its caller cancelled: the signal's reason when it is an Error, else a Timeout. */
function aborted(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new ApiError('Timeout', 'request cancelled by the caller');
}

interface ExecWire {
  stdout: Buffer;
  stderr: Buffer;
  exited: boolean;
  exitCode: number;
  error: string;
}
