/**
 * The access and identity reviews kubectl asks for (`kubectl auth can-i`, `kubectl auth whoami`).
 * kubelab authenticates no one and authorizes everything (like kube-apiserver with
 * `--authorization-mode=AlwaysAllow` and anonymous admin access), so the answers say exactly that.
 */
import { ApiError, badRequest } from '../../client/errors.js';
import { apiVersionOf, type ResourceInfo } from '../../client/resources.js';
import type { KObject } from '../../client/types.js';

const REASON = 'kubelab does not authorize requests: every request is allowed';

export function answerReview(info: ResourceInfo, body: unknown): KObject {
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
      return { ...base, status: { userInfo: { username: 'kubelab-admin', groups: ['system:masters', 'system:authenticated'] } } };
    default:
      throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource (${info.resource})`);
  }
}
