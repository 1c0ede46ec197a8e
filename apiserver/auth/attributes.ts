/**
 * The request attributes an authorizer decides on (Kubernetes' authorizer.Attributes), and the message
 * a refusal carries (responsewriters.forbiddenMessage + apierrors.NewForbidden).
 */
import { ApiError } from '../../api/errors.js';
import type { UserInfo } from './user.js';

export interface Attributes {
  readonly user: UserInfo;
  /** get list watch create update patch delete deletecollection, or a special verb (bind, escalate, impersonate, use); lower-case HTTP method for non-resource requests. */
  readonly verb: string;
  readonly resourceRequest: boolean;
  readonly namespace: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  /** The URL path, for non-resource requests. */
  readonly path: string;
}

export type Decision = 'Allow' | 'Deny' | 'NoOpinion';

export interface AuthorizationResult {
  readonly decision: Decision;
  readonly reason: string;
}

/** Kubernetes' forbiddenMessage: `User "x" cannot list resource "secrets" in API group "" in the namespace "y"`. */
export function forbiddenMessage(a: Attributes): string {
  if (!a.resourceRequest) return `User ${JSON.stringify(a.user.name)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const base = `User ${JSON.stringify(a.user.name)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)}`;
  return a.namespace ? `${base} in the namespace ${JSON.stringify(a.namespace)}` : `${base} at the cluster scope`;
}

/** The 403 Status kube-apiserver answers (apierrors.NewForbidden over the group/resource and name). */
export function forbidden(a: Attributes, reason: string): ApiError {
  const msg = reason ? `${forbiddenMessage(a)}: ${reason}` : forbiddenMessage(a);
  if (!a.resourceRequest || !a.resource) return new ApiError('Forbidden', `forbidden: ${msg}`, {});
  const gr = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const message = a.name ? `${gr} ${JSON.stringify(a.name)} is forbidden: ${msg}` : `${gr} is forbidden: ${msg}`;
  return new ApiError('Forbidden', message, { ...(a.name ? { name: a.name } : {}), group: a.apiGroup, kind: a.resource });
}

/** The verb of a resource request from its HTTP method (Kubernetes' RequestInfoFactory). */
export function restVerb(method: string, hasName: boolean, watch: boolean): string {
  switch (method) {
    case 'POST':
      return 'create';
    case 'GET':
    case 'HEAD':
      if (watch) return 'watch';
      return hasName ? 'get' : 'list';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function exactName(fieldSelector: string | null): string {
  if (!fieldSelector) return '';
  for (const part of fieldSelector.split(',')) {
    const m = /^\s*metadata\.name\s*(==|=)\s*([^,\s]*)\s*$/.exec(part);
    if (m && m[2] && !m[2].includes('/') && m[2] !== '.' && m[2] !== '..') return m[2];
  }
  return '';
}

/**
 * Kubernetes' RequestInfoFactory.NewRequestInfo: the attributes of a REST request from its method, path
 * and query — resource requests under /api/v1 and /apis/<group>/<version>, everything else a
 * non-resource request (verb = lower-case method). Pure and total: a path it cannot read is a
 * non-resource request, which RBAC then judges by its path.
 */
export function requestAttributes(user: UserInfo, method: string, rawPath: string, query: URLSearchParams): Attributes {
  const nonResource: Attributes = { user, verb: method.toLowerCase(), resourceRequest: false, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '', path: rawPath };
  let parts: string[];
  try {
    parts = rawPath.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    return nonResource;
  }
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return nonResource;
  let rest = parts.slice(1);
  let apiGroup = '';
  if (parts[0] === 'apis') {
    if (rest.length < 3) return nonResource;
    apiGroup = rest[0];
    rest = rest.slice(1);
  }
  const apiVersion = rest[0];
  rest = rest.slice(1);
  let verb: string;
  let verbViaMethod = false;
  if (rest[0] === 'watch' || rest[0] === 'proxy') {
    if (rest.length < 2) return nonResource;
    verb = rest[0];
    rest = rest.slice(1);
  } else {
    verbViaMethod = true;
    verb = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[method] ?? '';
  }
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
  }
  const resource = rest[0] ?? '';
  const name = rest[1] ?? '';
  const subresource = rest.length >= 3 && verb !== 'proxy' ? rest[2] : '';
  let finalName = name;
  if (!name && verb === 'get') {
    verb = query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list';
    finalName = exactName(query.get('fieldSelector'));
  }
  if (!finalName && verb === 'watch') finalName = exactName(query.get('fieldSelector'));
  if (!finalName && verb === 'delete' && verbViaMethod) verb = 'deletecollection';
  return { user, verb, resourceRequest: true, namespace, apiGroup, apiVersion, resource, subresource, name: finalName, path: rawPath };
}
