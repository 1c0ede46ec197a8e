/**
 * The access and identity reviews (authorization.k8s.io, authentication.k8s.io): SubjectAccessReview,
 * LocalSubjectAccessReview, SelfSubjectAccessReview, SelfSubjectRulesReview, TokenReview and
 * SelfSubjectReview, answered from the same authorizer and authenticators that guard every request,
 * so `kubectl auth can-i [--list]` and `kubectl auth whoami` tell the truth.
 */
import { ApiError, badRequest, invalid, type StatusCause } from '../../api/errors.js';
import { apiVersionOf, type ResourceInfo } from '../../api/resources.js';
import type { KObject } from '../../api/types.js';
import type { Attributes } from './attributes.js';
import type { Authorizer } from './authorizer.js';
import type { UserInfo } from './user.js';

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}
interface NonResourceAttributes {
  path?: string;
  verb?: string;
}
interface AccessReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: NonResourceAttributes;
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

export interface TokenAuthenticatorForReview {
  /** The user of `token` for `audiences`, or the reason it is not valid. */
  review(token: string, audiences: readonly string[] | undefined): Promise<{ user: UserInfo; audiences: string[] } | { error: string }>;
}

function asObject(body: unknown): KObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the request body must be a JSON object');
  return body as KObject;
}

const str = (v: unknown): v is string => typeof v === 'string';
const strList = (v: unknown): v is string[] => Array.isArray(v) && v.every(str);

/** Type and presence checks of a SubjectAccessReview spec (ValidateSubjectAccessReviewSpec), naming each field. */
function validateAccessSpec(kind: string, group: string, spec: unknown, self: boolean): AccessReviewSpec {
  const causes: StatusCause[] = [];
  const add = (field: string, message: string, reason = 'FieldValueInvalid'): void => void causes.push({ field, message, reason });
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    add('spec', 'Required value: spec must be an object', 'FieldValueRequired');
    throw invalid(kind, '', causes, group);
  }
  const s = spec as Record<string, unknown>;
  const ra = s.resourceAttributes;
  const na = s.nonResourceAttributes;
  if (ra !== undefined && na !== undefined) add('spec.nonResourceAttributes', 'Invalid value: cannot be specified in combination with resourceAttributes');
  if (ra === undefined && na === undefined) add('spec.resourceAttributes', 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified', 'FieldValueRequired');
  if (ra !== undefined) {
    if (typeof ra !== 'object' || ra === null || Array.isArray(ra)) add('spec.resourceAttributes', 'Invalid value: must be an object', 'FieldValueTypeInvalid');
    else for (const [k, v] of Object.entries(ra)) if (['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'].includes(k) && !str(v)) add(`spec.resourceAttributes.${k}`, 'Invalid value: must be a string', 'FieldValueTypeInvalid');
  }
  if (na !== undefined) {
    if (typeof na !== 'object' || na === null || Array.isArray(na)) add('spec.nonResourceAttributes', 'Invalid value: must be an object', 'FieldValueTypeInvalid');
    else for (const [k, v] of Object.entries(na)) if (['path', 'verb'].includes(k) && !str(v)) add(`spec.nonResourceAttributes.${k}`, 'Invalid value: must be a string', 'FieldValueTypeInvalid');
  }
  if (!self) {
    if (s.user !== undefined && !str(s.user)) add('spec.user', 'Invalid value: must be a string', 'FieldValueTypeInvalid');
    if (s.groups !== undefined && !strList(s.groups)) add('spec.groups', 'Invalid value: must be a list of strings', 'FieldValueTypeInvalid');
    if (s.uid !== undefined && !str(s.uid)) add('spec.uid', 'Invalid value: must be a string', 'FieldValueTypeInvalid');
    if (!s.user && !(Array.isArray(s.groups) && s.groups.length)) add('spec.user', 'Invalid value: "": at least one of user or group must be specified');
  }
  if (causes.length) throw invalid(kind, '', causes, group);
  return s as AccessReviewSpec;
}

function attributesOf(user: UserInfo, spec: AccessReviewSpec): Attributes {
  const ra = spec.resourceAttributes;
  if (ra)
    return {
      user,
      verb: ra.verb ?? '',
      resourceRequest: true,
      namespace: ra.namespace ?? '',
      apiGroup: ra.group ?? '',
      apiVersion: ra.version ?? '',
      resource: ra.resource ?? '',
      subresource: ra.subresource ?? '',
      name: ra.name ?? '',
      path: '',
    };
  const na = spec.nonResourceAttributes ?? {};
  return { user, verb: na.verb ?? '', resourceRequest: false, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '', path: na.path ?? '' };
}

