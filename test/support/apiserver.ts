/** An in-process apiserver on a test etcd, on free loopback ports, with a connected client. */
import { ApiClient } from '../../client/api.js';
import { nullLogger, createLogger } from '../../client/log.js';
import { compileApiserverConfig, type ApiserverOptions } from '../../apiserver/config.js';
import { startApiserver, type RunningApiserver } from '../../apiserver/server.js';
import { freePort, startEtcd, type TestEtcd } from './etcd.js';

export interface TestControlPlane {
  readonly etcd: TestEtcd;
  readonly apiserver: RunningApiserver;
  readonly client: ApiClient;
  readonly address: string;
  /** Stops the apiserver and starts a new one on the same ports and etcd. */
  restartApiserver(): Promise<void>;
  stop(): Promise<void>;
}

export async function startControlPlane(opts: ApiserverOptions & { etcd?: TestEtcd } = {}): Promise<TestControlPlane> {
  const etcd = opts.etcd ?? (await startEtcd());
  const grpcPort = opts.grpcPort ?? (await freePort());
  const httpPort = opts.httpPort ?? (await freePort());
  const cfg = compileApiserverConfig({
    etcdServers: etcd.endpoint,
    bindAddress: '127.0.0.1',
    adminPort: 0,
    serviceClusterIpRange: '10.96.0.0/16',
    ...opts,
    grpcPort,
    httpPort,
  });
  const log = process.env.KUBELAB_TEST_LOG ? createLogger('apiserver', { pretty: false }) : nullLogger();
  let apiserver = await startApiserver(cfg, log);
  const address = `127.0.0.1:${grpcPort}`;
  const client = new ApiClient(address);
  const plane = {
    etcd,
    get apiserver() {
      return apiserver;
    },
    client,
    address,
    restartApiserver: async () => {
      await apiserver.stop();
      apiserver = await startApiserver(cfg, log);
    },
    stop: async () => {
      client.close();
      await apiserver.stop();
      if (!opts.etcd) await etcd.stop();
    },
  };
  return plane;
}
