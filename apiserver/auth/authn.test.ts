import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import { ensurePki, labPkiPlan } from '../../client/pki/pki.js';
import { AuthenticatorChain, isPublicInfoPath, x509Authenticator } from './authn.js';

let dir: string;
let other: string;
const der = (d: string, f: string): Buffer => new X509Certificate(readFileSync(join(d, `${f}.crt`))).raw;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubelab-authn-'));
  other = mkdtempSync(join(tmpdir(), 'kubelab-authn-other-'));
  const plan = labPkiPlan({ apiserverHosts: [], etcdHosts: [], nodes: [{ name: 'worker-1', hosts: [] }] });
  await Promise.all([ensurePki(dir, plan), ensurePki(other, { certs: plan.certs.filter((c) => c.file === 'admin') })]);
}, 60_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(other, { recursive: true, force: true });
});

describe('the authenticator chain with client certificates', () => {
  const chain = (): AuthenticatorChain => new AuthenticatorChain([x509Authenticator(readFileSync(join(dir, 'ca.crt')))]);

  it('names the user by CN and the groups by O, adding system:authenticated', async () => {
    expect(await chain().authenticate({ peerCertificate: der(dir, 'admin') })).toEqual({ name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] });
    expect(await chain().authenticate({ peerCertificate: der(dir, 'nodes/worker-1/kubelet') })).toEqual({ name: 'system:node:worker-1', groups: ['system:nodes', 'system:authenticated'] });
  });

  it('no credentials is system:anonymous; with anonymous off it is a 401', async () => {
    expect(await chain().authenticate({})).toEqual({ name: 'system:anonymous', groups: ['system:unauthenticated'] });
    await expect(new AuthenticatorChain([], { anonymous: false }).authenticate({})).rejects.toMatchObject({ reason: 'Unauthorized', code: 401 });
  });

  it('refuses with 401 (never anonymous) a certificate of another CA, a serving-only certificate and garbage', async () => {
    const reasons: string[] = [];
    const c = new AuthenticatorChain([x509Authenticator(readFileSync(join(dir, 'ca.crt')))], { onRefused: (r) => reasons.push(r) });
    for (const peerCertificate of [der(other, 'admin'), der(dir, 'apiserver'), Buffer.from('not a certificate'), Buffer.alloc(3000, 0x30)]) {
      const err = await c.authenticate({ peerCertificate }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(401);
    }
    expect(reasons[0]).toMatch(/unknown authority/);
    expect(reasons[1]).toMatch(/clientAuth/);
    expect(reasons[2]).toMatch(/does not parse/);
  });

  it('public-info paths are exactly those of system:public-info-viewer', () => {
    for (const p of ['/healthz', '/livez', '/readyz', '/version', '/version/', '/readyz/etcd']) expect(isPublicInfoPath(p), p).toBe(true);
    for (const p of ['/api', '/apis', '/openapi/v2', '/api/v1/secrets', '/healthzz']) expect(isPublicInfoPath(p), p).toBe(false);
  });
});
