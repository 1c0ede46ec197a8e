/**
 * The Kubernetes REST facade (what kubectl talks to), over the same registry and watch cache as gRPC.
 * HTTPS with client-certificate (and, through the chain, token) authentication; plain HTTP with no
 * authentication only for an --insecure test apiserver. Routing is in route.ts, discovery in discovery.ts, table printing in tables.ts,
 * OpenAPI + field validation in openapi.ts, pod log/exec/attach/port-forward proxying in stream.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import YAML from 'yaml';
import { ApiError, badRequest, invalid } from '../../api/errors.js';
import { apiVersionOf, type ResourceInfo } from '../../api/resources.js';
import type { KObject, WatchEventType } from '../../api/types.js';
import type { DeleteOptionsBody, Registry } from '../registry.js';
import type { KubeletProxy } from '../kubeletproxy.js';
import { applyPatchBody, planApply } from '../apply.js';
import { Aggregator } from '../aggregator.js';
import type { VersionAlias } from './versions.js';
import { aggregatedDiscovery, apiGroupDoc, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION, wantsAggregated } from './discovery.js';
import { checkFields, openapiV2, openapiV2Protobuf, openapiV3Doc, openapiV3Index } from './openapi.js';
import { decodeProtobufObject } from './protobuf.js';
import { boolParam, enumParam, requestUrl, intParam, selectorParams, timeoutParam, tooLargeResourceVersion, versionParams } from './params.js';
import type { Security } from '../auth/index.js';
import { requestAttributes, type Attributes } from '../auth/attributes.js';
import { createdName, type AuditLog } from '../audit.js';
import type { UserInfo } from '../auth/user.js';
import { isAnonymous, isPublicInfoPath, unauthorized } from '../auth/authn.js';
import { parsePath, type Route } from './route.js';
import { strategyFor } from '../strategies/index.js';
import { handleStreamRequest, handleStreamUpgrade, kubeletQuery } from './stream.js';
import { tableWith } from '../../api/tables.js';

export interface RestOptions {
  registry: Registry;
  proxy: KubeletProxy;
  log: Logger;
  /** Serving certificate and the CA of client certificates; absent: plain HTTP (an --insecure apiserver). */
  tls?: { cert: Buffer; key: Buffer; clientCa: Buffer };
  /** Authentication, authorization and the reviews; every request passes through it. */
  security: Security;
  /** The audit log (--audit-log-path + --audit-policy-file), when on. */
  audit?: AuditLog;
}

/** What the audit log needs of one request, gathered while it is served. */
interface AuditContext {
  started: Date;
  attrs?: Attributes;
  body?: Buffer;
  response?: Buffer;
  decision?: { allowed: boolean; reason: string };
}
const auditContexts = new WeakMap<IncomingMessage, AuditContext>();

/** A request or response body for the audit log: JSON, or protobuf (kubectl and client-go may send it) decoded. */
function parseForAudit(buf: Buffer | undefined, contentType = ''): unknown {
  if (!buf?.length) return undefined;
  try {
    return /protobuf/i.test(contentType) ? decodeProtobufObject(buf) : (JSON.parse(buf.toString('utf8')) as unknown);
  } catch {
    return undefined;
  }
}

/** Starts the audit record of a request; its event is written when the response finishes. */
function auditRequest(audit: AuditLog, req: IncomingMessage, res: ServerResponse): void {
  const ctx: AuditContext = { started: new Date() };
  auditContexts.set(req, ctx);
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  (res as { end: (...args: unknown[]) => ServerResponse }).end = (...args: unknown[]) => {
    const chunk = args[0];
    if (Buffer.isBuffer(chunk) || typeof chunk === 'string') ctx.response = Buffer.from(chunk);
    return end(...args);
  };
  res.once('finish', () => {
    if (!ctx.attrs) return;
    const level = audit.level(ctx.attrs);
    if (level === 'None') return;
    let parsed: { v: unknown } | undefined;
    const requestObject = (): unknown => (parsed ??= { v: parseForAudit(ctx.body, req.headers['content-type']) }).v;
    audit.write(
      {
        attrs: ctx.attrs,
        requestURI: req.url ?? '',
        sourceIP: req.socket.remoteAddress ?? '',
        ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
        code: res.statusCode,
        started: ctx.started,
        ...(ctx.decision ? { decision: ctx.decision } : {}),
        ...(createdName(ctx.attrs.verb, requestObject()) ? { objectName: createdName(ctx.attrs.verb, requestObject()) } : {}),
        ...(level !== 'Metadata' ? { requestObject: requestObject() } : {}),
        ...(level === 'RequestResponse' ? { responseObject: parseForAudit(ctx.response) } : {}),
      },
      level,
    );
  });
}

