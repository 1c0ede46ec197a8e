import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensurePki, labPkiPlan, nodeCerts, PkiError } from './pki.js';

const DAY = 86_400_000;
const plan = labPkiPlan({ apiserverHosts: ['10.213.0.3', 'kubelab-apiserver', '10.213.128.1'], etcdHosts: ['10.213.0.2'], nodes: [{ name: 'worker-1', hosts: ['10.213.0.21'] }] });
const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kubelab-pki-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
const cert = async (dir: string, file: string): Promise<X509Certificate> => new X509Certificate(await readFile(join(dir, `${file}.crt`)));

// Key generation is CPU work: generous limits for a busy 2-core machine.
describe('ensurePki', { timeout: 60_000 }, () => {
  it('issues every certificate of a lab from one CA, with Kubernetes user names and the serving names', async () => {
    const dir = await tmp();
    const res = await ensurePki(dir, plan);
    expect(res.created).toContain('ca');
    expect(res.created).toHaveLength(plan.certs.length + 1);
    const ca = await cert(dir, 'ca');
    for (const spec of plan.certs) {
      const c = await cert(dir, spec.file);
      expect(c.checkIssued(ca) && c.verify(ca.publicKey), spec.file).toBe(true);
    }
    expect((await cert(dir, 'admin')).subject).toBe('CN=kubernetes-admin\nO=system:masters');
    expect((await cert(dir, 'nodes/worker-1/kubelet')).subject).toBe('CN=system:node:worker-1\nO=system:nodes');
    const san = (await cert(dir, 'apiserver')).subjectAltName ?? '';
    for (const n of ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:10.213.0.3', 'IP Address:10.213.128.1', 'DNS:kubernetes.default.svc.cluster.local']) expect(san).toContain(n);
    expect((await cert(dir, 'nodes/worker-1/kubelet-server')).subjectAltName).toContain('IP Address:10.213.0.21');
    expect((await readFile(join(dir, 'admin.key'), 'utf8')).startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true);
  });

  it('keeps certificates across runs, renews those near expiry or whose names changed', async () => {
    const dir = await tmp();
    const t0 = Date.now();
    await ensurePki(dir, plan, { now: () => new Date(t0) });
    const before = (await cert(dir, 'admin')).fingerprint256;
    const again = await ensurePki(dir, plan, { now: () => new Date(t0) });
    expect(again.created).toEqual([]);
    expect(again.renewed).toEqual([]);
    expect((await cert(dir, 'admin')).fingerprint256).toBe(before);

    // 340 days later every 1-year certificate is within the 30-day window; the 10-year CA is kept.
    const later = await ensurePki(dir, plan, { now: () => new Date(t0 + 340 * DAY) });
    expect(later.kept).toEqual(['ca']);
    expect(later.renewed).toHaveLength(plan.certs.length);
    expect((await cert(dir, 'admin')).fingerprint256).not.toBe(before);

    const moved = labPkiPlan({ apiserverHosts: ['10.99.0.3'], etcdHosts: ['10.213.0.2'], nodes: [{ name: 'worker-1', hosts: ['10.213.0.21'] }] });
    const res = await ensurePki(dir, moved, { now: () => new Date(t0 + 340 * DAY) });
    expect(res.renewed).toEqual(['apiserver']);
  });

  it('replaces a damaged certificate file instead of failing', async () => {
    const dir = await tmp();
    await ensurePki(dir, plan);
    await writeFile(join(dir, 'scheduler.crt'), 'garbage');
    const res = await ensurePki(dir, plan);
    expect(res.renewed.concat(res.created)).toEqual(['scheduler']);
  });

  it('refuses a node name that cannot be a certificate subject', () => {
    expect(() => nodeCerts('Worker_1', [])).toThrow(PkiError);
    expect(() => nodeCerts('Worker_1', [])).toThrow(/DNS-1123/);
  });
});
