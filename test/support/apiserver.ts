/**
 * An in-process apiserver on a test etcd, on free loopback ports, with a connected client. With
 * `secure: true` it serves TLS with client-certificate authentication from the test PKI (test/support/pki.ts)
 * and `client` is the admin (kubernetes-admin, system:masters); otherwise it is an --insecure apiserver
 * (plain, no authentication) — the throwaway mode for suites that test something else.
 */
import { join } from 'node:path';
import type { ClientTls } from '../../component-base/tls.js';
import { testPki } from './pki.js';
import { ApiClient } from '../../client/api.js';
import { nullLogger, createLogger } from '../../component-base/log.js';
import { compileApiserverConfig, type ApiserverOptions } from '../../apiserver/config.js';
import { startApiserver, type RunningApiserver } from '../../apiserver/server.js';
import { freePort, startEtcd, type TestEtcd } from './etcd.js';

export interface TestControlPlane {
  readonly etcd: TestEtcd;
  readonly apiserver: RunningApiserver;
  readonly client: ApiClient;
  readonly address: string;
  /** `https://127.0.0.1:<port>` (secure) or `http://…` (insecure): the REST API. */
  readonly restUrl: string;
  /** The admin's TLS material (secure planes only). */
  readonly adminTls?: ClientTls;
  /** Stops the apiserver and starts a new one on the same ports and etcd. */
  restartApiserver(): Promise<void>;
  stop(): Promise<void>;
}

export async function startControlPlane(opts: ApiserverOptions & { etcd?: TestEtcd; secure?: boolean } = {}): Promise<TestControlPlane> {
  const { secure, ...apiOpts } = opts;
  const pki = secure ? await testPki() : undefined;
  const tlsFiles: ApiserverOptions = pki
    ? {
        tlsCertFile: join(pki.dir, 'apiserver.crt'),
        tlsPrivateKeyFile: join(pki.dir, 'apiserver.key'),
        clientCaFile: join(pki.dir, 'ca.crt'),
        kubeletCertificateAuthority: join(pki.dir, 'ca.crt'),
        kubeletClientCertificate: join(pki.dir, 'apiserver-kubelet-client.crt'),
        kubeletClientKey: join(pki.dir, 'apiserver-kubelet-client.key'),
        serviceAccountKeyFile: join(pki.dir, 'sa.key'),
        rootCaFile: join(pki.dir, 'ca.crt'),
      }
    : { insecure: true };
  const etcd = opts.etcd ?? (await startEtcd());
  const grpcPort = opts.grpcPort ?? (await freePort());
  const httpPort = opts.httpPort ?? (await freePort());
  const cfg = compileApiserverConfig({
    etcdServers: etcd.endpoint,
    bindAddress: '127.0.0.1',
    adminPort: 0,
    serviceClusterIpRange: '10.96.0.0/16',
    ...tlsFiles,
    ...apiOpts,
    grpcPort,
    httpPort,
  });
  const log = process.env.KUBELAB_TEST_LOG ? createLogger('apiserver', { pretty: false }) : nullLogger();
  let apiserver = await startApiserver(cfg, log);
  const address = `127.0.0.1:${grpcPort}`;
  const adminTls = pki?.client('admin');
  const client = new ApiClient(address, { tls: adminTls });
  const plane = {
    etcd,
    restUrl: `${pki ? 'https' : 'http'}://127.0.0.1:${httpPort}`,
    adminTls,
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
