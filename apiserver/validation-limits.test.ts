import { describe, expect, it } from 'vitest';
import { resourceInfo } from '../api/resources.js';
import type { KObject } from '../api/types.js';
import { validateObject } from './strategies/index.js';
import { MAX_DATA_BYTES } from './validation.js';

const configmaps = resourceInfo('configmaps');
const secrets = resourceInfo('secrets');
if (!configmaps || !secrets) throw new Error('resources not served');

const causes = (info: NonNullable<typeof configmaps>, obj: KObject): string[] => validateObject(info, obj).map((c) => `${c.field}: ${c.message}`);
const meta = (extra: Record<string, unknown> = {}) => ({ name: 'x', namespace: 'default', ...extra });

describe('size caps, as Kubernetes has them', () => {
  it('a ConfigMap holds at most 1 MiB of data + binaryData', () => {
    const half = 'a'.repeat(MAX_DATA_BYTES / 2);
    expect(causes(configmaps, { metadata: meta(), data: { a: half, b: half } } as KObject)).toEqual([]);
    expect(causes(configmaps, { metadata: meta(), data: { a: half }, binaryData: { b: Buffer.alloc(MAX_DATA_BYTES / 2 + 1).toString('base64') } } as KObject)).toEqual([
      ': Too long: must have at most 1048576 bytes',
    ]);
  });

  it('a Secret holds at most 1 MiB of decoded data + stringData', () => {
    const b64 = Buffer.alloc(MAX_DATA_BYTES).toString('base64');
    expect(causes(secrets, { metadata: meta(), data: { a: b64 } } as KObject)).toEqual([]);
    expect(causes(secrets, { metadata: meta(), data: { a: b64 }, stringData: { b: 'x' } } as KObject)).toEqual(['data: Too long: must have at most 1048576 bytes']);
  });

  it('label values are at most 63 characters; annotations at most 256 KiB in total', () => {
    expect(causes(configmaps, { metadata: meta({ labels: { a: 'v'.repeat(64) } }) } as KObject).join()).toMatch(/at most 63 characters/);
    expect(causes(configmaps, { metadata: meta({ annotations: { a: 'v'.repeat(256 * 1024) } }) } as KObject).join()).toMatch(/must have at most 262144 bytes/);
  });
});
