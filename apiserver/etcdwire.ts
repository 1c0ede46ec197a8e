/**
 * The apiserver's hot path to etcd: KV.Txn and single-key KV.Range as gRPC unary calls on a bare
 * node:http2 session, encoded by @grpc/proto-loader from the etcd3 package's own rpc.proto (so requests
 * and responses have exactly the shapes etcd3 gives: snake_case fields, int64 as strings, bytes as Buffers).
 *
 * Why not etcd3/grpc-js for these: every create, update, delete and get is one of these calls, and on a
 * CPU-bound machine the apiserver's throughput is its CPU per call. A grpc-js unary call costs ~2.2× the
 * client CPU of the same call on a bare HTTP/2 stream (209 vs 95 µs, 64 in flight); the difference is
 * grpc-js's per-call layers (interceptors, resolving/retrying/load-balancing calls, filters, a captured
 * stack). Everything else — watches, lists, compaction — stays on etcd3.
 *
 * What is kept from a gRPC client: status/message from trailers (or a trailers-only reply), a per-call
 * deadline, reconnect on the next call after the connection fails, and rotation over the endpoints.
 *
 * With several endpoints (an HA control plane's etcd members), a follower's failure costs no request (a
 * leader's costs the writes it had in flight: etcd answers them "request timed out", and whether they were
 * applied is unknown, so they are not sent again):
 * - a call whose connection could not be made (refused, unknown name, reset before it was up) was never
 *   sent, and is tried again on the next member;
 * - every call carries etcd's `hasleader` metadata (clientv3.WithRequireLeader), so a member cut off from
 *   its peers answers "no leader" at once instead of timing out; such a call was not applied and is
 *   tried on the next member too;
 * - an HTTP/2 ping every KEEPALIVE_MS finds a connection that went silent (a partitioned member) and
 *   drops it, as gRPC keepalive does.
 */
import http2 from 'node:http2';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';

type Serialize = (value: object) => Buffer;
type Deserialize = (bytes: Buffer) => unknown;

interface Method {
  path: string;
  serialize: Serialize;
  deserialize: Deserialize;
}

export interface ResponseHeader {
  revision: string;
}

export interface KeyValue {
  key: Buffer;
  value: Buffer;
  create_revision: string;
  mod_revision: string;
  version: string;
}

export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
}

export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  count: string;
}

export interface Compare {
  key: Buffer;
  result: 'Equal';
  target: 'Create' | 'Mod';
  create_revision?: string;
  mod_revision?: string;
}

export type RequestOp = { request_put: { key: Buffer; value: Buffer; lease?: string } } | { request_delete_range: { key: Buffer } };

export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

/** An etcd call that failed: `code` is the gRPC status (14 UNAVAILABLE for transport failures). */
export class EtcdCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;
/**
 * How often a connection with calls in flight is pinged, and how long the ack may take before it is dropped: a
 * partitioned member is found within ~6 s (it was 15 s with 10 s + 5 s; docs/benchmarks.md, HA). etcd must
 * accept a ping that often: the lab runs it with --grpc-keepalive-min-time 1s (its default, 5 s, answers more
 * frequent pings — or any on an idle connection — with GOAWAY; none are sent while idle).
 */
export const KEEPALIVE_MS = 3_000;
export const KEEPALIVE_TIMEOUT_MS = 3_000;

/** A call that never reached etcd (no connection), or that etcd refused before applying it: safe to send again. */
class NotSent extends EtcdCallError {}

let methods: { txn: Method; range: Method } | undefined;