/** DER of the TLS peer's client certificate, when the request came over TLS with one. */
export function peerCertificateOf(req: IncomingMessage): Buffer | undefined {
  const s = req.socket as TLSSocket;
  if (typeof s.getPeerCertificate !== 'function') return undefined;
  const raw = s.getPeerCertificate().raw as Buffer | undefined;
  return raw && raw.length > 0 ? raw : undefined;
}

export { tableFor } from '../../api/tables.js';

/** kube-apiserver's default --max-request-body-bytes (3 MiB): larger bodies are refused with 413 unread. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** How long a read waits for a resourceVersion etcd has not reached yet (kube-apiserver's blockTimeout). */
const FRESHNESS_WAIT_MS = 3000;
const JSON_TYPE = 'application/json';

export function createRestServer(opts: RestOptions): Server {
  const { log } = opts;
  const aggregator = new Aggregator(opts.registry, log);
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (opts.audit) auditRequest(opts.audit, req, res);
    handle(opts, aggregator, req, res).catch((err: unknown) => {
      if (!(err instanceof ApiError)) log.error({ err, method: req.method, url: req.url }, 'request failed');
      const apiErr = err instanceof ApiError ? err : new ApiError('InternalError', `Internal error occurred: ${(err as Error).message}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = apiErr.toStatus();
      // As kube-apiserver: a 429 (flow control) or 504 (too large resource version) tells when to retry; client-go
      // and kubectl honour the header and retry by themselves.
      const retry = status.details?.retryAfterSeconds;
      sendJson(res, apiErr.code, status, retry !== undefined ? { 'retry-after': String(retry) } : {});
    });
  };
  // requestCert without rejectUnauthorized: a missing or foreign client certificate is the authenticator's
  // 401 (kube-apiserver's tls.RequestClientCert), not a handshake failure.
  const server: Server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.clientCa, requestCert: true, rejectUnauthorized: false }, onRequest)
    : createServer(onRequest);
  // A handshake that stalls or sends junk costs its own connection only.
  server.on('tlsClientError', (err: Error, socket: Socket) => {
    log.debug({ err: err.message }, 'TLS handshake failed');
    socket.destroy();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Before anything else may fail: a peer that resets mid-upgrade costs its own connection only.
    socket.on('error', () => socket.destroy());
    handleStreamUpgrade(opts, req, socket, head).catch((err: unknown) => {
      log.warn({ err: (err as Error).message, url: req.url }, 'stream upgrade failed');
      socket.destroy();
    });
  });
  return server;
}

function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(code, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(data), 'cache-control': 'no-cache, private', ...headers }).end(data);
}

export const bodyTooLarge = (): ApiError => new ApiError('RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY_BYTES}`);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  // A declared length over the limit is refused before a byte is read.
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) throw bodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw bodyTooLarge();
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const audit = auditContexts.get(req);
  if (audit) audit.body = body;
  return body;
}

function parseBody(buf: Buffer, contentType: string): unknown {
  if (/protobuf/i.test(contentType)) return buf.length ? decodeProtobufObject(buf) : undefined;
  const text = buf.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    // Warnings (an unknown local tag) are the client's business, not lines in the server's stderr.
    if (/yaml/i.test(contentType)) return YAML.parse(text, { logLevel: 'error' }) as unknown;
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`the request body could not be decoded: ${(err as Error).message}`);
  }
}

/**
 * Waits (up to FRESHNESS_WAIT_MS) until etcd has reached `rv`, as kube-apiserver waits for its watch
 * cache; then answers 504 "Too large resource version". A version the resource's cache has already
 * seen needs no etcd round trip.
 */
async function awaitRevision(opts: RestOptions, resource: string, rv: number): Promise<void> {
  if (rv <= (opts.registry.caches.get(resource)?.revision ?? 0)) return;
  const deadline = Date.now() + FRESHNESS_WAIT_MS;
  for (;;) {
    const current = await opts.registry.storage.currentRevision();
    if (current >= rv) return;
    if (Date.now() >= deadline) throw tooLargeResourceVersion(rv, current);
    await delay(Math.min(100, Math.max(1, deadline - Date.now())));
  }
}

