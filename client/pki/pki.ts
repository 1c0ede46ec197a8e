/**
 * The cluster PKI: one CA and the certificates every component needs, as kubeadm lays them out, made
 * with @peculiar/x509 on WebCrypto (ECDSA P-256). `ensurePki` creates what is missing, renews what is
 * near expiry or no longer matches its spec (a lab address changed), and keeps the rest, so a lab's
 * certificates survive restarts. Where each file goes and what it names: `labPkiPlan` and docs/security.md.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { X509Certificate as NodeCert, generateKeyPairSync, webcrypto } from 'node:crypto';
import { dirname, join } from 'node:path';
import { isIP } from 'node:net';

/** A certificate the plan wants: its subject, and what it may be used for. */
export interface CertSpec {
  /** Path of `<file>.crt` / `<file>.key` relative to the PKI directory, e.g. `apiserver`, `nodes/worker-1/kubelet`. */
  file: string;
  /** Subject CN: the user name for a client certificate. */
  commonName: string;
  /** Subject O entries: the groups of a client certificate. */
  organizations?: string[];
  /** Serving names (DNS names and IP addresses, mixed); a certificate with any is a server certificate. */
  hosts?: string[];
  /** Usable as a TLS client certificate (clientAuth). */
  client?: boolean;
}

export interface PkiPlan {
  certs: CertSpec[];
  /**
   * Also keep `sa.key`, the RSA key that signs ServiceAccount tokens (kubeadm's sa.key): made once and
   * never renewed, so tokens stay valid across apiserver restarts.
   */
  serviceAccountKey?: boolean;
  /**
   * Also keep `encryption-config.yaml`, the EncryptionConfiguration that encrypts Secrets at rest with a
   * random AES-256-GCM key (kube-apiserver --encryption-provider-config): made once, never replaced, since
   * Secrets written with its key need it to be read.
   */
  encryptionConfig?: boolean;
}

/** kubeadm's name of the ServiceAccount signing key (`<dir>/sa.key`, PKCS#8 PEM). */
export const SERVICE_ACCOUNT_KEY_FILE = 'sa.key';
/** The lab's EncryptionConfiguration (Secrets at rest), beside the PKI. */
export const ENCRYPTION_CONFIG_FILE = 'encryption-config.yaml';

export interface EnsurePkiOptions {
  /** Lifetime of the CA (default 10 years, kubeadm's). */
  caValidityMs?: number;
  /** Lifetime of every other certificate (default 1 year, kubeadm's). */
  certValidityMs?: number;
  /** A certificate that expires within this window is renewed (default 30 days, as `kubeadm certs check-expiration` warns). */
  renewBeforeMs?: number;
  /** The clock (tests). */
  now?: () => Date;
}

export interface EnsurePkiResult {
  created: string[];
  renewed: string[];
  kept: string[];
}

/** Thrown when the PKI directory holds something that cannot be used; the message says what to do. */
export class PkiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PkiError';
  }
}

const DAY_MS = 86_400_000;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
export const CA_FILE = 'ca';

type X509 = typeof import('@peculiar/x509');
let x509Module: Promise<X509> | undefined;

/** @peculiar/x509 needs a Reflect metadata polyfill loaded before it (see reflect-shim.ts). */
function loadX509(): Promise<X509> {
  x509Module ??= import('./reflect-shim.js').then(async () => {
    const x = await import('@peculiar/x509');
    x.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x.cryptoProvider.set>[0]);
    return x;
  });
  return x509Module;
}

/** The names every kube-apiserver serving certificate carries besides the lab's own (kubeadm's list). */
export const APISERVER_NAMES = ['localhost', '127.0.0.1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];

export interface LabPkiInput {
  /** Extra serving names of the apiserver: its container name, lab address, the `kubernetes` Service IP. */
  apiserverHosts: string[];
  /** Serving names of etcd: its container name and lab address. */
  etcdHosts: string[];
  /** Every node, with the names its kubelet serves 10250 on. */
  nodes: { name: string; hosts: string[] }[];
}

/** The client identity of the apiserver toward kubelets (kubeadm: apiserver-kubelet-client). */
export const APISERVER_KUBELET_CLIENT = 'kube-apiserver-kubelet-client';

/** Every certificate of a lab, named as Kubernetes names its components' users. */
export function labPkiPlan(input: LabPkiInput): PkiPlan {
  const certs: CertSpec[] = [
    { file: 'apiserver', commonName: 'kube-apiserver', hosts: unique([...APISERVER_NAMES, ...input.apiserverHosts]) },
    { file: 'apiserver-etcd-client', commonName: 'kube-apiserver-etcd-client', client: true },
    { file: 'apiserver-kubelet-client', commonName: APISERVER_KUBELET_CLIENT, organizations: ['kubeadm:cluster-admins'], client: true },
    // clientAuth too, as kubeadm's etcd/server: etcd's own gRPC gateway dials etcd with it.
    { file: 'etcd-server', commonName: 'etcd', hosts: unique(['localhost', '127.0.0.1', ...input.etcdHosts]), client: true },
    { file: 'scheduler', commonName: 'system:kube-scheduler', client: true },
    { file: 'controller-manager', commonName: 'system:kube-controller-manager', client: true },
    { file: 'kube-proxy', commonName: 'system:kube-proxy', client: true },
    { file: 'dns', commonName: 'system:kube-dns', client: true },
    // The ingress controller reads Ingresses, Services and EndpointSlices and writes Ingress status.
    { file: 'ingress', commonName: 'system:kubelab-ingress', client: true },
    // The dashboard reads what it shows (ClusterRole system:kubelab:dashboard: read-only).
    { file: 'dashboard', commonName: 'system:kubelab-dashboard', client: true },
    { file: 'admin', commonName: 'kubernetes-admin', organizations: ['system:masters'], client: true },
  ];
  for (const n of input.nodes) certs.push(...nodeCerts(n.name, n.hosts));
  return { certs, serviceAccountKey: true, encryptionConfig: true };
}

/** A node's kubelet client certificate (system:node:<name> in system:nodes) and its 10250 serving certificate. */
export function nodeCerts(name: string, hosts: string[]): CertSpec[] {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) throw new PkiError(`node name "${name}" is not a DNS-1123 subdomain; certificates are issued per node name`);
  return [
    { file: `nodes/${name}/kubelet`, commonName: `system:node:${name}`, organizations: ['system:nodes'], client: true },
    { file: `nodes/${name}/kubelet-server`, commonName: `system:node:${name}`, hosts: unique(['localhost', '127.0.0.1', name, ...hosts]) },
  ];
}

