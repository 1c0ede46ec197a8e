import { describe, expect, it } from 'vitest';
import { columns, matches, parseAuditLine, row, type AuditEvent } from './view.js';

const event = (o: Partial<AuditEvent> = {}): AuditEvent => ({
  kind: 'Event',
  verb: 'create',
  requestURI: '/api/v1/namespaces/default/pods',
  stageTimestamp: '2026-12-04T13:40:01.123456Z',
  user: { username: 'kubernetes-admin', groups: ['system:masters'] },
  objectRef: { resource: 'pods', namespace: 'default', name: 'web-1' },
  responseStatus: { code: 201 },
  ...o,
});

describe('kubelab audit view', () => {
  it('reads an audit Event line and says why any other line is not one', () => {
    const ok = parseAuditLine(JSON.stringify(event()));
    expect('event' in ok && ok.event.user.username).toBe('kubernetes-admin');
    expect(parseAuditLine('{"kind":"Event","verb":"get","requestURI":"/x","user":{"usern')).toEqual({ error: 'not JSON' });
    expect(parseAuditLine('{"level":30,"msg":"pino line"}')).toEqual({ error: 'kind: not an audit Event' });
    expect(parseAuditLine(JSON.stringify({ ...event(), user: { username: 7 } }))).toEqual({ error: 'user.username: not a string' });
    expect(parseAuditLine(JSON.stringify({ ...event(), responseStatus: { code: '201' } }))).toEqual({ error: 'responseStatus.code: not a number' });
    expect(parseAuditLine('[]')).toEqual({ error: 'kind: not an audit Event' });
    expect(parseAuditLine('null')).toEqual({ error: 'kind: not an audit Event' });
  });

  it('filters by user, verb, resource (and subresource), namespace and failure', () => {
    const exec = event({ verb: 'create', objectRef: { resource: 'pods', subresource: 'exec', namespace: 'default', name: 'web-1' }, responseStatus: { code: 403 } });
    expect(matches(exec, { resource: 'pods' })).toBe(true);
    expect(matches(exec, { resource: 'pods/exec' })).toBe(true);
    expect(matches(event(), { resource: 'pods/exec' })).toBe(false);
    expect(matches(exec, { failed: true })).toBe(true);
    expect(matches(event(), { failed: true })).toBe(false);
    expect(matches(event(), { user: 'alice' })).toBe(false);
    expect(matches(event(), { verb: 'create', namespace: 'default', user: 'kubernetes-admin' })).toBe(true);
    expect(matches(event(), { namespace: 'kube-system' })).toBe(false);
  });

  it('prints time, user, verb, code, object and API as aligned columns', () => {
    const grpc = event({ verb: 'list', objectRef: { resource: 'deployments', apiGroup: 'apps', namespace: 'default' }, responseStatus: { code: 200 }, annotations: { 'kubelab.io/transport': 'grpc' } });
    const nonResource = event({ verb: 'get', requestURI: '/apis', objectRef: undefined, responseStatus: { code: 200 } });
    expect(row(event())).toEqual(['13:40:01', 'kubernetes-admin', 'create', '201', 'pods default/web-1', 'REST']);
    expect(row(grpc)).toEqual(['13:40:01', 'kubernetes-admin', 'list', '200', 'deployments.apps default', 'gRPC']);
    expect(row(nonResource)[4]).toBe('/apis');
    const text = columns([['A', 'BB'], ['CCC', 'D']]);
    expect(text).toBe('A     BB\nCCC   D');
    expect(columns([['x', 'y']], [4])).toBe('x      y');
  });
});
