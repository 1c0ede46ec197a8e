/**
 * Secrets at rest: with an EncryptionConfiguration (aesgcm first, identity after) etcd holds ciphertext
 * with Kubernetes' `k8s:enc:aesgcm:v1:<key>:` prefix, the API still answers plaintext, and Secrets written
 * before encryption was turned on still read.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encryptionConfigYaml } from '../client/pki/pki.js';
import { startControlPlane } from './support/apiserver.js';
import { startEtcd, type TestEtcd } from './support/etcd.js';

let etcd: TestEtcd;
let dir: string;

beforeAll(async () => {
  etcd = await startEtcd();
  dir = mkdtempSync(join(tmpdir(), 'kubelab-encryption-'));
});
afterAll(async () => {
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const secret = (name: string, value: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, stringData: { password: value } });

it('stores Secrets as AES-GCM ciphertext and still reads the plaintext ones written before', async () => {
  const plain = await startControlPlane({ etcd });
  await plain.client.create('secrets', secret('before', 'old-plaintext-value'));
  await plain.stop();

  const config = join(dir, 'encryption.yaml');
  writeFileSync(config, encryptionConfigYaml(randomBytes(32).toString('base64')));
  const cp = await startControlPlane({ etcd, encryptionProviderConfig: config });
  const raw = new Etcd3({ hosts: etcd.endpoint });
  try {
    await cp.client.create('secrets', secret('after', 'new-secret-value'));
    const stored = await raw.get('/registry/secrets/default/after').buffer();
    expect(stored?.subarray(0, 'k8s:enc:aesgcm:v1:key1:'.length).toString()).toBe('k8s:enc:aesgcm:v1:key1:');
    expect(stored?.toString('latin1')).not.toContain(Buffer.from('new-secret-value').toString('base64'));
    expect(stored?.toString('latin1')).not.toContain('"kind":"Secret"');
    const read = (await cp.client.get('secrets', 'after', { namespace: 'default' })) as { data: Record<string, string> };
    expect(Buffer.from(read.data.password, 'base64').toString()).toBe('new-secret-value');
    // Written before encryption: still plaintext in etcd, still readable.
    const old = (await cp.client.get('secrets', 'before', { namespace: 'default' })) as { data: Record<string, string> };
    expect(Buffer.from(old.data.password, 'base64').toString()).toBe('old-plaintext-value');
    // A list and the watch cache decrypt too.
    const list = await cp.client.list('secrets', { namespace: 'default' });
    expect(list.items.map((s) => s.metadata?.name).sort()).toEqual(['after', 'before']);
    // Other resources are not encrypted.
    const ns = await raw.get('/registry/namespaces/default').string();
    expect(ns?.startsWith('{')).toBe(true);
    // An update re-encrypts the old plaintext Secret.
    await cp.client.update('secrets', { ...old, stringData: { password: 'rotated' } } as never);
    const rewritten = await raw.get('/registry/secrets/default/before').buffer();
    expect(rewritten?.subarray(0, 8).toString()).toBe('k8s:enc:');
  } finally {
    raw.close();
    await cp.stop();
  }
});
