/**
 * The access and identity reviews kubectl asks for (`kubectl auth can-i`, `kubectl auth whoami`).
 * SelfSubjectReview answers the authenticated user (authentication.k8s.io/v1); kubelab does not
 * authorize yet (like kube-apiserver with `--authorization-mode=AlwaysAllow`), so access reviews say yes.
 */
import { ApiError, badRequest } from '../../client/errors.js';
import { apiVersionOf, type ResourceInfo } from '../../client/resources.js';
import type { KObject } from '../../client/types.js';
import type { UserInfo } from '../auth/user.js';

const REASON = 'kubelab does not authorize requests: every request is allowed';

export function answerReview(info: ResourceInfo, body: unknown, user: UserInfo): KObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the request body must be a JSON object');
  const req = body as KObject;
  const base = { ...req, kind: info.kind, apiVersion: apiVersionOf(info), metadata: { ...(req.metadata ?? {}) } } as KObject;
  switch (info.resource) {
    case 'selfsubjectaccessreviews':
      if (!req.spec) throw badRequest('spec: Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified');
      return { ...base, status: { allowed: true, reason: REASON } };
    case 'selfsubjectrulesreviews':
      return {
        ...base,
        status: {
          resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
          nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
          incomplete: false,
        },
      };
    case 'selfsubjectreviews':
      return {
        ...base,
        status: {
          userInfo: {
            username: user.name,
            ...(user.uid ? { uid: user.uid } : {}),
            groups: [...user.groups],
            ...(user.extra ? { extra: user.extra } : {}),
          },
        },
      };
    default:
      throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource (${info.resource})`);
  }
}
