/**
 * Proxies pod log and exec requests to the kubelet of the pod's node (its address and port come from
 * the Node's status.addresses and status.daemonEndpoints.kubeletEndpoint).
 */
import type * as grpc from '@grpc/grpc-js';
import { ApiError } from '../client/errors.js';
import type { Registry } from './registry.js';

export interface LogRequest {
  namespace: string;
  name: string;
  container: string;
  follow: boolean;
  previous: boolean;
  tailLines: number;
  timestamps: boolean;
  sinceSeconds: number;
}

export class KubeletProxy {
  constructor(private readonly registry: Registry) {}

  async logs(req: LogRequest, out: grpc.ServerWritableStream<unknown, { data: Buffer }>): Promise<void> {
    void req;
    void out;
    void this.registry;
    throw new ApiError('ServiceUnavailable', 'pod logs are not served yet');
  }

  async execGrpc(call: grpc.ServerDuplexStream<Record<string, unknown>, Record<string, unknown>>): Promise<void> {
    void call;
    throw new ApiError('ServiceUnavailable', 'exec is not served yet');
  }
}
