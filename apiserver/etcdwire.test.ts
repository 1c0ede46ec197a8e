/**
 * The bare HTTP/2 etcd transport against local HTTP/2 servers that misbehave the ways a real etcd can:
 * a gRPC error in a trailers-only reply, and a connection that never answers. (The happy path and an
 * etcd outage run against a real etcd in test/apiserver.test.ts.)
 */
import http2 from 'node:http2';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { afterEach, describe, expect, it } from 'vitest';
import { EtcdCallError, EtcdWire } from './etcdwire.js';

const servers: http2.Http2Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(onStream: (stream: http2.ServerHttp2Stream, headers?: http2.IncomingHttpHeaders) => void): Promise<{ endpoint: string; sessions: () => number }> {
  let sessions = 0;
  const server = http2.createServer();
  server.on('session', (s) => {
    sessions++;
    s.on('error', () => undefined);
  });
  server.on('stream', onStream);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`, sessions: () => sessions };
}

const range = { key: Buffer.from('/registry/pods/default/p') };

describe('EtcdWire', () => {
  it("rejects with etcd's status code and decoded message from a trailers-only reply", async () => {
    const { endpoint } = await serve((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '3', 'grpc-message': 'etcdserver%3A request is too large' }, { endStream: true });
    });
    const wire = new EtcdWire([endpoint]);
    const err = (await wire.range(range).catch((e: unknown) => e)) as EtcdCallError;
    wire.close();
    expect(err).toBeInstanceOf(EtcdCallError);
    expect(err.code).toBe(3);
    expect(err.message).toBe('etcdserver: request is too large');
  });

  it('gives up on a call after its deadline and dials a new connection for the next one', async () => {
    const { endpoint, sessions } = await serve(() => undefined); // accepts the stream, never answers
    const wire = new EtcdWire([endpoint], 200);
    const first = (await wire.range(range).catch((e: unknown) => e)) as EtcdCallError;
    expect(first.code).toBe(4);
    expect(first.message).toMatch(/did not answer within 200 ms/);
    await wire.range(range).catch(() => undefined);
    wire.close();
    expect(sessions()).toBe(2);
  });

  it('reports a refused connection as unavailable', async () => {
    const { endpoint } = await serve(() => undefined);
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    const wire = new EtcdWire([endpoint]);
    const err = (await wire.range(range).catch((e: unknown) => e)) as EtcdCallError;
    wire.close();
    expect(err.code).toBe(14);
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('sends a call that found no connection to the next member, and answers from it', async () => {
    const live = await serve(answer);
    const dead = await serve(() => undefined);
    await new Promise((r) => servers.splice(servers.length - 1, 1)[0].close(r));
    const wire = new EtcdWire([dead.endpoint, live.endpoint]);
    const res = await wire.range(range);
    wire.close();
    expect(res.header.revision).toBe('7');
  });

  it('names what every member answered when none took the call', async () => {
    const leaderless = await serve((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'etcdserver%3A no leader' }, { endStream: true });
    });
    const dead = await serve(() => undefined);
    await new Promise((r) => servers.splice(servers.length - 1, 1)[0].close(r));
    const wire = new EtcdWire([leaderless.endpoint, dead.endpoint]);
    const err = (await wire.range(range).catch((e: unknown) => e)) as EtcdCallError;
    wire.close();
    expect(err.code).toBe(14);
    expect(err.message).toMatch(new RegExp(`no etcd member took the call \\(${leaderless.endpoint}: etcdserver: no leader; ${dead.endpoint}: .*ECONNREFUSED`));
  });

  it('asks for a leader, and sends a call a leaderless member refused to the next member', async () => {
    const asked: unknown[] = [];
    const leaderless = await serve((stream, headers) => {
      asked.push(headers?.hasleader);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'etcdserver%3A no leader' }, { endStream: true });
    });
    const live = await serve(answer);
    const wire = new EtcdWire([leaderless.endpoint, live.endpoint]);
    const res = await wire.range(range);
    // The next call starts on the member after the leaderless one, not on it again.
    await wire.range(range);
    wire.close();
    expect(res.header.revision).toBe('7');
    expect(asked).toEqual(['true']);
  });

  it('does not send a call again once it may have been applied (the connection failed mid-call)', async () => {
    let calls = 0;
    const flaky = await serve((stream) => {
      calls++;
      stream.session?.destroy();
    });
    const live = await serve(answer);
    const wire = new EtcdWire([flaky.endpoint, live.endpoint]);
    const err = (await wire.range(range).catch((e: unknown) => e)) as EtcdCallError;
    wire.close();
    expect(err.code).toBe(14);
    expect(calls).toBe(1);
  });
});

/** Answers every call with an empty RangeResponse at revision 7. */
function answer(stream: http2.ServerHttp2Stream): void {
  const require = createRequire(import.meta.url);
  const def = protoLoader.loadSync(join(dirname(require.resolve('etcd3/package.json')), 'proto', 'rpc.proto'), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const m = (def['etcdserverpb.KV'] as protoLoader.ServiceDefinition).Range;
  const body = m.responseSerialize({ header: { revision: '7' }, kvs: [], more: false, count: '0' });
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  stream.on('data', () => undefined);
  stream.on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(frame);
  });
}
