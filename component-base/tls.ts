/**
 * TLS material of a component: the cluster CA it trusts and the client certificate it presents, read
 * from PEM files named by kubectl's flag names (`--certificate-authority`, `--client-certificate`,
 * `--client-key`; env KUBELAB_CERTIFICATE_AUTHORITY, KUBELAB_CLIENT_CERTIFICATE, KUBELAB_CLIENT_KEY).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { stringFlag, type FlagsFor } from './flags.js';

/** What a client needs to talk mutual TLS: the CA that signed the server, and its own certificate. */
export interface ClientTls {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** What a server needs: its own certificate, and the CA whose client certificates it accepts. */
export interface ServerTls {
  cert: Buffer;
  key: Buffer;
  clientCa: Buffer;
}

export interface ClientTlsFiles {
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
}

/** Thrown for a TLS file that cannot be used; the message names the flag and the file. */
export class TlsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

/** Reads a PEM file named by `flag`; the error names both and says what was expected. */
export function readPem(flag: string, path: string, kind: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const text = data.toString('utf8');
  const ok = kind === 'CERTIFICATE' ? text.includes('-----BEGIN CERTIFICATE-----') : /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text);
  if (!ok) throw new TlsConfigError(`${flag}: ${path} holds no PEM ${kind.toLowerCase()} (expected a "-----BEGIN ${kind}-----" block)`);
  return data;
}

/**
 * The client TLS of a component, or undefined when no CA is given (plain, insecure gRPC — only for a
 * throwaway test control plane). A certificate needs its key and the other way round.
 */
export function loadClientTls(files: ClientTlsFiles): ClientTls | undefined {
  const { certificateAuthority: caFile, clientCertificate: certFile, clientKey: keyFile } = files;
  if (!caFile) {
    if (certFile || keyFile) throw new TlsConfigError('--client-certificate/--client-key need --certificate-authority (the CA that signed the apiserver)');
    return undefined;
  }
  if (Boolean(certFile) !== Boolean(keyFile)) throw new TlsConfigError('--client-certificate and --client-key go together: give both or neither');
  return {
    ca: readPem('--certificate-authority', caFile, 'CERTIFICATE'),
    ...(certFile && keyFile ? { cert: readPem('--client-certificate', certFile, 'CERTIFICATE'), key: readPem('--client-key', keyFile, 'PRIVATE KEY') } : {}),
  };
}

/** Adds the client TLS flags to a component's command (defaults from the environment). */
export function addClientTlsFlags(cmd: Command): Command {
  return cmd
    .option('--certificate-authority <file>', 'PEM CA that signed the apiserver (enables TLS)', process.env.KUBELAB_CERTIFICATE_AUTHORITY)
    .option('--client-certificate <file>', 'PEM client certificate presented to the apiserver', process.env.KUBELAB_CLIENT_CERTIFICATE)
    .option('--client-key <file>', 'PEM key of --client-certificate', process.env.KUBELAB_CLIENT_KEY);
}

/** The client TLS named by a parsed command's flags (see addClientTlsFlags). */
export function clientTlsFromFlags(o: Record<string, unknown>): ClientTls | undefined {
  return loadClientTls({
    certificateAuthority: o.certificateAuthority as string | undefined,
    clientCertificate: o.clientCertificate as string | undefined,
    clientKey: o.clientKey as string | undefined,
  });
}

/** The client TLS of identity `file` (e.g. `scheduler`, `nodes/worker-1/kubelet`) in a PKI directory laid out by ensurePki. */
export function clientTlsFromPkiDir(dir: string, file: string): ClientTls {
  return loadClientTls({ certificateAuthority: join(dir, 'ca.crt'), clientCertificate: join(dir, `${file}.crt`), clientKey: join(dir, `${file}.key`) }) as ClientTls;
}

/** The serving TLS of `file` in a PKI directory, accepting client certificates of the same CA. */
export function serverTlsFromPkiDir(dir: string, file: string): ServerTls {
  return {
    cert: readPem('--tls-cert-file', join(dir, `${file}.crt`), 'CERTIFICATE'),
    key: readPem('--tls-private-key-file', join(dir, `${file}.key`), 'PRIVATE KEY'),
    clientCa: readPem('--client-ca-file', join(dir, 'ca.crt'), 'CERTIFICATE'),
  };
}

/** The client TLS flags every component declares (kubectl's names); spread into a component's flag table. */
export interface ClientTlsOptions {
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
  /** A bearer token sent on every call (kubectl's --token): a static token of --token-auth-file or a ServiceAccount token. */
  token?: string;
}

export const CLIENT_TLS_FLAGS = {
  certificateAuthority: stringFlag('--certificate-authority <file>', 'PEM CA that signed the apiserver (enables TLS)', { env: 'KUBELAB_CERTIFICATE_AUTHORITY' }),
  clientCertificate: stringFlag('--client-certificate <file>', 'PEM client certificate presented to the apiserver', { env: 'KUBELAB_CLIENT_CERTIFICATE' }),
  clientKey: stringFlag('--client-key <file>', 'PEM key of --client-certificate', { env: 'KUBELAB_CLIENT_KEY' }),
  token: stringFlag('--token <token>', 'bearer token for the apiserver (a --token-auth-file entry or a ServiceAccount token)', { env: 'KUBELAB_TOKEN' }),
} satisfies FlagsFor<ClientTlsOptions>;
