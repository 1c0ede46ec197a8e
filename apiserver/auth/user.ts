/** Who a request is (Kubernetes' user.Info) and the well-known users and groups. */
export interface UserInfo {
  readonly name: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export const SYSTEM_MASTERS = 'system:masters';
export const ALL_AUTHENTICATED = 'system:authenticated';
export const ALL_UNAUTHENTICATED = 'system:unauthenticated';
export const NODES_GROUP = 'system:nodes';
export const ANONYMOUS = 'system:anonymous';
export const SERVICEACCOUNT_PREFIX = 'system:serviceaccount:';
export const SERVICEACCOUNTS_GROUP = 'system:serviceaccounts';

/** Today's identity of a request without credentials (before TLS): the lab's admin. */
export const LAB_ADMIN: UserInfo = { name: 'kubelab-admin', groups: [SYSTEM_MASTERS, ALL_AUTHENTICATED] };
export const ANONYMOUS_USER: UserInfo = { name: ANONYMOUS, groups: [ALL_UNAUTHENTICATED] };

/** `system:serviceaccount:<ns>:<name>` → [ns, name]; undefined for any other user. */
export function serviceAccountOf(username: string): [string, string] | undefined {
  if (!username.startsWith(SERVICEACCOUNT_PREFIX)) return undefined;
  const parts = username.slice(SERVICEACCOUNT_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return [parts[0], parts[1]];
}

export function serviceAccountUser(namespace: string, name: string, uid?: string, extra?: Record<string, string[]>): UserInfo {
  return {
    name: `${SERVICEACCOUNT_PREFIX}${namespace}:${name}`,
    ...(uid ? { uid } : {}),
    groups: [SERVICEACCOUNTS_GROUP, `${SERVICEACCOUNTS_GROUP}:${namespace}`, ALL_AUTHENTICATED],
    ...(extra ? { extra } : {}),
  };
}

/** The node name of a `system:node:<name>` user in `system:nodes`; undefined otherwise. */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP) || !user.name.startsWith('system:node:')) return undefined;
  const name = user.name.slice('system:node:'.length);
  return name || undefined;
}
