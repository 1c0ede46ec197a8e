/** The gRPC face of the registry: decodes requests, calls the registry, maps ApiErrors to gRPC statuses. */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ApiError, badRequest } from '../api/errors.js';
import { apiService, MAX_MESSAGE_BYTES } from '../client/proto.js';
import { RESOURCES, type ResourceInfo } from '../api/resources.js';
import { MAX_BODY_BYTES, bodyTooLarge } from './rest/index.js';
import type { Registry, DeleteOptionsBody } from './registry.js';
import type { KubeletProxy } from './kubeletproxy.js';
import type { Security } from './auth/index.js';
import type { UserInfo } from './auth/user.js';
import { isAnonymous, unauthorized } from './auth/authn.js';
import type { Attributes } from './auth/attributes.js';
import { createdName, type AuditLog } from './audit.js';

interface Req {
  resource: string;
  namespace: string;
  name: string;
  subresource: string;
  object: string;
  dryRun: boolean;
  labelSelector: string;
  fieldSelector: string;
  limit: number;
  continue: string;
  resourceVersion: string;
  patchType: string;
  patch: string;
  options: string;
  allowBookmarks: boolean;
}

function toServiceError(err: unknown, log: Logger): Partial<grpc.ServiceError> {
  const apiErr =
    err instanceof ApiError ? err : new ApiError('InternalError', `internal error: ${err instanceof Error ? err.message : String(err)}`);
  if (!(err instanceof ApiError)) log.error({ err }, 'request failed');
  const md = new grpc.Metadata();
  md.set('k8s-status', statusHeader(apiErr.toStatus()));
  return { code: apiErr.grpcCode, details: apiErr.message, metadata: md };
}

/** grpc-js refuses header values of more than this many bytes from a peer (its default max metadata is 8 KiB). */
const MAX_STATUS_HEADER = 6 * 1024;

/**
 * The Status as a header value: HTTP/2 header values must be printable ASCII, so every other character is
 * written as a JSON \u escape (still valid JSON for the client); a Status too big for the header loses its
 * causes and then its message tail. A value grpc-js refused would leave the call unanswered.
 */
export function statusHeader(status: object): string {
  const ascii = (v: unknown): string => JSON.stringify(v).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  let out = ascii(status);
  if (out.length <= MAX_STATUS_HEADER) return out;
  const { details, message, ...rest } = status as { details?: Record<string, unknown>; message?: string };
  const slim = { ...rest, message: String(message ?? '').slice(0, 2048), ...(details ? { details: { ...details, causes: undefined } } : {}) };
  out = ascii(slim);
  return out.length <= MAX_STATUS_HEADER ? out : ascii({ ...rest, message: String(message ?? '').slice(0, 512) });
}

