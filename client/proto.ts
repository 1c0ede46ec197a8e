/** Loads proto/kubelab.proto once for both the server and the clients. */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function protoPath(): string {
  // Works from sources (client/) and from compiled code (dist/client/).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const p = resolve(dir, 'proto', 'kubelab.proto');
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new Error('proto/kubelab.proto not found next to the kubelab code');
}

let cached: grpc.ServiceClientConstructor | undefined;

/** The `kubelab.v1.Api` service constructor (its `.service` is the definition for servers). */
export function apiService(): grpc.ServiceClientConstructor {
  if (!cached) {
    const def = protoLoader.loadSync(protoPath(), { keepCase: false, longs: Number, defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { kubelab: { v1: { Api: grpc.ServiceClientConstructor } } };
    cached = pkg.kubelab.v1.Api;
  }
  return cached;
}

/** Max message size both ways: objects are capped well below this by validation. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * HTTP/2 receive window of a client's streams and connection (bytes a server may send before this client says it
 * read them). HTTP/2's default, 64 KiB, lets a watch stream carry one window per round trip through both event
 * loops: with a busy apiserver that was ~500 pod events a second, so a watch of every pod fell 10–60 s behind
 * the cluster while both ends sat partly idle (bench/scale.ts; the scheduler and the hollow kubelets saw bound
 * pods that late). 4 MiB per stream is what Go's HTTP/2 transport, and so client-go, uses.
 */
export const GRPC_FLOW_CONTROL_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * Channel/server options every kubelab gRPC endpoint shares. channelz (grpc-js's introspection registry)
 * is off: it tracks every call in counters and costs ~10 % of the CPU of a unary call, and nothing reads it.
 */
export const GRPC_BASE_OPTIONS = { 'grpc.enable_channelz': 0, 'grpc-node.flow_control_window': GRPC_FLOW_CONTROL_WINDOW_BYTES } as const;
