/**
 * How the CLI finds the cluster: `--server host:port`, else $KUBELAB_SERVER, else the lab's
 * `.kubelab/kubelab.json` (written by `kubelab lab up`) found from the current directory upward,
 * else 127.0.0.1:7443.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ApiClient } from '../client/api.js';
import { clientTlsFromPkiDir, loadClientTls, type ClientTls } from '../component-base/tls.js';

export interface LabInfo {
  /** gRPC address of the apiserver (host:port). */
  server: string;
  /** Kubernetes REST URL for kubectl. */
  restUrl?: string;
  cluster?: string;
  project?: string;
  network?: string;
  workers?: string[];
  kubeconfig?: string;
  /** The lab's PKI directory: the CLI talks to the apiserver as the admin (admin.crt) with its CA. */
  pkiDir?: string;
}

export function findLabInfo(start = process.cwd()): { path: string; info: LabInfo } | undefined {
  let dir = resolve(start);
  for (;;) {
    const p = join(dir, '.kubelab', 'kubelab.json');
    if (existsSync(p)) return { path: p, info: JSON.parse(readFileSync(p, 'utf8')) as LabInfo };
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

export function serverAddress(flag?: string): string {
  return flag ?? process.env.KUBELAB_SERVER ?? findLabInfo()?.info.server ?? '127.0.0.1:7443';
}

export interface GlobalOptions {
  server?: string;
  namespace?: string;
}

let client: ApiClient | undefined;

/**
 * The CLI's credentials: the files named by $KUBELAB_CERTIFICATE_AUTHORITY / $KUBELAB_CLIENT_CERTIFICATE /
 * $KUBELAB_CLIENT_KEY, else the lab's admin certificate (kubelab.json's pkiDir) when talking to that lab;
 * none (plain gRPC) for a server given by flag or env without them.
 */
export function cliTls(server: string): ClientTls | undefined {
  const fromEnv = loadClientTls({
    certificateAuthority: process.env.KUBELAB_CERTIFICATE_AUTHORITY,
    clientCertificate: process.env.KUBELAB_CLIENT_CERTIFICATE,
    clientKey: process.env.KUBELAB_CLIENT_KEY,
  });
  if (fromEnv) return fromEnv;
  const lab = findLabInfo();
  if (lab?.info.pkiDir && lab.info.server === server) {
    const dir = resolve(dirname(lab.path), lab.info.pkiDir);
    if (!existsSync(join(dir, 'admin.crt'))) throw new CliError(`the lab's admin certificate ${join(dir, 'admin.crt')} is missing: run \`kubelab lab up\` to issue it again`);
    return clientTlsFromPkiDir(dir, 'admin');
  }
  return undefined;
}

/** The CLI's one client (closed at exit by main). */
export function cliClient(opts: GlobalOptions): ApiClient {
  const server = serverAddress(opts.server);
  client ??= new ApiClient(server, { timeoutMs: Number(process.env.KUBELAB_CLI_TIMEOUT_MS ?? 15_000), retries: 0, tls: cliTls(server) });
  return client;
}

export function closeCliClient(): void {
  client?.close();
  client = undefined;
}

/** Thrown for user mistakes; main prints the message alone, with no stack. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}
