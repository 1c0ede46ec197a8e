/**
 * rbac.authorization.k8s.io: stored and served so that manifests carrying them apply; kubelab authorizes
 * every request (AlwaysAllow), so they restrict nothing.
 */
import type { KObject } from '../../client/types.js';
import { PRINTERS } from '../../client/tables.js';
import type { Strategy } from '../strategy.js';
import { add, type Causes } from '../validation.js';

/** roleRef must name a role of one of `kinds` in the RBAC group. */
function validateRoleRef(obj: KObject, kinds: readonly string[]): Causes {
  const c: Causes = [];
  const ref = obj.roleRef as { apiGroup?: unknown; kind?: unknown; name?: unknown } | undefined;
  if (!ref) {
    add(c, 'roleRef', 'Required value', 'FieldValueRequired');
    return c;
  }
  if (!kinds.includes(ref.kind as string)) add(c, 'roleRef.kind', `Unsupported value: ${JSON.stringify(ref.kind)}: supported values: ${kinds.map((k) => `"${k}"`).join(', ')}`, 'FieldValueNotSupported');
  if (ref.apiGroup !== 'rbac.authorization.k8s.io') add(c, 'roleRef.apiGroup', `Unsupported value: ${JSON.stringify(ref.apiGroup)}: supported values: "rbac.authorization.k8s.io"`, 'FieldValueNotSupported');
  if (typeof ref.name !== 'string' || ref.name === '') add(c, 'roleRef.name', 'Required value', 'FieldValueRequired');
  return c;
}

export const roles: Strategy = { columns: PRINTERS.roles };
export const clusterroles: Strategy = { columns: PRINTERS.clusterroles };
export const rolebindings: Strategy = { validate: (obj) => validateRoleRef(obj, ['Role', 'ClusterRole']), columns: PRINTERS.rolebindings };
export const clusterrolebindings: Strategy = { validate: (obj) => validateRoleRef(obj, ['ClusterRole']), columns: PRINTERS.clusterrolebindings };
