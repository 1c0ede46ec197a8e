/** Starts the apiserver: etcd storage, registry + watch caches, gRPC API, REST facade, admin port. */
import type { Server as HttpServer } from 'node:http';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { startAdminServer, newMetricsRegistry, type AdminServer } from '../component-base/admin.js';
import type { Authenticator } from './auth/authn.js';
import type { ApiserverConfig } from './config.js';
import { bindGrpc, createGrpcServer } from './grpc.js';
import { KubeletProxy } from './kubeletproxy.js';
import { ApiserverMetrics } from './metrics.js';
import { KubernetesServiceController } from './kubernetes-service.js';
import { Registry } from './registry.js';
import { createRestServer } from './rest/index.js';
import { Storage } from './storage.js';
import { loadEncryptionConfig } from './encryption.js';
import { AuditLog } from './audit.js';
import { Security } from './auth/index.js';
import { SecurityControllers, reconcileBootstrapPolicy } from './auth/controllers.js';

export interface RunningApiserver {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly adminPort: number;
  readonly registry: Registry;
  readonly storage: Storage;
  readonly security: Security;
  readonly securityControllers: SecurityControllers;
  stop(): Promise<void>;
}

export interface ApiserverDeps {
  /** Extra authenticators tried after client certificates and bearer tokens. */
  authenticators?: Authenticator[];
}

export async function startApiserver(cfg: ApiserverConfig, log: Logger, signal?: AbortSignal, deps: ApiserverDeps = {}): Promise<RunningApiserver> {
  // Events expire after --event-ttl, through an etcd lease on their keys (kube-apiserver's storage does the same).
  const ttls = new Map([['events', Math.round(cfg.eventTtlMs / 1000)]]);
  const storage = new Storage(cfg.etcdServers, cfg.etcdPrefix, log, cfg.encryptionProviderConfig ? loadEncryptionConfig(cfg.encryptionProviderConfig) : undefined, cfg.tls?.etcd, ttls);
  const registry = new Registry(
    storage,
    {
      serviceCidr: cfg.serviceCidr,
      nodePortRange: cfg.nodePortRange,
      defaultTolerationSeconds: cfg.defaultTolerationSeconds,
      watchWindowSize: cfg.watchWindowSize,
      bookmarkIntervalMs: cfg.bookmarkIntervalMs,
      maxMutatingInflight: cfg.maxMutatingInflight,
    },
    log,
  );
  // Where start-up time goes (the "apiserver serving" line carries it: `lab up` and startCluster wait on this).
  const t0 = performance.now();
  const startup: Record<string, number> = {};
  const mark = (phase: string): void => {
    startup[phase] = Math.round(performance.now() - t0 - Object.values(startup).reduce((a, b) => a + b, 0));
  };
  await waitForEtcd(storage, log, signal);
  mark('etcdMs');
  await registry.start();
  mark('cachesMs');
  const kubernetesService = new KubernetesServiceController(registry, { httpPort: cfg.httpPort, advertiseAddress: cfg.advertiseAddress, intervalMs: cfg.kubernetesServiceSyncMs }, log);
  await kubernetesService.start();
  mark('kubernetesServiceMs');
  const security = await Security.create(cfg.security, registry, log);
  // With TLS, client certificates of --client-ca-file authenticate first and no credentials is system:anonymous.
  if (cfg.tls) security.useClientCertificates(cfg.tls.clientCa, deps.authenticators ?? []);
  mark('securityMs');
  await reconcileBootstrapPolicy(registry, log);
  mark('bootstrapPolicyMs');
  const securityControllers = new SecurityControllers(registry, { serviceAccounts: cfg.security.admissionPlugins.includes('ServiceAccount'), rootCaFile: cfg.security.rootCaFile }, log);
  await securityControllers.start();
  const proxy = new KubeletProxy(registry, cfg.tls?.kubelet);
  const audit = cfg.audit ? AuditLog.open(cfg.audit.policyFile, cfg.audit.logPath, { maxSizeBytes: cfg.audit.maxSizeBytes, maxBackups: cfg.audit.maxBackups, onError: (err) => log.error({ err }, 'audit log write failed') }) : undefined;
  const grpcServer: grpc.Server = createGrpcServer(registry, proxy, log, security, audit);
  const grpcPort = await bindGrpc(grpcServer, `${cfg.bindAddress}:${cfg.grpcPort}`, cfg.tls);
  const http: HttpServer = createRestServer({ registry, proxy, log, security, tls: cfg.tls, ...(audit ? { audit } : {}) });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(cfg.httpPort, cfg.bindAddress, () => resolve());
  });
  const addr = http.address();
  const httpPort = typeof addr === 'object' && addr ? addr.port : cfg.httpPort;
  const metrics = newMetricsRegistry('apiserver');
  registry.metrics = new ApiserverMetrics(metrics, registry.flow, () => new Map([...registry.caches].map(([r, c]) => [r, c.items.size])));
  const admin: AdminServer = await startAdminServer({ port: cfg.adminPort, registry: metrics });
  const compaction = startCompaction(storage, cfg.compactionIntervalMs, log);
  mark('listenMs');
  log.info({ grpcPort, httpPort, adminPort: admin.port, etcd: cfg.etcdServers, startup }, 'apiserver serving');
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    clearInterval(compaction);
    kubernetesService.stop();
    securityControllers.stop();
    registry.stop();
    grpcServer.forceShutdown();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await admin.close();
    await audit?.close();
    storage.close();
  };
  signal?.addEventListener('abort', () => void stop(), { once: true });
  return { grpcPort, httpPort, adminPort: admin.port, registry, storage, security, securityControllers, stop };
}

/**
 * Until etcd answers, for at most 30 s: every 100 ms for the first 2 s (etcd and the apiserver start together and a
 * single-member etcd elects itself within ~0.3 s; a 500 ms step held every fresh start up to half a second), then
 * every 500 ms.
 */
async function waitForEtcd(storage: Storage, log: Logger, signal?: AbortSignal): Promise<void> {
  const t0 = Date.now();
  let logged = 0;
  for (;;) {
    try {
      await storage.currentRevision();
      return;
    } catch (err) {
      const waited = Date.now() - t0;
      if (signal?.aborted || waited >= 30_000) throw err;
      if (waited - logged >= 2_500) {
        logged = waited;
        log.info({ err: (err as Error).message }, 'waiting for etcd');
      }
      await new Promise((r) => setTimeout(r, waited < 2_000 ? 100 : 500));
    }
  }
}

/** Compacts etcd history older than one interval, as kube-apiserver does every 5 minutes. */
function startCompaction(storage: Storage, intervalMs: number, log: Logger): NodeJS.Timeout {
  let previous = 0;
  const t = setInterval(() => {
    storage
      .currentRevision()
      .then(async (rev) => {
        if (previous > 0) await storage.compact(previous);
        previous = rev;
      })
      .catch((err: unknown) => log.debug({ err: (err as Error).message }, 'compaction skipped'));
  }, intervalMs);
  t.unref();
  return t;
}
