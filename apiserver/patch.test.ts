import { describe, expect, it } from 'vitest';
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