/** Authenticates and authorizes a request (Kubernetes' WithAuthentication + WithAuthorization filters); answers its user. */
export async function authorizeRequest(opts: RestOptions, req: IncomingMessage, url: URL): Promise<UserInfo> {
  const user = await opts.security.authenticate(req.headers.authorization, peerCertificateOf(req));
  // Anonymous authentication is enabled for the public-info paths only (/healthz, /livez, /readyz,
  // /version), as Kubernetes' AuthenticationConfiguration `anonymous.conditions` does: a request without
  // credentials anywhere else is a 401, whatever the authorizer would say.
  if (isAnonymous(user) && !isPublicInfoPath(url.pathname)) throw unauthorized();
  const attrs = requestAttributes(user, req.method ?? 'GET', url.pathname, url.searchParams);
  const audit = auditContexts.get(req);
  if (audit) audit.attrs = attrs;
  try {
    opts.security.authorize(attrs);
  } catch (err) {
    if (audit) audit.decision = { allowed: false, reason: err instanceof ApiError ? err.message : '' };
    throw err;
  }
  if (audit) audit.decision = { allowed: true, reason: '' };
  return user;
}

async function handle(opts: RestOptions, aggregator: Aggregator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = requestUrl(req);
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const accept = req.headers.accept;
  const user = await authorizeRequest(opts, req, url);
  const warnings: string[] = [];
  if (path === '/healthz' || path === '/livez' || path === '/readyz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  if (path === '/version' || path === '/version/') return sendJson(res, 200, SERVER_VERSION);
  if (path.startsWith('/openapi/')) return serveOpenapi(res, path, accept);
  const aggregated = aggregator.match(path);
  if (aggregated) return aggregator.proxy(aggregated, req, res);
  const route: Route = parsePath(path);
  // Empty details, as kube-apiserver sends for a path it does not serve: kubectl debug reads
  // `details.name` of a 404 to tell a missing subresource from a missing pod.
  if (route.kind === 'notfound') throw new ApiError('NotFound', route.message, {});
  if (route.kind === 'discovery') return serveDiscovery(res, route.path, accept, aggregator);
  const { info, namespace, name, subresource } = route;
  if (info.virtual) {
    if (method !== 'POST' || name) throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource (${info.resource})`);
    const body = parseBody(await readBody(req), req.headers['content-type'] ?? '');
    // Only an object is converted: anything else goes on as it came, for the review's own 400.
    const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
    const review = await opts.security.review(info, namespace, route.alias && isObject ? route.alias.toStored(body as KObject) : body, user);
    return sendJson(res, 201, route.alias ? route.alias.fromStored(review as KObject) : review);
  }
  if (subresource === 'log' || subresource === 'exec' || subresource === 'attach' || subresource === 'portforward' || subresource === 'proxy')
    // Options are checked before the pod or its node is looked up: a malformed one is the client's 400.
    return handleStreamRequest(opts, req, res, { namespace, name, subresource, query: kubeletQuery(subresource, url.searchParams) });
  if (route.alias) return handleConverted(opts, req, res, route.alias, info, namespace, name, subresource, url.searchParams, user);
  const q = url.searchParams;
  const dryRuns = q.getAll('dryRun');
  const badDryRun = dryRuns.find((d) => d !== 'All');
  if (badDryRun !== undefined) throw badRequest(`invalid value for query parameter dryRun: "${badDryRun.slice(0, 64)}": supported values: "All"`);
  const dryRun = dryRuns.length > 0;
  // Parsed for their errors: kubelab answers as fast as it can and always prints compactly.
  timeoutParam(q);
  boolParam(q, 'pretty');
  const registry = opts.registry;
  const table = wantsTable(accept);
  switch (method) {
    case 'GET':
      if (!name) {
        if (boolParam(q, 'watch')) return serveWatch(opts, req, res, info, namespace, q, table);
        return serveList(opts, res, info, namespace, q, table);
      }
      {
        const { revision } = versionParams(q, false);
        if (revision) await awaitRevision(opts, info.resource, revision);
        const obj = await registry.get(info.resource, namespace, name, subresource);
        if (table && !subresource) return sendJson(res, 200, toTable(info, [obj], q, obj.metadata?.resourceVersion ?? '', undefined, false));
        return sendJson(res, 200, obj);
      }
    case 'POST': {
      const body = parseBody(await readBody(req), req.headers['content-type'] ?? '');
      if (name && !subresource) throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource`);
      if (!subresource) warnings.push(...checkFields(info, body, q.get('fieldValidation')));
      const created = await registry.create(info.resource, namespace, body, { dryRun, subresource, name, user, warnings });
      return sendJson(res, 201, created, warningHeaders(warnings));
    }
    case 'PUT': {
      if (!name) throw new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
      const body = parseBody(await readBody(req), req.headers['content-type'] ?? '');
      if (!subresource) warnings.push(...checkFields(info, body, q.get('fieldValidation')));
      const updated = await registry.update(info.resource, namespace, name, body, { dryRun, subresource, user, warnings });
      return sendJson(res, 200, updated, warningHeaders(warnings));
    }
    case 'PATCH': {
      if (!name) throw new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
      const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
      const body = parseBody(await readBody(req), contentType);
      if (contentType === 'application/apply-patch+yaml' || contentType === 'application/apply-patch+json')
        return sendJson(res, ...(await serverSideApply(opts, info, namespace, name, body, q, subresource, user)));
      if (!subresource) warnings.push(...checkPatchedFields(info, body, contentType, q.get('fieldValidation')));
      const patched = await registry.patch(info.resource, namespace, name, contentType, body, { dryRun, subresource, user, warnings });
      return sendJson(res, 200, patched, warningHeaders(warnings));
    }
    case 'DELETE': {
      const body = parseBody(await readBody(req), req.headers['content-type'] ?? '') as (DeleteOptionsBody & { kind?: string }) | undefined;
      const options: DeleteOptionsBody = { ...(body ?? {}) };
      const grace = intParam(q, 'gracePeriodSeconds');
      if (grace !== undefined) options.gracePeriodSeconds = grace;
      const policy = enumParam(q, 'propagationPolicy', ['Foreground', 'Background', 'Orphan'] as const);
      if (policy) options.propagationPolicy = policy;
      const orphan = boolParam(q, 'orphanDependents');
      if (orphan !== undefined) options.orphanDependents = orphan;
      if (dryRun) options.dryRun = ['All'];
      if (name) return sendJson(res, 200, await registry.delete(info.resource, namespace, name, options, { user, warnings }));
      // deletecollection: every object the selectors match, one by one through the same delete path.
      const list = await registry.list(info.resource, namespace, selectorParams(q));
      const items: KObject[] = [];
      for (const obj of list.items) {
        try {
          items.push(await registry.delete(info.resource, obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', options, { user, warnings }));
        } catch (err) {
          if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
        }
      }
      return sendJson(res, 200, { apiVersion: apiVersionOf(info), kind: info.listKind, metadata: { resourceVersion: list.resourceVersion }, items });
    }
    default:
      throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }
}

/**
 * An older version of a resource (versions.ts): bodies are converted to the stored version before the
 * usual checks and storage, and answers back. Get, list, create, update and delete; tables are the stored
 * version's. Watch and patch are served on the stored version only.
 */
async function handleConverted(
  opts: RestOptions,
  req: IncomingMessage,
  res: ServerResponse,
  alias: VersionAlias,
  info: ResourceInfo,
  namespace: string,
  name: string,
  subresource: string,
  q: URLSearchParams,
  user: UserInfo,
): Promise<void> {
  const method = req.method ?? 'GET';
  const dryRun = q.getAll('dryRun').includes('All');
  const registry = opts.registry;
  const gv = `${alias.group}/${alias.version}`;
  const notServed = (): ApiError => new ApiError('MethodNotAllowed', `${method} of ${info.resource} is served in ${apiVersionOf(info)} only`);
  const body = async (): Promise<KObject> => alias.toStored(parseBody(await readBody(req), req.headers['content-type'] ?? '') as KObject);
  switch (method) {
    case 'GET': {
      if (boolParam(q, 'watch')) throw notServed();
      if (wantsTable(req.headers.accept)) {
        if (!name) return serveList(opts, res, info, namespace, q, true);
        const obj = await registry.get(info.resource, namespace, name, subresource);
        return sendJson(res, 200, toTable(info, [obj], q, obj.metadata?.resourceVersion ?? '', undefined, false));
      }
      if (name) return sendJson(res, 200, alias.fromStored(await registry.get(info.resource, namespace, name, subresource)));
      const list = await registry.list(info.resource, namespace, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined });
      return sendJson(res, 200, { apiVersion: gv, kind: info.listKind, metadata: { resourceVersion: list.resourceVersion }, items: list.items.map((o) => alias.fromStored(o)) });
    }
    case 'POST': {
      if (name) throw notServed();
      const obj = await body();
      const warnings = checkFields(info, obj, q.get('fieldValidation'));
      return sendJson(res, 201, alias.fromStored(await registry.create(info.resource, namespace, obj, { dryRun, user, warnings })), warningHeaders(warnings));
    }
    case 'PUT': {
      if (!name) throw notServed();
      const obj = await body();
      const warnings = subresource ? [] : checkFields(info, obj, q.get('fieldValidation'));
      return sendJson(res, 200, alias.fromStored(await registry.update(info.resource, namespace, name, obj, { dryRun, subresource, user, warnings })), warningHeaders(warnings));
    }
    case 'DELETE':
      if (!name) throw notServed();
      return sendJson(res, 200, await registry.delete(info.resource, namespace, name, dryRun ? { dryRun: ['All'] } : {}, { user }));
    default:
      throw notServed();
  }
}

