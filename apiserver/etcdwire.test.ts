/**
 * The bare HTTP/2 etcd transport against local HTTP/2 servers that misbehave the ways a real etcd can:
 * a gRPC error in a trailers-only reply, and a connection that never answers. (The happy path and an
 * etcd outage run against a real etcd in test/apiserver.test.ts.)
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EtcdCallError, EtcdWire } from './etcdwire.js';

const servers: http2.Http2Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(onStream: (stream: http2.ServerHttp2Stream) => void): Promise<{ endpoint: string; sessions: () => number }> {
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
});
