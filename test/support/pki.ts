/**
 * One cluster PKI per test process (a temp dir, removed at exit): the CA and the certificates of every
 * lab identity, plus any node a test asks for. Tests take TLS material from it by identity file name
 * (`admin`, `scheduler`, `nodes/<node>/kubelet`, …; see client/pki/pki.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki, labPkiPlan, nodeCerts } from '../../client/pki/pki.js';
import { clientTlsFromPkiDir, serverTlsFromPkiDir, type ClientTls, type ServerTls } from '../../component-base/tls.js';

export interface TestPki {
  readonly dir: string;
  /** CA + the client certificate of `file` (e.g. `admin`). */
  client(file: string): ClientTls;
  /** Serving certificate of `file` (e.g. `apiserver`) accepting client certificates of the CA. */
  server(file: string): ServerTls;
  /** Issues (once) the kubelet client and serving certificates of a node served on 127.0.0.1. */
  node(name: string): Promise<void>;
}

let shared: Promise<TestPki> | undefined;

export function testPki(): Promise<TestPki> {
  shared ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubelab-test-pki-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await ensurePki(dir, labPkiPlan({ apiserverHosts: [], etcdHosts: [], nodes: [] }));
    const nodes = new Map<string, Promise<unknown>>();
    return {
      dir,
      client: (file) => clientTlsFromPkiDir(dir, file),
      server: (file) => serverTlsFromPkiDir(dir, file),
      node: async (name) => {
        let p = nodes.get(name);
        if (!p) {
          p = ensurePki(dir, { certs: nodeCerts(name, ['127.0.0.1']) });
          nodes.set(name, p);
        }
        await p;
      },
    };
  })();
  return shared;
}