function unique(xs: string[]): string[] {
  return [...new Set(xs.filter(Boolean))];
}

interface KeyPair {
  cert: NodeCert;
  certPem: string;
  keyPem: string;
}

async function readPair(dir: string, file: string): Promise<KeyPair | undefined> {
  let certPem: string;
  let keyPem: string;
  try {
    [certPem, keyPem] = await Promise.all([readFile(join(dir, `${file}.crt`), 'utf8'), readFile(join(dir, `${file}.key`), 'utf8')]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return { cert: new NodeCert(certPem), certPem, keyPem };
  } catch (err) {
    // A damaged file is replaced, not fatal: the PKI is the lab's own and can be reissued.
    void err;
    return undefined;
  }
}

/** Writes key then certificate, each through a rename, so a reader never sees half a file. */
async function writePair(dir: string, file: string, certPem: string, keyPem: string): Promise<void> {
  const base = join(dir, file);
  await mkdir(dirname(base), { recursive: true });
  await writeFile(`${base}.key.tmp`, keyPem, { mode: 0o600 });
  await rename(`${base}.key.tmp`, `${base}.key`);
  await writeFile(`${base}.crt.tmp`, certPem, { mode: 0o644 });
  await rename(`${base}.crt.tmp`, `${base}.crt`);
}

/** The names a certificate was issued for, as the plan writes them. */
function certHosts(cert: NodeCert): string[] {
  const san = cert.subjectAltName ?? '';
  return san
    .split(', ')
    .filter(Boolean)
    .map((s) => s.replace(/^DNS:/, '').replace(/^IP Address:/, ''))
    .sort();
}

function subjectOf(spec: CertSpec): string {
  return [`CN=${spec.commonName}`, ...(spec.organizations ?? []).map((o) => `O=${o}`)].join('\n');
}

/** Whether an existing certificate still serves its spec for at least `renewBeforeMs`. */
function stillGood(pair: KeyPair, spec: CertSpec, ca: NodeCert, now: Date, renewBeforeMs: number): boolean {
  if (new Date(pair.cert.validTo).getTime() - now.getTime() < renewBeforeMs) return false;
  if (!pair.cert.checkIssued(ca) || !pair.cert.verify(ca.publicKey)) return false;
  if (pair.cert.subject !== subjectOf(spec)) return false;
  return certHosts(pair.cert).join(',') === unique(spec.hosts ?? []).sort().join(',');
}

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function keyPem(x: X509, key: webcrypto.CryptoKey): Promise<string> {
  return x.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/**
 * Makes `dir` hold a CA and every certificate of `plan`, each valid for at least `renewBeforeMs` more.
 * A CA near expiry (or missing its key) is replaced, and with it every certificate.
 */
export async function ensurePki(dir: string, plan: PkiPlan, opts: EnsurePkiOptions = {}): Promise<EnsurePkiResult> {
  const now = (opts.now ?? (() => new Date()))();
  const renewBeforeMs = opts.renewBeforeMs ?? 30 * DAY_MS;
  const certValidityMs = opts.certValidityMs ?? 365 * DAY_MS;
  const caValidityMs = opts.caValidityMs ?? 3650 * DAY_MS;
  if (certValidityMs <= renewBeforeMs) throw new PkiError(`certValidityMs (${certValidityMs}) must be longer than renewBeforeMs (${renewBeforeMs}), or every run would renew`);
  const result: EnsurePkiResult = { created: [], renewed: [], kept: [] };
  const x = await loadX509();
  let ca = await readPair(dir, CA_FILE);
  let caKey: webcrypto.CryptoKey | undefined;
  const caOk = ca && new Date(ca.cert.validTo).getTime() - now.getTime() >= renewBeforeMs && ca.cert.ca;
  if (ca && caOk) {
    try {
      caKey = await webcrypto.subtle.importKey('pkcs8', x.PemConverter.decodeFirst(ca.keyPem), ALG, false, ['sign']);
    } catch {
      caKey = undefined;
    }
  }
  if (!ca || !caOk || !caKey) {
    const keys = await newKeys();
    const cert = await x.X509CertificateGenerator.createSelfSigned({
      name: [{ CN: ['kubelab-ca'] }],
      keys,
      signingAlgorithm: ALG,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + caValidityMs),
      extensions: [
        new x.BasicConstraintsExtension(true, undefined, true),
        new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign | x.KeyUsageFlags.cRLSign | x.KeyUsageFlags.digitalSignature, true),
        await x.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const certPem = cert.toString('pem');
    await writePair(dir, CA_FILE, certPem, await keyPem(x, keys.privateKey));
    (ca ? result.renewed : result.created).push(CA_FILE);
    ca = { cert: new NodeCert(certPem), certPem, keyPem: '' };
    caKey = keys.privateKey;
  } else {
    result.kept.push(CA_FILE);
  }
  const caX = new x.X509Certificate(ca.certPem);
  for (const spec of plan.certs) {
    const existing = await readPair(dir, spec.file);
    if (existing && stillGood(existing, spec, ca.cert, now, renewBeforeMs)) {
      result.kept.push(spec.file);
      continue;
    }
    const keys = await newKeys();
    const hosts = unique(spec.hosts ?? []);
    const usages = [...(spec.client ? [x.ExtendedKeyUsage.clientAuth] : []), ...(hosts.length ? [x.ExtendedKeyUsage.serverAuth] : [])];
    const extensions: import('@peculiar/x509').Extension[] = [
      new x.BasicConstraintsExtension(false, undefined, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature | x.KeyUsageFlags.keyEncipherment, true),
      new x.ExtendedKeyUsageExtension(usages, false),
      await x.AuthorityKeyIdentifierExtension.create(caX, false),
    ];
    if (hosts.length) extensions.push(new x.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: isIP(h) ? ('ip' as const) : ('dns' as const), value: h }))));
    const cert = await x.X509CertificateGenerator.create({
      subject: [{ CN: [spec.commonName] }, ...(spec.organizations ?? []).map((o) => ({ O: [o] }))],
      issuer: caX.subject,
      publicKey: keys.publicKey,
      signingKey: caKey,
      signingAlgorithm: ALG,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + certValidityMs),
      extensions,
    });
    await writePair(dir, spec.file, cert.toString('pem'), await keyPem(x, keys.privateKey));
    (existing ? result.renewed : result.created).push(spec.file);
  }
  if (plan.serviceAccountKey) await ensureServiceAccountKey(dir);
  if (plan.encryptionConfig) await ensureEncryptionConfig(dir);
  return result;
}

