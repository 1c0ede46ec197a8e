/**
 * URL → request target for the Kubernetes REST paths:
 * `/api/v1[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]` and the same under `/apis/{group}/{version}`.
 * Pure, so the ambiguous cases (`/api/v1/namespaces/x/status` is the namespace's status subresource,
 * `/api/v1/namespaces/x/pods` a list) are unit-tested.
 */
import { badRequest } from '../../api/errors.js';
import { RESOURCES, resourceInfo, type ResourceInfo } from '../../api/resources.js';
import { aliasFor, type VersionAlias } from './versions.js';

export type Route =
  | { kind: 'discovery'; path: string }
  | { kind: 'resource'; info: ResourceInfo; namespace: string; name: string; subresource: string; alias?: VersionAlias }
  | { kind: 'notfound'; message: string };

const DISCOVERY_PATHS = new Set(['/api', '/apis', '/api/v1']);

/** Finds the resource for group/version/resource, or undefined when it is not served. */
export function lookup(group: string, version: string, resource: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource) ?? (aliasFor(group, version, resource) ? resourceInfo(resource) : undefined);
}

/** A path segment, unescaped; a malformed escape (`%ZZ`) is the client's error, not a crash. */
function decodeSegment(seg: string): string {
  try {
    return decodeURIComponent(seg);
  } catch {
    throw badRequest(`the request path has an invalid escape sequence in "${seg.slice(0, 64)}"`);
  }
}

export function parsePath(rawPath: string): Route {
  const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  if (DISCOVERY_PATHS.has(path)) return { kind: 'discovery', path };
  const segs = path.split('/').filter((s) => s !== '').map(decodeSegment);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 2) {
    group = '';
    version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 2) {
    if (segs.length <= 3) return { kind: 'discovery', path };
    group = segs[1];
    version = segs[2];
    rest = segs.slice(3);
  } else return { kind: 'notfound', message: 'the server could not find the requested resource' };
  if (rest.length === 0) return { kind: 'discovery', path };
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const inner = lookup(group, version, rest[2]);
    if (inner?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const [resource, name = '', subresource = '', ...extra] = rest;
  const info = lookup(group, version, resource);
  if (!info) return { kind: 'notfound', message: `the server could not find the requested resource` };
  if (extra.length > 0 && subresource !== 'proxy') return { kind: 'notfound', message: 'the server could not find the requested resource' };
  if (subresource && !info.subresources.includes(subresource))
    return { kind: 'notfound', message: `the server could not find the requested resource (${resource}/${subresource})` };
  const alias = aliasFor(group, version, resource);
  return { kind: 'resource', info, namespace, name, subresource, ...(alias ? { alias } : {}) };
}