function accessStatus(authorizer: Authorizer, a: Attributes): Record<string, unknown> {
  const r = authorizer.authorize(a);
  return {
    allowed: r.decision === 'Allow',
    ...(r.decision === 'Deny' ? { denied: true } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

export async function answerReview(info: ResourceInfo, namespace: string, body: unknown, requester: UserInfo, authorizer: Authorizer, tokens: TokenAuthenticatorForReview): Promise<KObject> {
  const req = asObject(body);
  const base: KObject = { kind: info.kind, apiVersion: apiVersionOf(info), metadata: { ...(typeof req.metadata === 'object' && req.metadata !== null ? req.metadata : {}) } };
  switch (info.resource) {
    case 'selfsubjectaccessreviews': {
      const spec = validateAccessSpec(info.kind, info.group, req.spec, true);
      return { ...base, spec, status: accessStatus(authorizer, attributesOf(requester, spec)) };
    }
    case 'subjectaccessreviews':
    case 'localsubjectaccessreviews': {
      const spec = validateAccessSpec(info.kind, info.group, req.spec, false);
      if (info.resource === 'localsubjectaccessreviews') {
        if (!spec.resourceAttributes && spec.nonResourceAttributes) throw invalid(info.kind, '', [{ field: 'spec.nonResourceAttributes', message: 'Invalid value: disallowed on this kind of request', reason: 'FieldValueInvalid' }], info.group);
        if (spec.resourceAttributes && (spec.resourceAttributes.namespace ?? '') !== namespace)
          throw invalid(info.kind, '', [{ field: 'spec.resourceAttributes.namespace', message: `Invalid value: ${JSON.stringify(spec.resourceAttributes.namespace ?? '')}: must match metadata.namespace`, reason: 'FieldValueInvalid' }], info.group);
      }
      const user: UserInfo = { name: spec.user ?? '', groups: spec.groups ?? [], ...(spec.uid ? { uid: spec.uid } : {}), ...(spec.extra ? { extra: spec.extra } : {}) };
      return { ...base, spec, status: accessStatus(authorizer, attributesOf(user, spec)) };
    }
    case 'selfsubjectrulesreviews': {
      const spec = (req.spec ?? {}) as { namespace?: unknown };
      if (typeof req.spec !== 'object' || req.spec === null || Array.isArray(req.spec) || (spec.namespace !== undefined && !str(spec.namespace)))
        throw invalid(info.kind, '', [{ field: 'spec.namespace', message: 'Invalid value: must be a string', reason: 'FieldValueTypeInvalid' }], info.group);
      const r = authorizer.rulesFor(requester, (spec.namespace as string | undefined) ?? '');
      const clean = (rule: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }): Record<string, unknown> =>
        Object.fromEntries(Object.entries(rule).filter(([, v]) => v !== undefined));
      return {
        ...base,
        spec: req.spec as KObject['spec'],
        status: {
          resourceRules: r.resourceRules.map(clean),
          nonResourceRules: r.nonResourceRules.map((x) => ({ verbs: x.verbs, nonResourceURLs: x.nonResourceURLs })),
          incomplete: r.incomplete,
          ...(r.evaluationError ? { evaluationError: r.evaluationError } : {}),
        },
      };
    }
    case 'tokenreviews': {
      const spec = req.spec as { token?: unknown; audiences?: unknown } | undefined;
      if (typeof spec !== 'object' || spec === null) throw invalid(info.kind, '', [{ field: 'spec', message: 'Required value', reason: 'FieldValueRequired' }], info.group);
      if (spec.token !== undefined && !str(spec.token)) throw invalid(info.kind, '', [{ field: 'spec.token', message: 'Invalid value: must be a string', reason: 'FieldValueTypeInvalid' }], info.group);
      if (spec.audiences !== undefined && !strList(spec.audiences)) throw invalid(info.kind, '', [{ field: 'spec.audiences', message: 'Invalid value: must be a list of strings', reason: 'FieldValueTypeInvalid' }], info.group);
      if (!spec.token) throw badRequest('token is required for TokenReview in authentication');
      const r = await tokens.review(spec.token, spec.audiences as string[] | undefined);
      const status =
        'error' in r
          ? { authenticated: false, user: {}, error: r.error }
          : { authenticated: true, user: userJson(r.user), audiences: r.audiences };
      return { ...base, spec: { ...(spec as object) }, status };
    }
    case 'selfsubjectreviews':
      return { ...base, status: { userInfo: userJson(requester) } };
    default:
      throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource (${info.resource})`);
  }
}

export function userJson(u: UserInfo): Record<string, unknown> {
  return { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: [...u.groups], ...(u.extra ? { extra: u.extra } : {}) };
}
