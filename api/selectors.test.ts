import { describe, expect, it } from 'vitest';
import { fastestMs } from '../test/support/timing.js';
import { fromLabelSelector, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js';

describe('label selectors', () => {
  it('parses equality and set-based requirements as kubectl sends them', () => {
    const sel = parseLabelSelector('app=web,tier!=db,env in (prod, staging),!canary,track');
    expect(matchesLabels(sel, { app: 'web', tier: 'fe', env: 'prod', track: 'stable' })).toBe(true);
    expect(matchesLabels(sel, { app: 'web', tier: 'db', env: 'prod', track: 'x' })).toBe(false);
    expect(matchesLabels(sel, { app: 'web', env: 'dev', track: 'x' })).toBe(false);
    expect(matchesLabels(sel, { app: 'web', env: 'prod', canary: 'true', track: 'x' })).toBe(false);
    expect(matchesLabels(sel, { app: 'web', env: 'prod' })).toBe(false);
  });

  it('treats notin as matching objects without the key', () => {
    expect(matchesLabels(parseLabelSelector('env notin (prod)'), {})).toBe(true);
  });

  it('rejects malformed selectors with the offending part', () => {
    expect(() => parseLabelSelector('app in prod')).toThrow(SelectorError);
    expect(() => parseLabelSelector('a b=c')).toThrow(/a b=c/);
  });

  it('compiles structured selectors; an empty selector matches everything', () => {
    const sel = fromLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] });
    expect(sel && matchesLabels(sel, { app: 'web', env: 'prod' })).toBe(true);
    expect(sel && matchesLabels(sel, { app: 'web', env: 'dev' })).toBe(false);
    expect(matchesLabels(fromLabelSelector({}) ?? [], { any: 'thing' })).toBe(true);
    expect(fromLabelSelector(undefined)).toBeUndefined();
  });
});

describe('field selectors', () => {
  it('matches nested fields with = and !=', () => {
    const pod = { metadata: { name: 'p' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } };
    expect(matchesFields(parseFieldSelector('spec.nodeName=n1,status.phase!=Failed'), pod)).toBe(true);
    expect(matchesFields(parseFieldSelector('spec.nodeName=n2'), pod)).toBe(false);
    expect(matchesFields(parseFieldSelector('spec.nodeName='), { spec: {} })).toBe(true);
  });
});

describe('selectors from untrusted text', () => {
  it('parses what the old patterns parsed, and Kubernetes spellings', () => {
    expect(parseLabelSelector('a==b, c != d ,e in(x, y),f notin (),!g,h,i=')).toEqual([
      { key: 'a', op: 'In', values: ['b'] },
      { key: 'c', op: 'NotIn', values: ['d'] },
      { key: 'e', op: 'In', values: ['x', 'y'] },
      { key: 'f', op: 'NotIn', values: [] },
      { key: 'g', op: 'DoesNotExist' },
      { key: 'h', op: 'Exists' },
      { key: 'i', op: 'In', values: [''] },
    ]);
    expect(parseLabelSelector('app.kubernetes.io/name=web')).toEqual([{ key: 'app.kubernetes.io/name', op: 'In', values: ['web'] }]);
  });

  it.each([
    ['a=b=c', /position 3/],
    ['a in (x', /expected: ',' or '\)'/],
    ['x>1', /gt\/lt/],
    [`a=${'v'.repeat(64)}`, /invalid label value/],
    [`${'k'.repeat(64)}=v`, /name part must be no more than 63/],
    ['Bad_Prefix/x=y', /prefix part/],
    ['a,', /found end of string, expected: a label key/],
  ])('rejects %j naming the reason', (sel, why) => {
    expect(() => parseLabelSelector(sel)).toThrow(SelectorError);
    expect(() => parseLabelSelector(sel)).toThrow(why);
  });

  it('reads field selectors with escapes and skips empty terms', () => {
    expect(parseFieldSelector('metadata.name==a\\,b,,spec.nodeName!=n1,')).toEqual([
      { field: 'metadata.name', op: '=', value: 'a,b' },
      { field: 'spec.nodeName', op: '!=', value: 'n1' },
    ]);
    expect(() => parseFieldSelector('spec.nodeName')).toThrow(/position 0/);
    expect(() => parseFieldSelector('a=\\x')).toThrow(/escape/);
  });

  // 64 KiB: four times the longest query string Node's HTTP server accepts (16 KiB of headers).
  const N = 64 * 1024;
  it.each([
    ['a long key', `${'a'.repeat(N)}=b`],
    ['many requirements', Array.from({ length: N / 8 }, (_, i) => `k${i}=v`).join(',')],
    ['many in values', `k in (${'v,'.repeat(N / 2)}v)`],
    ['unbalanced parentheses', `k in ${'('.repeat(N)}`],
    ['a dotted prefix', `${'a.'.repeat(N / 2)}/x=y`],
    ['a hyphenated key', `${'a-'.repeat(N / 2)}!=y`],
    ['spaces', `a${' '.repeat(N)}b`],
  ])('answers %s within a time bound', (_what, sel) => {
    const ms = fastestMs(() => {
      try {
        parseLabelSelector(sel);
      } catch (err) {
        expect(err).toBeInstanceOf(SelectorError);
        expect((err as Error).message.length).toBeLessThan(600);
      }
    });
    expect(ms).toBeLessThan(100);
  });

  it('answers huge field selectors within a time bound', () => {
    for (const sel of [`${'a'.repeat(64 * 1024)}`, `${'a=b,'.repeat(16 * 1024)}`, `a=${'\\,'.repeat(32 * 1024)}`]) {
      const ms = fastestMs(() => {
        try {
          parseFieldSelector(sel);
        } catch (err) {
          expect(err).toBeInstanceOf(SelectorError);
        }
      });
      expect(ms).toBeLessThan(100);
    }
  });
});
