/**
 * The floor of an apiserver on this stack, for bench/apiserver.ts: the same gRPC API (grpc-js) and the
 * same etcd client (etcd3), doing only what no apiserver can skip for a create — decode the request,
 * one create-if-absent txn on etcd, encode the reply — plus one etcd watch on the prefix whose events
 * are decoded into a map (a watch cache's minimum). No validation, defaulting, admission or fan-out.
 * Run by the benchmark in its own process: `node dist/bench/passthrough.js <etcd endpoint> <grpc port>`.
 */
import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { apiService, GRPC_BASE_OPTIONS } from '../client/proto.js';
import type { KObject } from '../api/types.js';

async function main(): Promise<void> {
  const [endpoint, port] = process.argv.slice(2);
  const etcd = new Etcd3({ hosts: endpoint, grpcOptions: { ...GRPC_BASE_OPTIONS } });
  const cache = new Map<string, KObject>();
  const watcher = await etcd.watch().prefix('/floor/').create();
  watcher.on('data', (res) => {
    for (const ev of res.events) cache.set(ev.kv.key.toString(), JSON.parse(ev.kv.value.toString()) as KObject);
  });
  const server = new grpc.Server();
  server.addService(apiService().service, {
    Create: (call: grpc.ServerUnaryCall<{ namespace: string; object: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const obj = JSON.parse(call.request.object) as KObject;
      obj.metadata = { ...obj.metadata, uid: randomUUID(), creationTimestamp: new Date().toISOString() };
      const key = `/floor/${call.request.namespace}/${obj.metadata.name}`;
      etcd
        .if(key, 'Create', '==', 0)
        .then(etcd.put(key).value(JSON.stringify(obj)))
        .commit()
        .then(
          (res) => {
            if (!res.succeeded) return cb({ code: grpc.status.ALREADY_EXISTS, details: 'exists' });
            obj.metadata = { ...obj.metadata, resourceVersion: res.header.revision };
            cb(null, { object: JSON.stringify(obj) });
          },
          (err: Error) => cb({ code: grpc.status.UNAVAILABLE, details: err.message }),
        );
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    server.forceShutdown();
    etcd.close();
    process.exit(0);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
