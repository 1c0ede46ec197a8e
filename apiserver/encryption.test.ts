import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENCRYPTION_CONFIG_FILE, ensurePki } from '../client/pki/pki.js';
import { parseEncryptionConfig } from './encryption.js';

const key = randomBytes(32).toString('base64');
const config = (providers: string): string => `kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n  - resources: [secrets]\n    providers:\n${providers}`;
const aes = (name: string, secret = key) => `      - aesgcm:\n          keys:\n            - name: ${name}\n              secret: ${secret}\n`;

describe('EncryptionConfiguration', () => {
  it('encrypts with the first provider, reads by prefix, binds the value to its key', () => {
    const t = parseEncryptionConfig(config(aes('k1') + '      - identity: {}\n')).get('secrets');
    if (!t) throw new Error('no transformer');
    const stored = t.toStorage('/registry/secrets/ns/a', Buffer.from('{"kind":"Secret"}'));
    expect(stored.toString('latin1').startsWith('k8s:enc:aesgcm:v1:k1:')).toBe(true);
    expect(t.fromStorage('/registry/secrets/ns/a', stored).toString()).toBe('{"kind":"Secret"}');
    // Another key's value does not decrypt here (the etcd key is authenticated data).
    expect(() => t.fromStorage('/registry/secrets/ns/b', stored)).toThrow();
    // Plain JSON from before encryption reads through identity.
    expect(t.fromStorage('/registry/secrets/ns/a', Buffer.from('{"a":1}')).toString()).toBe('{"a":1}');
  });

  it('reads values of a second (old) key and refuses plaintext without identity', () => {
    const old = parseEncryptionConfig(config(aes('old'))).get('secrets');
    const rotated = parseEncryptionConfig(config(`      - aesgcm:\n          keys:\n            - name: new\n              secret: ${randomBytes(32).toString('base64')}\n            - name: old\n              secret: ${key}\n`)).get('secrets');
    if (!old || !rotated) throw new Error('no transformer');
    const v = old.toStorage('/k', Buffer.from('x'));
    expect(rotated.fromStorage('/k', v).toString()).toBe('x');
    expect(rotated.toStorage('/k', Buffer.from('x')).toString('latin1').startsWith('k8s:enc:aesgcm:v1:new:')).toBe(true);
    expect(() => old.fromStorage('/k', Buffer.from('{"plain":true}'))).toThrow(/no matching prefix/);
  });

  it('names the field of a bad configuration', () => {
    expect(() => parseEncryptionConfig('kind: Other')).toThrow(/^kind: must be "EncryptionConfiguration"/);
    expect(() => parseEncryptionConfig(config(aes('k1', randomBytes(7).toString('base64'))))).toThrow('resources[0].providers[0].aesgcm.keys[0].secret: must be 16, 24 or 32 bytes of base64, got 7 bytes');
    expect(() => parseEncryptionConfig(config('      - kms: {}\n'))).toThrow('resources[0].providers[0]: provider type "kms" is not supported (aesgcm, identity)');
    expect(() => parseEncryptionConfig(config(aes('a:b')))).toThrow(/keys\[0\]\.name/);
  });

  it("the lab's PKI brings a config of its own: a random 256-bit key, made once, that reads Secrets written before it", async () => {
    const dirs = await Promise.all([mkdtemp(join(tmpdir(), 'kubelab-enc-')), mkdtemp(join(tmpdir(), 'kubelab-enc-'))]);
    try {
      const plan = { certs: [], encryptionConfig: true };
      for (const d of dirs) await ensurePki(d, plan);
      const [a, b] = await Promise.all(dirs.map((d) => readFile(join(d, ENCRYPTION_CONFIG_FILE), 'utf8')));
      expect(a).not.toBe(b);
      expect((await stat(join(dirs[0], ENCRYPTION_CONFIG_FILE))).mode & 0o777).toBe(0o600);
      const t = parseEncryptionConfig(a).get('secrets');
      if (!t) throw new Error('no transformer for secrets');
      expect(t.toStorage('/registry/secrets/ns/s', Buffer.from('{}')).toString('latin1')).toMatch(/^k8s:enc:aesgcm:v1:key1:/);
      expect(t.fromStorage('/registry/secrets/ns/s', Buffer.from('{"plain":1}')).toString()).toBe('{"plain":1}');
      // A second run (lab up again, certificates renewed) keeps the key: Secrets written with it still read.
      await ensurePki(dirs[0], plan);
      expect(await readFile(join(dirs[0], ENCRYPTION_CONFIG_FILE), 'utf8')).toBe(a);
    } finally {
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    }
  });
});
