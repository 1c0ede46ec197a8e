import { describe, expect, it } from 'vitest';
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