function parseJson(s: string, what: string): unknown {
  try {
    return JSON.parse(s);
  } catch (err) {
    throw badRequest(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** What a call's credentials are read from: its metadata and its TLS peer. */
type CallCredentials = Pick<grpc.ServerUnaryCall<unknown, unknown>, 'metadata' | 'getAuthContext' | 'getPeer'>;

/** What the audit log needs of one call, gathered while it is served (the REST side keeps the same). */
interface CallAudit {
  readonly started: Date;
  attrs?: Attributes;
  decision?: { allowed: boolean; reason: string };
}

/** The REST path of the object a call is about: the audit event's requestURI, the same as a REST request's. */
function restPath(a: Attributes): string {
  const base = a.apiGroup ? `/apis/${a.apiGroup}/${a.apiVersion}` : `/api/${a.apiVersion}`;
  return [base, a.namespace ? `/namespaces/${a.namespace}` : '', `/${a.resource}`, a.name ? `/${a.name}` : '', a.subresource ? `/${a.subresource}` : ''].join('');
}

/** `ipv4:127.0.0.1:5000`, `[::1]:5000`, `127.0.0.1:5000` → the address alone. */
export function peerAddress(peer: string): string {
  const p = peer.replace(/^ipv[46]:/, '');
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(p);
  if (v6) return v6[1];
  const v4 = /^([^:]+):\d+$/.exec(p);
  return v4 ? v4[1] : p;
}

/**
 * Writes the call's audit event (when the log is on and the call got as far as an identity): a unary call at
 * ResponseComplete with its outcome's HTTP code, a stream at ResponseStarted once it is authorized.
 */
function writeAudit(audit: AuditLog | undefined, call: CallCredentials, ctx: CallAudit, code: number, stage: 'ResponseStarted' | 'ResponseComplete', bodies: { request?: () => unknown; response?: () => unknown } = {}): void {
  if (!audit || !ctx.attrs) return;
  const level = audit.level(ctx.attrs);
  if (level === 'None') return;
  const agent = call.metadata.get('user-agent')[0];
  // Bodies are parsed only for an event that is written, once each.
  const request = bodies.request?.();
  const name = createdName(ctx.attrs.verb, request);
  audit.write(
    {
      attrs: ctx.attrs,
      requestURI: restPath(ctx.attrs),
      sourceIP: peerAddress(call.getPeer()),
      ...(typeof agent === 'string' ? { userAgent: agent } : {}),
      code,
      started: ctx.started,
      stage,
      transport: 'grpc',
      ...(name ? { objectName: name } : {}),
      ...(ctx.decision ? { decision: ctx.decision } : {}),
      ...(level !== 'Metadata' && request !== undefined ? { requestObject: request } : {}),
      ...(level === 'RequestResponse' && bodies.response ? { responseObject: bodies.response() } : {}),
    },
    level,
  );
}

/** A request's `object` or `patch` field, parsed for the audit log (undefined when it is not JSON). */
function bodyOf(req: Req): unknown {
  const text = req.object || req.patch;
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A reply's JSON field (`object` / `list`), parsed for the audit log. */
function replyOf(res: unknown): unknown {
  const r = res as { object?: string; list?: string };
  try {
    return JSON.parse(r.object ?? r.list ?? 'null') as unknown;
  } catch {
    return undefined;
  }
}

function unary<T>(log: Logger, audit: AuditLog | undefined, verb: string, fn: (req: Req, call: CallCredentials, ctx: CallAudit) => Promise<T>): grpc.handleUnaryCall<Req, T> {
  return (call, cb) => {
    const ctx: CallAudit = { started: new Date() };
    fn(call.request, call, ctx).then(
      (res) => {
        writeAudit(audit, call, ctx, verb === 'create' ? 201 : 200, 'ResponseComplete', { request: () => bodyOf(call.request), response: () => replyOf(res) });
        cb(null, res);
      },
      (err: unknown) => {
        writeAudit(audit, call, ctx, err instanceof ApiError ? err.code : 500, 'ResponseComplete', { request: () => bodyOf(call.request) });
        cb(toServiceError(err, log) as grpc.ServiceError);
      },
    );
  };
}

/** A field selector's exact `metadata.name=x`, which names the object of a list or watch for authorization. */
/** A review resource (virtual: answered, never stored), or undefined. */
function reviewInfo(resource: string): ResourceInfo | undefined {
  return RESOURCES.find((i) => i.resource === resource && i.virtual);
}

function selectedName(fieldSelector: string): string {
  const m = /(?:^|,)\s*metadata\.name\s*==?\s*([^,\s]+)\s*(?:,|$)/.exec(fieldSelector ?? '');
  return m ? m[1] : '';
}

export function createGrpcServer(registry: Registry, proxy: KubeletProxy, log: Logger, security: Security, audit?: AuditLog): grpc.Server {
  /**
   * Authenticates the call (its `authorization` metadata) and authorizes `verb` on the request's object, as REST
   * does; records both in `ctx` for the audit log.
   */
  const authorize = async (call: CallCredentials, verb: string, r: { resource: string; namespace?: string; name?: string; subresource?: string; fieldSelector?: string }, ctx?: CallAudit): Promise<UserInfo> => {
    const header = call.metadata.get('authorization')[0];
    const user = await security.authenticate(typeof header === 'string' ? header : undefined, call.getAuthContext().sslPeerCertificate?.raw);
    // An anonymous caller gets nothing: the gRPC API has no public-info paths (see authorizeRequest in rest/).
    if (isAnonymous(user)) throw unauthorized();
    const info = reviewInfo(r.resource) ?? registry.info(r.resource);
    const attrs: Attributes = {
      user,
      verb,
      resourceRequest: true,
      namespace: info.namespaced ? (r.namespace ?? '') : '',
      apiGroup: info.group,
      apiVersion: info.version,
      resource: info.resource,
      subresource: r.subresource ?? '',
      name: r.name || selectedName(r.fieldSelector ?? ''),
      path: '',
    };
    if (ctx) ctx.attrs = attrs;
    try {
      security.authorize(attrs);
    } catch (err) {
      if (ctx) ctx.decision = { allowed: false, reason: err instanceof ApiError ? err.message : '' };
      throw err;
    }
    if (ctx) ctx.decision = { allowed: true, reason: '' };
    return user;
  };
  /** Authorizes a stream and writes its ResponseStarted event (or its refusal's ResponseComplete). */
  const authorizeStream = async (call: CallCredentials, verb: string, r: Parameters<typeof authorize>[2]): Promise<UserInfo> => {
    const ctx: CallAudit = { started: new Date() };
    try {
      const user = await authorize(call, verb, r, ctx);
      writeAudit(audit, call, ctx, 200, 'ResponseStarted');
      return user;
    } catch (err) {
      writeAudit(audit, call, ctx, err instanceof ApiError ? err.code : 500, 'ResponseComplete');
      throw err;
    }
  };
  // Not GRPC_BASE_OPTIONS: a grpc-js server with channelz off keeps serving from its old registry after
  // forceShutdown() when a new server binds the same port (seen as "etcd3 client already closed" after a restart).
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5000,
  });
  const impl: grpc.UntypedServiceImplementation = {
    Create: unary(log, audit, 'create', async (r, call, ctx) => {
      const user = await authorize(call, 'create', r, ctx);
      // The reviews (SelfSubjectAccessReview, TokenReview, …) are answered, not stored, as over REST.
      const review = reviewInfo(r.resource);
      // A review is answered with its request echoed, never stored: the REST body limit applies, not etcd's.
      if (review && Buffer.byteLength(r.object ?? '') > MAX_BODY_BYTES) throw bodyTooLarge();
      if (review) return { object: JSON.stringify(await security.review(review, r.namespace, parseJson(r.object, 'object'), user)) };
      return {
        object: JSON.stringify(
          await registry.create(r.resource, r.namespace, parseJson(r.object, 'object'), { dryRun: r.dryRun, subresource: r.subresource, name: r.name, user }),
        ),
      };
    }),
    Get: unary(log, audit, 'get', async (r, call, ctx) => {
      await authorize(call, 'get', r, ctx);
      return { object: JSON.stringify(await registry.get(r.resource, r.namespace, r.name, r.subresource)) };
    }),
    List: unary(log, audit, 'list', async (r, call, ctx) => {
      await authorize(call, 'list', { ...r, name: '' }, ctx);
      const info = registry.info(r.resource);
      const res = await registry.list(r.resource, r.namespace, {
        labelSelector: r.labelSelector,
        fieldSelector: r.fieldSelector,
        limit: Number(r.limit) || undefined,
        continue: r.continue || undefined,
        resourceVersion: r.resourceVersion || undefined,
      });
      const list = JSON.stringify({
        apiVersion: info.group ? `${info.group}/${info.version}` : info.version,
        kind: info.listKind,
        metadata: { resourceVersion: res.resourceVersion, ...(res.continue ? { continue: res.continue } : {}) },
        items: res.items,
      });
      // A reply over gRPC's message limit would fail as an opaque INTERNAL error: say what to do instead (a paged list
      // ends its pages early at 8 MiB, so this is an unpaged list of a big collection).
      const bytes = list.length * 3 < MAX_MESSAGE_BYTES ? list.length : Buffer.byteLength(list);
      if (bytes > MAX_MESSAGE_BYTES - 64 * 1024)
        throw new ApiError(
          'RequestEntityTooLarge',
          `the list of ${res.items.length} ${r.resource} is ${(bytes / 1024 / 1024).toFixed(1)} MiB, over the ${MAX_MESSAGE_BYTES / 1024 / 1024} MiB a gRPC reply may carry: list in pages with limit and continue (kubelab's informers do by default)`,
        );
      return { list };
    }),
    Update: unary(log, audit, 'update', async (r, call, ctx) => {
      const user = await authorize(call, 'update', r, ctx);
      return { object: JSON.stringify(await registry.update(r.resource, r.namespace, r.name, parseJson(r.object, 'object'), { subresource: r.subresource, dryRun: r.dryRun, user })) };
    }),
    Patch: unary(log, audit, 'patch', async (r, call, ctx) => {
      const user = await authorize(call, 'patch', r, ctx);
      return { object: JSON.stringify(await registry.patch(r.resource, r.namespace, r.name, r.patchType, parseJson(r.patch, 'patch'), { subresource: r.subresource, dryRun: r.dryRun, user })) };
    }),
    Delete: unary(log, audit, 'delete', async (r, call, ctx) => {
      const user = await authorize(call, 'delete', r, ctx);
      return { object: JSON.stringify(await registry.delete(r.resource, r.namespace, r.name, (r.options ? parseJson(r.options, 'options') : {}) as DeleteOptionsBody, { user })) };
    }),
    Watch: (call: grpc.ServerWritableStream<Req, { type: string; object: string }>) => {
      const r = call.request;
      let stop: (() => void) | undefined;
      let closed = false;
      // grpc-js writes a server stream's messages one at a time, each after the previous one reached the socket (one
      // per turn of a busy event loop: ~100 a second), so events that queue up meanwhile leave as one batch.
      const out = new WatchBatcher((bytes, done) => call.write(bytes as unknown as { type: string; object: string }, done));
      const end = (err?: Error): void => {
        if (closed) return;
        closed = true;
        stop?.();
        out.flushAll();
        if (err) {
          const apiErr = err instanceof ApiError ? err : new ApiError('InternalError', err.message);
          call.write({ type: 'ERROR', object: JSON.stringify(apiErr.toStatus()) });
        }
        call.end();
      };
      call.on('cancelled', () => {
        closed = true;
        stop?.();
      });
      // A write that fails on a broken stream costs this watch only.
      call.on('error', () => {
        closed = true;
        stop?.();
      });
      authorizeStream(call, 'watch', { ...r, name: '' })
        .then(() => registry.watch(
          r.resource,
          r.namespace,
          { labelSelector: r.labelSelector, fieldSelector: r.fieldSelector, resourceVersion: r.resourceVersion, allowBookmarks: r.allowBookmarks },
          {
            send: (type, _obj, json, memo) => {
              if (closed) return true;
              // Encode once per event and type; every watcher of the event shares the bytes.
              let bytes = memo?.get(type) as Buffer | undefined;
              if (!bytes) {
                bytes = encodeWatchEvent({ type, object: json });
                memo?.set(type, bytes);
              }
              out.push(bytes);
              return out.queuedBytes + call.writableLength < 64 * 1024 * 1024;
            },
            close: (err) => end(err),
          },
        ))
        .then(
          (unsub) => {
            if (closed) unsub();
            else stop = unsub;
          },
          (err: unknown) => {
            if (err instanceof ApiError) end(err);
            else call.destroy(toServiceError(err, log) as grpc.ServiceError);
          },
        );
    },
    Logs: (call: grpc.ServerWritableStream<Record<string, unknown>, { data: Buffer }>) => {
      const r = call.request as { namespace?: string; name?: string };
      authorizeStream(call, 'get', { resource: 'pods', namespace: r.namespace, name: r.name, subresource: 'log' })
        .then(() => proxy.logs(call.request as never, call))
        .catch((err: unknown) => call.destroy(toServiceError(err, log) as grpc.ServiceError));
    },
    Exec: (call: grpc.ServerDuplexStream<Record<string, unknown>, Record<string, unknown>>) => {
      // The pod is named by the stream's first message; kubelab's exec is authorized as create on pods/exec
      // in the namespace the proxy reads (proxy.execGrpc checks each request through this hook).
      proxy.execGrpc(call, (namespace, name) => authorizeStream(call, 'create', { resource: 'pods', namespace, name, subresource: 'exec' }).then(() => undefined)).catch((err: unknown) => call.destroy(toServiceError(err, log) as grpc.ServiceError));
    },
  };
  server.addService(serviceWithRawWatch(), impl);
  return server;
}

/** Largest batch of watch events in one message (clients accept up to MAX_MESSAGE_BYTES). */
export const WATCH_BATCH_BYTES = 4 * 1024 * 1024;

/** Field 3 (`events`) of WatchEvent, length-delimited: the tag byte in front of each batched event. */
const EVENTS_TAG = (3 << 3) | 2;

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

/** One WatchEvent message that carries `events` (each already an encoded WatchEvent) in its repeated field. */
export function encodeWatchBatch(events: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of events) parts.push(Buffer.from([EVENTS_TAG]), varint(e.length), e);
  return Buffer.concat(parts);
}

/**
 * A watcher's outgoing events: the first is written at once; those that arrive while a write is in flight wait
 * and leave together (up to WATCH_BATCH_BYTES a message) when it completes.
 */
export class WatchBatcher {
  private pending: Buffer[] = [];
  private writing = false;
  queuedBytes = 0;

  constructor(private readonly write: (bytes: Buffer, done: () => void) => void) {}

  push(bytes: Buffer): void {
    this.pending.push(bytes);
    this.queuedBytes += bytes.length;
    this.flush();
  }

  /** Hands everything still queued to the stream now, in order (before an ERROR event and the stream's end). */
  flushAll(): void {
    while (this.pending.length > 0) this.write(this.take(), () => undefined);
  }

  private flush(): void {
    if (this.writing || this.pending.length === 0) return;
    this.writing = true;
    this.write(this.take(), () => {
      this.writing = false;
      this.flush();
    });
  }

  /** The next message: the oldest queued events up to WATCH_BATCH_BYTES (at least one). */
  private take(): Buffer {
    let n = 0;
    let size = 0;
    while (n < this.pending.length && (n === 0 || size + (this.pending[n]?.length ?? 0) <= WATCH_BATCH_BYTES)) size += this.pending[n++]?.length ?? 0;
    const batch = this.pending.splice(0, n);
    this.queuedBytes -= size;
    const first = batch[0];
    return batch.length === 1 && first ? first : encodeWatchBatch(batch);
  }
}

const watchDef = apiService().service.Watch;
const encodeWatchEvent = watchDef.responseSerialize as (v: { type: string; object: string }) => Buffer;

/** The service definition with a Watch serializer that passes pre-encoded Buffers through. */
function serviceWithRawWatch(): grpc.ServiceDefinition {
  const def = { ...apiService().service };
  def.Watch = {
    ...watchDef,
    responseSerialize: (v: unknown) => (Buffer.isBuffer(v) ? v : encodeWatchEvent(v as { type: string; object: string })),
  };
  return def;
}

/**
 * A certificate provider that never changes (grpc-js' providers otherwise watch files). It answers a new
 * listener on the next tick: grpc-js registers the server's watcher only after adding its listeners, so an
 * answer given at once would never reach the server (every connection dropped as "unloaded credentials").
 */
function staticProvider(update: { ca?: Buffer; cert?: Buffer; key?: Buffer }): grpc.experimental.CertificateProvider {
  return {
    addCaCertificateListener: (l) => setImmediate(() => l(update.ca ? { caCertificate: update.ca } : null)),
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: (l) => setImmediate(() => l(update.cert && update.key ? { certificate: update.cert, privateKey: update.key } : null)),
    removeIdentityCertificateListener: () => undefined,
  };
}

/**
 * Binds the gRPC API: with TLS, the handshake asks for a client certificate but does not require one
 * (kube-apiserver's tls.RequestClientCert), so a bad or missing certificate is the authenticator's 401
 * rather than a handshake failure the client cannot explain.
 */
export function bindGrpc(server: grpc.Server, address: string, tls?: { cert: Buffer; key: Buffer; clientCa: Buffer }): Promise<number> {
  const creds = tls
    ? grpc.experimental.createCertificateProviderServerCredentials(staticProvider({ cert: tls.cert, key: tls.key }), staticProvider({ ca: tls.clientCa }), false)
    : grpc.ServerCredentials.createInsecure();
  return new Promise((resolve, reject) => server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port))));
}
