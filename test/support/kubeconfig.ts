/**
 * A kubeconfig for a test control plane: server `http://127.0.0.1:<httpPort>`, no auth, one context
 * named `kubelab`. Written to a fresh temp dir; `cleanup()` removes it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestKubeconfig {
  /** Path to the kubeconfig file (pass as KUBECONFIG or --kubeconfig). */
  readonly path: string;
  /** Directory holding it; also usable as kubectl's cache dir so tests don't share ~/.kube/cache. */
  readonly dir: string;
  cleanup(): void;
}

export function kubeconfigYaml(httpPort: number, opts: { namespace?: string; host?: string } = {}): string {
  const host = opts.host ?? '127.0.0.1';
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: kubelab',
    '  cluster:',
    `    server: http://${host}:${httpPort}`,
    // @kubernetes/client-node ≥ 1.0 refuses an http:// server without it (kubectl ignores it for http).
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: kubelab',
    '  user: {}',
    'contexts:',
    '- name: kubelab',
    '  context:',
    '    cluster: kubelab',
    '    user: kubelab',
    `    namespace: ${opts.namespace ?? 'default'}`,
    'current-context: kubelab',
    '',
  ].join('\n');
}

export function writeKubeconfig(httpPort: number, opts: { namespace?: string } = {}): TestKubeconfig {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-kubeconfig-'));
  const path = join(dir, 'config');
  writeFileSync(path, kubeconfigYaml(httpPort, opts), { mode: 0o600 });
  return { path, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A kubeconfig for a TLS apiserver: the CA and the client certificate inline, as `kubelab lab up` writes it. */
export function secureKubeconfigYaml(restUrl: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }, opts: { namespace?: string } = {}): string {
  const b64 = (b: Buffer): string => b.toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: kubelab',
    '  cluster:',
    `    server: ${restUrl}`,
    `    certificate-authority-data: ${b64(tls.ca)}`,
    'users:',
    '- name: kubelab',
    '  user:',
    ...(tls.cert && tls.key ? [`    client-certificate-data: ${b64(tls.cert)}`, `    client-key-data: ${b64(tls.key)}`] : []),
    'contexts:',
    '- name: kubelab',
    '  context:',
    '    cluster: kubelab',
    '    user: kubelab',
    `    namespace: ${opts.namespace ?? 'default'}`,
    'current-context: kubelab',
    '',
  ].join('\n');
}

/** Writes secureKubeconfigYaml to a temp dir (0600). */
export function writeSecureKubeconfig(restUrl: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }, opts: { namespace?: string } = {}): TestKubeconfig {
  const dir = mkdtempSync(join(tmpdir(), 'kubelab-kubeconfig-'));
  const path = join(dir, 'config');
  writeFileSync(path, secureKubeconfigYaml(restUrl, tls, opts), { mode: 0o600 });
  return { path, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