function warningHeaders(warnings: string[]): Record<string, string> {
  if (warnings.length === 0) return {};
  return { warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') };
}

/** Unknown-field checks for a patch body: only merge-style bodies have the object's shape. */
function checkPatchedFields(info: ResourceInfo, body: unknown, contentType: string, mode: string | null): string[] {
  if (contentType === 'application/json-patch+json') return [];
  return checkFields(info, body, mode, true);
}

/**
 * Server-side apply: the applied configuration is merged into the live object with strategic-merge
 * semantics (or created), with field ownership per manager in managedFields (apply.ts: conflicts,
 * force, removal of fields the applier dropped).
 */
async function serverSideApply(
  opts: RestOptions,
  info: ResourceInfo,
  namespace: string,
  name: string,
  body: unknown,
  q: URLSearchParams,
  subresource: string,
  user: UserInfo,
): Promise<[number, KObject]> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the apply configuration must be an object');
  const manager = q.get('fieldManager');
  if (!manager) throw badRequest('fieldManager is required for apply requests (query parameter "fieldManager")');
  const force = boolParam(q, 'force') ?? false;
  const dryRun = q.getAll('dryRun').includes('All');
  const config = body as Record<string, unknown>;
  let live: KObject | undefined;
  try {
    live = await opts.registry.get(info.resource, namespace, name, subresource);
  } catch (err) {
    if (!(err instanceof ApiError && err.reason === 'NotFound') || subresource) throw err;
  }
  const plan = planApply(live as Record<string, unknown> | undefined, config, manager, force, apiVersionOf(info), new Date());
  const patch = applyPatchBody(config, plan);
  if (live) return [200, await opts.registry.patch(info.resource, namespace, name, 'application/strategic-merge-patch+json', patch, { dryRun, subresource, user })];
  const obj = patch as KObject;
  obj.metadata = { ...(obj.metadata ?? {}), name };
  return [201, await opts.registry.create(info.resource, namespace, obj, { dryRun, user })];
}