/**
 * An EncryptionConfiguration for Secrets: AES-GCM with `secret` (base64) as key `key1`, then `identity`, so
 * Secrets stored before encryption was on still read (Kubernetes' documented way to turn it on).
 */
export function encryptionConfigYaml(secret: string): string {
  return [
    'apiVersion: apiserver.config.k8s.io/v1',
    'kind: EncryptionConfiguration',
    'resources:',
    '  - resources: [secrets]',
    '    providers:',
    '      - aesgcm:',
    '          keys:',
    '            - name: key1',
    `              secret: ${secret}`,
    '      - identity: {}',
    '',
  ].join('\n');
}

/** Writes `dir/name` (mode 0600, atomically) with what `make` returns, unless the file exists: made once, kept. */
async function writeOnce(dir: string, name: string, make: () => string): Promise<void> {
  const file = join(dir, name);
  try {
    await readFile(file);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dir, { recursive: true });
  await writeFile(`${file}.tmp`, make(), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

/** The lab's EncryptionConfiguration with a fresh random 256-bit key; never replaced (the Secrets need its key). */
function ensureEncryptionConfig(dir: string): Promise<void> {
  return writeOnce(dir, ENCRYPTION_CONFIG_FILE, () => {
    const key = Buffer.from(webcrypto.getRandomValues(new Uint8Array(32))).toString('base64');
    return [
      "# Secrets at rest (kube-apiserver --encryption-provider-config). The key is this lab's only copy:",
      '# without it the Secrets in etcd cannot be read. Rotate by adding a new key first (docs/security.md).',
      encryptionConfigYaml(key),
    ].join('\n');
  });
}

/** Writes `sa.key` (RSA 2048, PKCS#8: ServiceAccount tokens are RS256 as Kubernetes') unless it exists. */
function ensureServiceAccountKey(dir: string): Promise<void> {
  return writeOnce(dir, SERVICE_ACCOUNT_KEY_FILE, () =>
    generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey,
  );
}
