import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import { boolParam, canonicalStreamQuery, intParam, selectorParams, timeoutParam, versionParams } from './params.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);
function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('query parameters as kube-apiserver reads them', () => {
  it.each(['true', 'True', 'TRUE', 't', 'T', '1', 'yes', ''])('watch=%j is true', (v) => {
    expect(boolParam(q(`watch=${v}`), 'watch')).toBe(true);
  });
  it.each(['false', 'False', 'FALSE', 'fAlSe', '0'])('watch=%j is false', (v) => {
    expect(boolParam(q(`watch=${v}`), 'watch')).toBe(false);
  });
  it('an absent boolean is unset', () => {
    expect(boolParam(q('other=1'), 'watch')).toBeUndefined();
  });

  it.each([
    ['limit=10', 10],
    ['limit=%2B7', 7],
    ['limit=-1', -1],
    ['limit=', undefined],
    ['limit=9223372036854775807', 9223372036854775807],
  ])('%s reads as an int64', (s, n) => {
    expect(intParam(q(s), 'limit')).toBe(n);
  });
  it.each(['limit=1.5', 'limit=0x10', 'limit=1e3', 'limit=%205', 'limit=ten', 'limit=9223372036854775808', `limit=${'9'.repeat(100_000)}`])(
    '%s is a 400 naming the parameter',
    (s) => {
      const err = apiError(() => intParam(q(s), 'limit'));
      expect(err.code).toBe(400);
      expect(err.message).toMatch(/query parameter limit/);
      expect(err.message.length).toBeLessThan(300);
    },
  );

  it('resourceVersion must be a number; resourceVersionMatch follows ListOptions validation', () => {
    expect(versionParams(q('resourceVersion=42&resourceVersionMatch=Exact'), false)).toEqual({ resourceVersion: '42', revision: 42, match: 'Exact' });
    expect(apiError(() => versionParams(q('resourceVersion=abc'), false)).code).toBe(400);
    expect(apiError(() => versionParams(q('resourceVersion=-1'), true)).message).toMatch(/resourceVersion/);
    expect(apiError(() => versionParams(q('resourceVersionMatch=Exact'), false)).code).toBe(422);
    expect(apiError(() => versionParams(q('resourceVersion=0&resourceVersionMatch=Exact'), false)).message).toMatch(/forbidden for resourceVersion "0"/);
    expect(apiError(() => versionParams(q('resourceVersion=1&resourceVersionMatch=NotOlderThan'), true)).message).toMatch(/forbidden for watch/);
    expect(apiError(() => versionParams(q('resourceVersion=1&resourceVersionMatch=Newest'), false)).message).toMatch(/resourceVersionMatch.*"Exact", "NotOlderThan"/);
  });

  it('selectors and timeouts name the parameter', () => {
    expect(apiError(() => selectorParams(q('labelSelector=a%20b%3Dc'))).message).toMatch(/^invalid value for query parameter labelSelector/);
    expect(apiError(() => selectorParams(q('fieldSelector=spec.nodeName'))).message).toMatch(/^invalid value for query parameter fieldSelector/);
    expect(timeoutParam(q('timeout=32s'))).toBe(32_000);
    expect(apiError(() => timeoutParam(q('timeout=32'))).message).toMatch(/invalid timeout specified in the request URL/);
  });

  it('forwards stream options to the kubelet in canonical form', () => {
    expect(canonicalStreamQuery('log', q('follow=True&timestamps=0&tailLines=%2B10&container=c')).toString()).toBe('follow=true&timestamps=false&tailLines=10&container=c');
    expect(canonicalStreamQuery('exec', q('command=echo&command=hi&stdout=1&tty=FALSE')).toString()).toBe('command=echo&command=hi&stdout=true&tty=false');
    expect(apiError(() => canonicalStreamQuery('log', q('tailLines=-1'))).message).toMatch(/tailLines: -1: must be greater than or equal to 0/);
    expect(apiError(() => canonicalStreamQuery('log', q('sinceSeconds=0'))).code).toBe(400);
    expect(apiError(() => canonicalStreamQuery('log', q('limitBytes=lots'))).message).toMatch(/limitBytes/);
    expect(apiError(() => canonicalStreamQuery('log', q('sinceTime=yesterday'))).message).toMatch(/sinceTime/);
  });
});

describe('request paths', () => {
  it('a malformed escape in the path is a 400, not a crash', async () => {
    const { parsePath } = await import('./route.js');
    const err = apiError(() => parsePath('/api/v1/namespaces/%ZZ/pods'));
    expect(err.code).toBe(400);
    expect(err.message).toMatch(/invalid escape sequence in "%ZZ"/);
  });
});
