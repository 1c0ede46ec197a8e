/**
 * A one-node cluster in this process for client tests: an apiserver on a test etcd, one kubelet running
 * real Docker containers (pods labelled io.kubelab.cluster=<cluster>), a namespace and a kubeconfig for
 * the REST facade. `stop()` removes the pods' containers, the kubeconfig and etcd.
 */
import { join } from 'node:path';
import type { core } from '../../api/types.js';
import { nullLogger } from '../../component-base/log.js';
import { compileKubeletConfig, type KubeletOptions } from '../../kubelet/config.js';
import { startKubelet, type RunningKubelet } from '../../kubelet/start.js';
import { startControlPlane, type TestControlPlane } from './apiserver.js';
import { CLUSTER_LABEL, removeByLabel, requireImages } from './docker.js';
import { testKubeletOptions } from './kubelet.js';
import { writeKubeconfig, writeSecureKubeconfig, type TestKubeconfig } from './kubeconfig.js';
import { testPki } from './pki.js';
import { waitFor } from './wait.js';

export const BUSYBOX = 'kubelab/busybox:latest';

export interface NodeLab {
  readonly cp: TestControlPlane;
  readonly kc: TestKubeconfig;
  readonly kubelet: RunningKubelet;
  readonly namespace: string;
  readonly node: string;
  /** A pod bound to this lab's node in its namespace. */
  pod(name: string, spec: Partial<core.PodSpec> & { containers: core.Container[] }): core.Pod;
  /** Waits until the pod satisfies `pred`; returns it. */
  waitPod(name: string, what: string, pred: (p: core.Pod) => boolean, timeoutMs?: number): Promise<core.Pod>;
  stop(): Promise<void>;
}

/** A busybox container running `script` under sh. */
export const busybox = (name: string, script: string, extra: Partial<core.Container> = {}): core.Container => ({
  name,
  image: BUSYBOX,
  imagePullPolicy: 'Never',
  command: ['sh', '-c', script],
  ...extra,
});

/** Running with every container running. */
export const running = (p: core.Pod): boolean =>
  p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.state?.running !== undefined);

/**
 * `secure`: the apiserver as a lab runs it (TLS, client certificates, Node,RBAC, admission), the kubelet with its
 * own certificates (client `system:node:<node>`, serving 10250 verified by the apiserver), and a kubeconfig with
 * the CA and the admin's certificate — what real kubectl meets in a lab.
 */
export async function startNodeLab(o: { cluster: string; node: string; namespace: string; kubelet?: KubeletOptions; secure?: boolean }): Promise<NodeLab> {
  await requireImages(BUSYBOX, 'kubelab/pause:latest');
  const ctl = new AbortController();
  const cp = await startControlPlane(o.secure ? { secure: true } : {});
  const pki = o.secure ? await testPki() : undefined;
  if (pki) await pki.node(o.node);
  const kc = pki && cp.adminTls ? writeSecureKubeconfig(cp.restUrl, cp.adminTls, { namespace: o.namespace }) : writeKubeconfig(cp.apiserver.httpPort, { namespace: o.namespace });
  const kubeletTls: KubeletOptions = pki
    ? {
        tls: pki.client(`nodes/${o.node}/kubelet`),
        tlsCertFile: join(pki.dir, 'nodes', o.node, 'kubelet-server.crt'),
        tlsPrivateKeyFile: join(pki.dir, 'nodes', o.node, 'kubelet-server.key'),
        clientCaFile: join(pki.dir, 'ca.crt'),
      }
    : {};
  let kubelet: RunningKubelet | undefined;
  const stop = async (): Promise<void> => {
    ctl.abort();
    await kubelet?.stop();
    await removeByLabel(CLUSTER_LABEL, o.cluster);
    await cp.stop();
    kc.cleanup();
  };
  try {
    kubelet = await startKubelet(compileKubeletConfig(testKubeletOptions(cp.address, o.cluster, o.node, { ...kubeletTls, ...o.kubelet })), ctl.signal, { logger: nullLogger() });
    await cp.client.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace } });
  } catch (err) {
    await stop();
    throw err;
  }
  const started = kubelet;
  return {
    cp,
    kc,
    kubelet: started,
    namespace: o.namespace,
    node: o.node,
    pod: (name, spec) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: o.namespace },
      spec: { nodeName: o.node, terminationGracePeriodSeconds: 1, ...spec },
    }),
    waitPod: (name, what, pred, timeoutMs = 30_000) =>
      waitFor(
        async () => {
          const p = await cp.client.get('pods', name, { namespace: o.namespace });
          return pred(p) ? p : undefined;
        },
        { timeoutMs, what: `pod ${name} ${what}` },
      ),
    stop,
  };
}
