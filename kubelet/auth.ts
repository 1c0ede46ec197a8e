/**
 * Who may call the kubelet's 10250 server. Kubernetes' kubelet authenticates client certificates of the
 * cluster CA and asks the apiserver (SubjectAccessReview) whether the user may `get nodes/proxy` (or
 * `nodes/stats` for /stats). kubelab's kubelet decides locally with the rules those reviews give for the
 * lab's own users: the apiserver's kubelet client (kubeadm's apiserver-kubelet-client, a cluster admin)
 * may do everything, the controller-manager (kubelab's metrics-server) may read /stats, nobody else.
 */
import type { PeerCertificate } from 'node:tls';

/** The apiserver's client identity toward kubelets (CN of kubeadm's apiserver-kubelet-client certificate). */
export const APISERVER_KUBELET_CLIENT = 'kube-apiserver-kubelet-client';
/** The controller-manager scrapes /stats/summary (the metrics-server role in kubelab). */
export const STATS_READERS: readonly string[] = ['system:kube-controller-manager'];

export type KubeletAuthz = { allowed: true; user: string } | { allowed: false; code: 401 | 403; message: string };

/**
 * The decision for one request. `authorized` is the TLS layer's verdict on the peer's chain (signed by
 * the cluster CA); `peer` its certificate (empty object when none was sent).
 */
export function authorizeKubeletRequest(authorized: boolean, peer: PeerCertificate | undefined, method: string, path: string): KubeletAuthz {
  const cn = peer?.subject?.CN;
  const user = Array.isArray(cn) ? String(cn[0]) : cn;
  if (!authorized || !user) return { allowed: false, code: 401, message: 'Unauthorized' };
  if (user === APISERVER_KUBELET_CLIENT) return { allowed: true, user };
  const subresource = path.startsWith('/stats/') || path === '/stats' ? 'stats' : 'proxy';
  if (subresource === 'stats' && method === 'GET' && STATS_READERS.includes(user)) return { allowed: true, user };
  // The kubelet's own wording (server.go's authorization failure).
  return { allowed: false, code: 403, message: `Forbidden (user=${user}, verb=${method === 'GET' ? 'get' : 'create'}, resource=nodes, subresource(s)=[${subresource}])` };
}
