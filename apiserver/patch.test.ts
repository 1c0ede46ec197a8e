import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors.js';
import { fastestMs } from '../test/support/timing.js';
import { applyPatch, mergePatch, strategicMergePatch } from './patch.js';

describe('patches', () => {
  it('merge patch replaces lists and deletes on null', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null }, l: [3] })).toEqual({ a: 1, b: { d: 3 }, l: [3] });
  });

  it('strategic merge merges containers by name and env by name', () => {
    const spec = { containers: [{ name: 'a', image: 'x', env: [{ name: 'A', value: '1' }] }, { name: 'b', image: 'y' }] };
    const out = strategicMergePatch(spec, { containers: [{ name: 'a', image: 'x2', env: [{ name: 'B', value: '2' }] }] });
    expect(out).toEqual({ containers: [{ name: 'a', image: 'x2', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }, { name: 'b', image: 'y' }] });
  });

  it('strategic merge honours $patch: delete in keyed lists', () => {
    const out = strategicMergePatch({ containers: [{ name: 'a' }, { name: 'b' }] }, { containers: [{ name: 'a', $patch: 'delete' }] });
    expect(out).toEqual({ containers: [{ name: 'b' }] });
  });

  it('json patch applies operations and reports bad ones', () => {
    expect(applyPatch('json', { spec: { replicas: 1 } }, [{ op: 'replace', path: '/spec/replicas', value: 3 }])).toEqual({ spec: { replicas: 3 } });
    expect(() => applyPatch('json', { a: 1 }, [{ op: 'test', path: '/a', value: 2 }])).toThrow();
  });
});

describe('patches from untrusted bodies', () => {
  const big = { metadata: { name: 'x' }, data: { filler: 'f'.repeat(1024 * 1024), a: 'small' } };

  const apiError = (fn: () => unknown): ApiError => {
    try {
      fn();
    } catch (err) {
      if (err instanceof ApiError) return err;
      throw err;
    }
    throw new Error('no error');
  };

  it('keeps JSON patch semantics: pointers with escapes, move, copy, test', () => {
    const out = applyPatch('json', { a: { 'x/y': 1, 'm~n': [1, 2] } }, [
      { op: 'copy', from: '/a/x~1y', path: '/b' },
      { op: 'move', from: '/a/m~0n', path: '/c' },
      { op: 'add', path: '/c/-', value: 3 },
      { op: 'test', path: '/c/2', value: 3 },
      { op: 'remove', path: '/a' },
    ]);
    expect(out).toEqual({ b: 1, c: [1, 2, 3] });
  });

  it.each([
    [[{ op: 'copy', from: '/nope', path: '/b' }], /operation 0 .*Cannot perform the operation from a path that does not exist/],
    [[{ op: 'replace', path: '/data/missing', value: 1 }], /operation 0/],
    [[{ op: 'add', path: 'data', value: 1 }], /operation 0: "path" must be a JSON pointer/],
    [[{ op: 'jump', path: '/a' }], /"op" must be one of/],
    [[{ op: 'add', path: '/__proto__/polluted', value: 1 }], /operation 0/],
    [[{ op: 'replace', path: '/data/a', value: 'ok' }, 7], /operation 1: is not an object/],
  ])('rejects %j with a 422 naming the operation', (patch, why) => {
    const err = apiError(() => applyPatch('json', big, patch));
    expect(err.code).toBe(422);
    expect(err.message).toMatch(why);
  });

  it('caps the number of operations as Kubernetes does (413)', () => {
    const ops = Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/data/a', value: 'small' }));
    const err = apiError(() => applyPatch('json', big, ops));
    expect(err.code).toBe(413);
    expect(err.message).toBe('The allowed maximum operations in a JSON patch is 10000, got 10001');
  });

  it('stops a self-doubling copy chain at the copy budget, fast', () => {
    const ops = Array.from({ length: 60 }, (_, i) => ({ op: 'copy', from: '', path: `/c${i}` }));
    let err: ApiError | undefined;
    const ms = fastestMs(() => {
      err = apiError(() => applyPatch('json', { seed: 'x'.repeat(1000) }, ops));
    });
    expect(err?.code).toBe(413);
    expect(ms).toBeLessThan(100);
  });

  it('applies 10,000 small copies into a 1 MiB document in linear time', () => {
    const ops = Array.from({ length: 10_000 }, (_, i) => ({ op: 'copy', from: '/data/a', path: `/data/k${i}` }));
    let out: unknown;
    const ms = fastestMs(() => {
      out = applyPatch('json', big, ops);
    }, 2);
    expect((out as { data: Record<string, string> }).data.k9999).toBe('small');
    expect(ms).toBeLessThan(1000); // fast-json-patch's own check cloned the 1 MiB document per copy: minutes
  });

  it('merges 50,000 keyed list items in linear time', () => {
    const containers = Array.from({ length: 50_000 }, (_, i) => ({ name: `c${i}`, image: 'busybox' }));
    const patch = { spec: { containers: [...containers.map((c) => ({ name: c.name, image: 'pause' })), { name: 'c7', $patch: 'delete' }] } };
    let out: { spec: { containers: { name: string; image: string }[] } } | undefined;
    const ms = fastestMs(() => {
      out = applyPatch('strategic', { spec: { containers } }, patch) as typeof out;
    }, 2);
    expect(out?.spec.containers).toHaveLength(49_999);
    expect(out?.spec.containers[0]).toEqual({ name: 'c0', image: 'pause' });
    expect(out?.spec.containers.some((c) => c.name === 'c7')).toBe(false);
    expect(ms).toBeLessThan(1000);
  });

  it('finds the first of duplicate merge keys, as a scan does', () => {
    const out = applyPatch('strategic', { env: [{ name: 'A', value: '1' }, { name: 'A', value: '2' }] }, { env: [{ name: 'A', $patch: 'delete' }, { name: 'A', value: '3' }] });
    expect(out).toEqual({ env: [{ name: 'A', value: '3' }] });
  });
});