function loadMethods(): { txn: Method; range: Method } {
  if (methods) return methods;
  const require = createRequire(import.meta.url);
  const protoFile = join(dirname(require.resolve('etcd3/package.json')), 'proto', 'rpc.proto');
  // The same loader options as etcd3's connection pool.
  const def = protoLoader.loadSync(protoFile, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const method = (name: string): Method => {
    const m = (def['etcdserverpb.KV'] as protoLoader.ServiceDefinition)[name];
    return { path: m.path, serialize: m.requestSerialize as Serialize, deserialize: m.responseDeserialize as Deserialize };
  };
  methods = { txn: method('Txn'), range: method('Range') };
  return methods;
}

/** Client TLS toward etcd: the CA of its serving certificate and the client certificate it requires. */
export interface EtcdTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export class EtcdWire {
  private session?: http2.ClientHttp2Session;
  private next = 0;
  private closed = false;
  private readonly methods = loadMethods();
  /** Sessions whose connection came up (calls on them may have been sent). */
  private readonly connected = new WeakSet<http2.ClientHttp2Session>();
  /** Calls in flight per session: only a session with some is pinged. */
  private readonly inflight = new WeakMap<http2.ClientHttp2Session, number>();

  constructor(
    private readonly endpoints: string[],
    private readonly deadlineMs = 30_000,
    private readonly tls?: EtcdTls,
  ) {}

  txn(req: TxnRequest): Promise<TxnResponse> {
    return this.call(this.methods.txn, req) as Promise<TxnResponse>;
  }

  range(req: { key: Buffer }): Promise<RangeResponse> {
    return this.call(this.methods.range, req) as Promise<RangeResponse>;
  }

  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }

  private connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const endpoint = this.endpoints[this.next++ % this.endpoints.length];
    const url = /^https?:\/\//.test(endpoint) ? endpoint : `${this.tls ? 'https' : 'http'}://${endpoint}`;
    const session = this.tls ? http2.connect(url, { ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key, ALPNProtocols: ['h2'] }) : http2.connect(url);
    session.once('connect', () => this.connected.add(session));
    let pinging = false;
    const keepalive = setInterval(() => {
      if (!session.connecting && !pinging && !session.destroyed && (this.inflight.get(session) ?? 0) > 0) {
        pinging = true;
        const silent = setTimeout(() => session.destroy(new Error(`etcd at ${endpoint} did not answer a keepalive ping within ${KEEPALIVE_TIMEOUT_MS} ms`)), KEEPALIVE_TIMEOUT_MS);
        silent.unref();
        try {
          session.ping((err) => {
            pinging = false;
            clearTimeout(silent);
            if (err) session.destroy();
          });
        } catch {
          clearTimeout(silent);
          session.destroy();
        }
      }
    }, KEEPALIVE_MS);
    keepalive.unref();
    const drop = (): void => {
      clearInterval(keepalive);
      if (this.session === session) this.session = undefined;
    };
    // Errors reach the calls in flight through their streams; the session is replaced on the next call.
    session.on('error', drop);
    session.on('close', drop);
    session.on('goaway', drop);
    session.unref();
    this.session = session;
    return session;
  }

  /** One call, sent again on the next endpoint while it was not sent (see the file comment), once per endpoint. */
  private async call(method: Method, req: object): Promise<unknown> {
    const why: string[] = [];
    for (let attempt = 1; ; attempt++) {
      const endpoint = this.session ? undefined : this.endpoints[this.next % this.endpoints.length];
      try {
        return await this.attempt(method, req);
      } catch (err) {
        if (!(err instanceof NotSent) || this.closed) throw err;
        why.push(endpoint ? `${endpoint}: ${err.message}` : err.message);
        // Every member tried: say what each answered (a lost quorum reads as "no leader" from the live ones).
        if (attempt >= this.endpoints.length) throw new EtcdCallError(UNAVAILABLE, this.endpoints.length > 1 ? `no etcd member took the call (${why.join('; ')})` : err.message);
      }
    }
  }

  private attempt(method: Method, req: object): Promise<unknown> {
    if (this.closed) return Promise.reject(new EtcdCallError(UNAVAILABLE, 'etcd client closed'));
    return new Promise((resolve, reject) => {
      const body = method.serialize(req);
      const frame = Buffer.allocUnsafe(5 + body.length);
      frame[0] = 0;
      frame.writeUInt32BE(body.length, 1);
      body.copy(frame, 5);
      let stream: http2.ClientHttp2Stream;
      let session: http2.ClientHttp2Session;
      try {
        session = this.connect();
        stream = session.request({ ':method': 'POST', ':path': method.path, 'content-type': 'application/grpc', te: 'trailers', hasleader: 'true' });
      } catch (err) {
        this.session = undefined;
        reject(new NotSent(UNAVAILABLE, (err as Error).message));
        return;
      }
      const chunks: Buffer[] = [];
      let status: string | undefined;
      let message = '';
      let settled = false;
      this.inflight.set(session, (this.inflight.get(session) ?? 0) + 1);
      const finish = (err?: EtcdCallError): void => {
        if (settled) return;
        settled = true;
        this.inflight.set(session, (this.inflight.get(session) ?? 1) - 1);
        clearTimeout(timer);
        if (err) return reject(err);
        if (status === String(UNAVAILABLE) && /no leader/i.test(message)) {
          // This member lost its peers: the next call goes to another one.
          if (this.session === session) this.session = undefined;
          session.close();
          return reject(new NotSent(UNAVAILABLE, message));
        }
        if (status !== '0') return reject(new EtcdCallError(Number(status ?? UNAVAILABLE), message || `etcd call ended without a status (${method.path})`));
        const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        if (bytes.length < 5) return reject(new EtcdCallError(UNAVAILABLE, `etcd sent no reply message (${method.path})`));
        try {
          resolve(method.deserialize(bytes.subarray(5, 5 + bytes.readUInt32BE(1))));
        } catch (e) {
          reject(new EtcdCallError(UNAVAILABLE, `etcd reply could not be decoded: ${(e as Error).message}`));
        }
      };
      const readStatus = (headers: http2.IncomingHttpHeaders): void => {
        const s = headers['grpc-status'];
        if (s === undefined) return;
        status = String(s);
        const m = headers['grpc-message'];
        if (m) message = decodeURIComponent(String(m));
      };
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        // A connection that answers nothing for this long is presumed dead (a paused or cut-off etcd): the
        // next call dials again instead of waiting on it too.
        if (this.session === session) this.session = undefined;
        session.destroy();
        finish(new EtcdCallError(DEADLINE_EXCEEDED, `etcd did not answer within ${this.deadlineMs} ms`));
      }, this.deadlineMs);
      stream.on('response', readStatus); // a trailers-only reply carries its status here
      stream.on('trailers', readStatus);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      // Until the connection was up nothing was sent: a failure before then may be retried elsewhere.
      const failed = (msg: string): EtcdCallError => (this.connected.has(session) ? new EtcdCallError(UNAVAILABLE, msg) : new NotSent(UNAVAILABLE, msg));
      stream.on('close', () => finish(status === undefined ? failed('connection to etcd closed') : undefined));
      stream.on('error', (err) => finish(failed(err.message)));
      stream.end(frame);
    });
  }
}