// -------------------------------------------------------------------------------------- discovery

const AGGREGATED_TYPE = (v: string): string => `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;

async function serveDiscovery(res: ServerResponse, path: string, accept: string | undefined, aggregator: Aggregator): Promise<void> {
  const agg = wantsAggregated(accept);
  if (path === '/api' || path === '/apis') {
    const extra = path === '/apis' ? await aggregator.available() : [];
    if (agg) {
      sendJson(res, 200, aggregatedDiscovery(path === '/api', agg, extra), { 'content-type': AGGREGATED_TYPE(agg), vary: 'Accept' });
      return;
    }
    sendJson(res, 200, path === '/api' ? apiVersions() : apiGroupList(extra), { vary: 'Accept' });
    return;
  }
  const segs = path.split('/').filter(Boolean);
  let doc: object | undefined;
  if (segs[0] === 'api' && segs.length === 2) doc = apiResourceList('', segs[1]);
  else if (segs[0] === 'apis' && segs.length === 2) doc = apiGroupDoc(segs[1]);
  else if (segs[0] === 'apis' && segs.length === 3) doc = apiResourceList(segs[1], segs[2]);
  if (!doc) throw new ApiError('NotFound', 'the server could not find the requested resource');
  sendJson(res, 200, doc);
}

// (The '@' of the Accept value is not valid in a response media type; Go's mime parser rejects it.)
const V2_PROTOBUF_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

function serveOpenapi(res: ServerResponse, path: string, accept: string | undefined): void {
  if (path === '/openapi/v2') {
    // kubectl asks for gnostic protobuf only (≤ 1.27 builds its apply/create validator from it);
    // JSON for everyone else, 406 for anything else, as kube-apiserver does.
    if (accept && /protobuf/.test(accept)) {
      const doc = openapiV2Protobuf();
      res.writeHead(200, { 'content-type': V2_PROTOBUF_TYPE, 'content-length': doc.length, vary: 'Accept' }).end(doc);
      return;
    }
    if (accept && !/application\/json|\*\/\*/.test(accept)) {
      sendJson(res, 406, new ApiError('BadRequest', 'only application/json and protobuf are served').toStatus());
      return;
    }
    sendJson(res, 200, openapiV2(), { vary: 'Accept' });
    return;
  }
  if (path === '/openapi/v3' || path === '/openapi/v3/') {
    sendJson(res, 200, openapiV3Index());
    return;
  }
  const doc = openapiV3Doc(path.slice('/openapi/v3/'.length));
  if (!doc) throw new ApiError('NotFound', 'the server could not find the requested resource');
  res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(doc), 'cache-control': 'public, immutable', etag: `"${doc.length}"` }).end(doc);
}

// -------------------------------------------------------------------------------------- tables

/** Whether the Accept header asks for a meta.k8s.io Table (kubectl get's server-side printing). */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  const first = accept.split(',')[0].replace(/\s+/g, '');
  return first.includes('as=Table') && first.includes('g=meta.k8s.io');
}

function rowObject(obj: KObject, includeObject: string | null): unknown {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

function toTable(info: ResourceInfo, objs: KObject[], q: URLSearchParams, resourceVersion: string, cont: string | undefined, noHeaders: boolean): object {
  const t = tableWith(strategyFor(info).columns, objs, { wide: true });
  const includeObject = q.get('includeObject');
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...(cont ? { continue: cont } : {}) },
    columnDefinitions: noHeaders
      ? null
      : t.columns.map((c, i) => ({ name: c.name, type: c.type, format: i === 0 ? 'name' : '', description: COLUMN_DESCRIPTIONS[c.name] ?? c.name, priority: c.priority })),
    rows: t.rows.map((r) => {
      const object = rowObject(r.object, includeObject);
      return { cells: r.cells, ...(object === undefined ? {} : { object }) };
    }),
  };
}

const COLUMN_DESCRIPTIONS: Record<string, string> = {
  Name: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.',
  Age: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
};

// -------------------------------------------------------------------------------------- list / watch

async function serveList(opts: RestOptions, res: ServerResponse, info: ResourceInfo, namespace: string, q: URLSearchParams, table: boolean): Promise<void> {
  const selectors = selectorParams(q);
  const limit = intParam(q, 'limit');
  const version = versionParams(q, false);
  if (version.revision) await awaitRevision(opts, info.resource, version.revision);
  const list = await opts.registry.list(info.resource, namespace, {
    ...selectors,
    limit,
    continue: q.get('continue') ?? undefined,
    resourceVersion: version.resourceVersion,
    resourceVersionMatch: version.match,
  });
  if (table) return sendJson(res, 200, toTable(info, list.items, q, list.resourceVersion, list.continue, false));
  sendJson(res, 200, {
    apiVersion: apiVersionOf(info),
    kind: info.listKind,
    metadata: { resourceVersion: list.resourceVersion, ...(list.continue ? { continue: list.continue } : {}) },
    items: list.items.map((o) => ({ apiVersion: apiVersionOf(info), kind: info.kind, ...o })),
  });
}

/** Longest a watch stays open without timeoutSeconds: 30–60 min, spread as kube-apiserver does. */
const DEFAULT_WATCH_MS = () => (30 + Math.random() * 30) * 60_000;

async function serveWatch(
  opts: RestOptions,
  req: IncomingMessage,
  res: ServerResponse,
  info: ResourceInfo,
  namespace: string,
  q: URLSearchParams,
  table: boolean,
): Promise<void> {
  const timeoutSec = intParam(q, 'timeoutSeconds');
  const bookmarks = (boolParam(q, 'allowWatchBookmarks') ?? false) && !table;
  const selectors = selectorParams(q);
  // WatchList (sendInitialEvents) is the one watch that may carry resourceVersionMatch.
  const initialEvents = boolParam(q, 'sendInitialEvents');
  const version = versionParams(q, initialEvents === undefined, initialEvents !== undefined);
  if (initialEvents !== undefined) {
    // ListOptions validation for WatchList, as kube-apiserver words it.
    const causes: { field: string; message: string; reason: string }[] = [];
    if (version.match !== 'NotOlderThan') causes.push({ field: 'resourceVersionMatch', message: 'Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan', reason: 'FieldValueForbidden' });
    if (initialEvents && !bookmarks) causes.push({ field: 'allowWatchBookmarks', message: 'Forbidden: allowWatchBookmarks must be set to true when sendInitialEvents is true', reason: 'FieldValueForbidden' });
    if (causes.length) throw invalid('ListOptions', '', causes, 'meta.k8s.io');
  }
  let closed = false;
  let unsubscribe: (() => void) | undefined;
  let first = true;
  let timer: NodeJS.Timeout | undefined;
  const end = (): void => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    unsubscribe?.();
    res.end();
  };
  const writeEvent = (type: WatchEventType | 'ERROR', obj: KObject, json: string): boolean => {
    if (closed) return true;
    let line: string;
    if (type === 'BOOKMARK') {
      line = JSON.stringify({ type, object: { kind: info.kind, apiVersion: apiVersionOf(info), metadata: obj.metadata } });
    } else if (table && type !== 'ERROR') {
      line = JSON.stringify({ type, object: toTable(info, [obj], q, obj.metadata?.resourceVersion ?? '', undefined, !first) });
      first = false;
    } else line = `{"type":"${type}","object":${json}}`;
    res.write(line + '\n');
    return res.writableLength < 32 * 1024 * 1024;
  };
  const sendError = (err: Error): void => {
    const apiErr = err instanceof ApiError ? err : new ApiError('InternalError', err.message);
    writeEvent('ERROR', apiErr.toStatus() as unknown as KObject, JSON.stringify(apiErr.toStatus()));
  };
  req.on('close', end);
  res.on('close', end);
  const startStream = (): void => {
    if (res.headersSent) return;
    res.writeHead(200, { 'content-type': JSON_TYPE, 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
  };
  startStream();
  // (setTimeout fires at once past 2^31-1 ms; a longer timeoutSeconds means "as long as possible".)
  timer = setTimeout(end, timeoutSec !== undefined && timeoutSec > 0 ? Math.min(timeoutSec * 1000, 2 ** 31 - 1) : DEFAULT_WATCH_MS());
  try {
    // A version etcd has not reached: kube-apiserver waits, then ends the watch with one ERROR event
    // carrying the 504 Status (errors after the version parsed are watch events, not HTTP statuses).
    if (version.revision) await awaitRevision(opts, info.resource, version.revision);
    if (closed) return;
    let from = version.resourceVersion;
    if (initialEvents) {
      // WatchList: the current state as ADDED events, then a bookmark marking their end, then the changes
      // from that version on (client-go's reflector with the WatchListClient feature reads it this way).
      const list = await opts.registry.list(info.resource, namespace, { ...selectors, ...(from && from !== '0' ? { resourceVersion: from, resourceVersionMatch: 'NotOlderThan' as const } : {}) });
      for (const o of list.items) {
        const obj = { apiVersion: apiVersionOf(info), kind: info.kind, ...o };
        writeEvent('ADDED', obj, JSON.stringify(obj));
      }
      writeEvent('BOOKMARK', { metadata: { resourceVersion: list.resourceVersion, annotations: { 'k8s.io/initial-events-end': 'true' } } }, '');
      from = list.resourceVersion;
    }
    if (closed) return;
    const unsub = await opts.registry.watch(
      info.resource,
      namespace,
      {
        ...selectors,
        resourceVersion: from,
        allowBookmarks: bookmarks,
      },
      {
        send: (type, obj, json) => writeEvent(type, obj, json),
        close: (err) => {
          if (err) sendError(err);
          end();
        },
      },
    );
    if (closed) unsub();
    else unsubscribe = unsub;
  } catch (err) {
    // A too-old resourceVersion is a 200 with one ERROR event (410 Expired), as kube-apiserver does.
    if (!(err instanceof ApiError)) opts.log.error({ err, resource: info.resource }, 'watch failed');
    sendError(err as Error);
    end();
  }
}
