import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import { fastestMs } from '../../test/support/timing.js';
import { decodeProtobufObject } from './protobuf.js';

// A minimal protobuf writer: enough to frame a ConfigMap as kubectl ≥ 1.31 sends it.
const varint = (n: number): Buffer => {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
};
const field = (num: number, payload: Buffer | string): Buffer => {
  const b = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([varint((num << 3) | 2), varint(b.length), b]);
};
const MAGIC = Buffer.from('k8s\0', 'binary');
const frame = (apiVersion: string, kind: string, raw: Buffer): Buffer =>
  Buffer.concat([MAGIC, field(1, Buffer.concat([field(1, apiVersion), field(2, kind)])), field(2, raw)]);
const configMap = (): Buffer =>
  Buffer.concat([field(1, Buffer.concat([field(1, 'cm'), field(3, 'default')])), field(2, Buffer.concat([field(1, 'k'), field(2, 'v')]))]);

function decodeError(body: Buffer): ApiError {
  try {
    decodeProtobufObject(body);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('the body was accepted');
}

describe('protobuf request bodies', () => {
  it('decodes a well-formed ConfigMap', () => {
    expect(decodeProtobufObject(frame('v1', 'ConfigMap', configMap()))).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm', namespace: 'default' },
      data: { k: 'v' },
    });
  });

  const good = frame('v1', 'ConfigMap', configMap());
  it.each([
    ['the issue #14 body: magic + 300 KB of 0xFF', Buffer.concat([MAGIC, Buffer.alloc(300_000, 0xff)]), /varint longer than 10 bytes/],
    ['3 MiB of 0xFF inside a ConfigMap', frame('v1', 'ConfigMap', Buffer.concat([Buffer.from([0x0a]), Buffer.alloc(3 << 20, 0xff)])), /varint longer than 10 bytes/],
    ['a length larger than the body', Buffer.concat([MAGIC, Buffer.from([0x12]), varint(2 ** 31), Buffer.from('x')]), /claims 2147483648 bytes but only 1 remain/],
    ['a 64-bit length', Buffer.concat([MAGIC, Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]), /claims .* bytes but only 0 remain/],
    ['a truncated frame', good.subarray(0, good.length - 3), /claims|truncated/],
    ['an unknown fixed64 field cut short', Buffer.concat([MAGIC, Buffer.from([0x79, 1, 2])]), /claims 8 bytes but only 2 remain/],
    ['wire type 3 (groups)', Buffer.concat([MAGIC, Buffer.from([0x7b])]), /unsupported wire type 3/],
    ['field number 0', Buffer.concat([MAGIC, Buffer.from([0x02, 0x00])]), /field number 0/],
    ['a message field sent as a varint', Buffer.concat([MAGIC, Buffer.from([0x08, 0x01])]), /wire type 0, want 2/],
    ['no magic number', Buffer.from('{"kind":"ConfigMap"}'), /magic number/],
  ])('answers %s with 400 BadRequest in well under 100 ms', (_what, body, why) => {
    let err: ApiError | undefined;
    const ms = fastestMs(() => {
      err = decodeError(body);
    });
    expect(err?.code).toBe(400);
    expect(err?.reason).toBe('BadRequest');
    expect(err?.message).toMatch(why);
    expect(ms).toBeLessThan(100);
  });

  it('never throws anything but a 400 for random mutations of a valid body', () => {
    // A fixed-seed generator: the same 5,000 mutants every run.
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 5000; i++) {
      const body = Buffer.from(good);
      for (let k = 0; k <= rand(4); k++) body[4 + rand(body.length - 4)] = rand(256);
      const cut = rand(3) === 0 ? body.subarray(0, 4 + rand(body.length - 4)) : body;
      try {
        decodeProtobufObject(cut);
      } catch (err) {
        expect(err).toBeInstanceOf(ApiError);
        expect((err as ApiError).code).toBe(400);
      }
    }
  });
});
