/**
 * Encryption at rest as kube-apiserver's --encryption-provider-config does it
 * (staging/src/k8s.io/apiserver/pkg/storage/value/encrypt/aes): an EncryptionConfiguration names, per
 * resource, an ordered list of providers. The first provider encrypts every write; on read the value's
 * prefix picks the provider — `k8s:enc:aesgcm:v1:<keyname>:` + 12-byte nonce + AES-GCM ciphertext and
 * tag, the etcd key as additional data (a value copied to another key does not decrypt), and `identity`
 * (plain JSON) matches any value without a known prefix, so data written before encryption still reads.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';

export class EncryptionConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncryptionConfigError';
  }
}

/** Turns a stored value into plaintext and back, for one key. */
export interface ValueTransformer {
  toStorage(key: string, plain: Buffer): Buffer;
  /** Throws when no provider can read the value. */
  fromStorage(key: string, stored: Buffer): Buffer;
}

interface Provider {
  /** '' for identity. */
  readonly prefix: string;
  encrypt(key: string, plain: Buffer): Buffer;
  decrypt(key: string, data: Buffer): Buffer;
}

const identity: Provider = { prefix: '', encrypt: (_k, p) => p, decrypt: (_k, d) => d };

function aesgcm(name: string, secret: Buffer): Provider {
  const prefix = `k8s:enc:aesgcm:v1:${name}:`;
  const algo = `aes-${secret.length * 8}-gcm` as 'aes-256-gcm';
  return {
    prefix,
    encrypt(key, plain) {
      const nonce = randomBytes(12);
      const c = createCipheriv(algo, secret, nonce);
      c.setAAD(Buffer.from(key));
      const body = Buffer.concat([c.update(plain), c.final()]);
      return Buffer.concat([Buffer.from(prefix), nonce, body, c.getAuthTag()]);
    },
    decrypt(key, data) {
      if (data.length < 12 + 16) throw new Error('the encrypted value is too short');
      const nonce = data.subarray(0, 12);
      const tag = data.subarray(data.length - 16);
      const d = createDecipheriv(algo, secret, nonce);
      d.setAAD(Buffer.from(key));
      d.setAuthTag(tag);
      return Buffer.concat([d.update(data.subarray(12, data.length - 16)), d.final()]);
    },
  };
}

class PrefixTransformer implements ValueTransformer {
  constructor(private readonly providers: readonly Provider[]) {}

  toStorage(key: string, plain: Buffer): Buffer {
    return this.providers[0].encrypt(key, plain);
  }

  fromStorage(key: string, stored: Buffer): Buffer {
    for (const p of this.providers) {
      if (p.prefix === '') continue;
      if (stored.length >= p.prefix.length && stored.subarray(0, p.prefix.length).toString() === p.prefix) return p.decrypt(key, stored.subarray(p.prefix.length));
    }
    if (this.providers.some((p) => p.prefix === '')) {
      if (stored.subarray(0, 8).toString() === 'k8s:enc:') throw new Error('no key of this configuration matches the value\'s encryption prefix');
      return stored;
    }
    throw new Error('no matching prefix found');
  }
}

/** resource (`secrets`) → its transformer; resources not named are stored as they are. */
export type EncryptionConfig = ReadonlyMap<string, ValueTransformer>;

/** Parses an EncryptionConfiguration (YAML or JSON); errors name the field. */
export function parseEncryptionConfig(text: string): EncryptionConfig {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new EncryptionConfigError(`the encryption configuration is not YAML: ${(err as Error).message}`);
  }
  const d = doc as { kind?: unknown; resources?: unknown };
  if (!d || typeof d !== 'object') throw new EncryptionConfigError('the encryption configuration must be an object');
  if (d.kind !== 'EncryptionConfiguration') throw new EncryptionConfigError(`kind: must be "EncryptionConfiguration", got ${JSON.stringify(d.kind)}`);
  if (!Array.isArray(d.resources) || d.resources.length === 0) throw new EncryptionConfigError('resources: at least one resource list is required');
  const out = new Map<string, ValueTransformer>();
  d.resources.forEach((entry: { resources?: unknown; providers?: unknown }, i: number) => {
    const f = `resources[${i}]`;
    if (!Array.isArray(entry?.resources) || entry.resources.length === 0 || !entry.resources.every((r) => typeof r === 'string'))
      throw new EncryptionConfigError(`${f}.resources: a list of resource names is required`);
    if (!Array.isArray(entry.providers) || entry.providers.length === 0) throw new EncryptionConfigError(`${f}.providers: at least one provider is required`);
    const providers: Provider[] = entry.providers.map((p: Record<string, unknown>, j: number) => {
      const pf = `${f}.providers[${j}]`;
      const kinds = Object.keys(p ?? {});
      if (kinds.length !== 1) throw new EncryptionConfigError(`${pf}: exactly one provider type is required, got ${kinds.length}`);
      const kind = kinds[0];
      if (kind === 'identity') return identity;
      if (kind !== 'aesgcm') throw new EncryptionConfigError(`${pf}: provider type "${kind}" is not supported (aesgcm, identity)`);
      const keys = (p.aesgcm as { keys?: unknown })?.keys;
      if (!Array.isArray(keys) || keys.length === 0) throw new EncryptionConfigError(`${pf}.aesgcm.keys: at least one key is required`);
      // Every key decrypts; the first one encrypts.
      const each = keys.map((k: { name?: unknown; secret?: unknown }, n: number) => {
        const kf = `${pf}.aesgcm.keys[${n}]`;
        if (typeof k?.name !== 'string' || !k.name || k.name.includes(':')) throw new EncryptionConfigError(`${kf}.name: a name without ':' is required`);
        if (typeof k.secret !== 'string') throw new EncryptionConfigError(`${kf}.secret: a base64 key is required`);
        const secret = Buffer.from(k.secret, 'base64');
        if (![16, 24, 32].includes(secret.length)) throw new EncryptionConfigError(`${kf}.secret: must be 16, 24 or 32 bytes of base64, got ${secret.length} bytes`);
        return aesgcm(k.name, secret);
      });
      return each;
    }).flat();
    const t = new PrefixTransformer(providers);
    for (const r of entry.resources as string[]) {
      // "secrets" and "secrets." both name the core group's secrets.
      const name = r.endsWith('.') ? r.slice(0, -1) : r;
      if (out.has(name)) throw new EncryptionConfigError(`${f}.resources: "${r}" is named twice`);
      out.set(name, t);
    }
  });
  return out;
}

export function loadEncryptionConfig(path: string): EncryptionConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EncryptionConfigError(`--encryption-provider-config: ${(err as Error).message}`);
  }
  return parseEncryptionConfig(text);
}
