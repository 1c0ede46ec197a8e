/**
 * Authentication: every request (REST and gRPC) resolves to a UserInfo through one chain, as
 * kube-apiserver's union authenticator does: the first authenticator that recognises the credentials
 * wins, every authenticated user gets `system:authenticated`, a request with no credentials at all is
 * `system:anonymous` in `system:unauthenticated`, and a request whose credentials are bad (a client
 * certificate of another CA, an expired token) is refused with 401 — never treated as anonymous.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { ApiError } from '../../api/errors.js';
import { ALL_AUTHENTICATED, ANONYMOUS, ANONYMOUS_USER, type UserInfo } from './user.js';

export { ANONYMOUS_USER, type UserInfo } from './user.js';

/** What an authenticator sees of a request; the same for REST and gRPC. */
export interface AuthnRequest {
  /** DER of the TLS peer's leaf certificate, when it sent one. */
  peerCertificate?: Buffer;
  /** The `Authorization` header (REST) or `authorization` metadata (gRPC), when present. */
  authorization?: string;
}

/**
 * One way to authenticate. Returns undefined when the request carries none of its credentials ("ask the
 * next one"), the user when they are good, and throws AuthenticationError when they are present but bad.
 */
export type Authenticator = (req: AuthnRequest) => Promise<UserInfo | undefined> | UserInfo | undefined;

/** Thrown when a request's credentials are present but not valid; the message says why (logged, not sent). */
export class AuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

export const isAnonymous = (u: UserInfo): boolean => u.name === ANONYMOUS && !u.groups.includes(ALL_AUTHENTICATED);

/** The 401 every client gets for missing or bad credentials (kube-apiserver's exact Status). */
export const unauthorized = (): ApiError => new ApiError('Unauthorized', 'Unauthorized');

export interface AuthenticatorChainOptions {
  /** Whether a request without credentials is system:anonymous (kube-apiserver's --anonymous-auth, default true). */
  anonymous?: boolean;
  /** Called with the reason when credentials are refused (the client only sees "Unauthorized"). */
  onRefused?: (reason: string) => void;
}

export class AuthenticatorChain {
  private readonly anonymous: boolean;

  constructor(
    private readonly authenticators: Authenticator[],
    private readonly opts: AuthenticatorChainOptions = {},
  ) {
    this.anonymous = opts.anonymous ?? true;
  }

  /** The request's user; throws ApiError Unauthorized (401) for bad credentials, or none when anonymous is off. */
  async authenticate(req: AuthnRequest): Promise<UserInfo> {
    const errors: string[] = [];
    for (const a of this.authenticators) {
      try {
        const user = await a(req);
        if (user) return withAuthenticatedGroup(user);
      } catch (err) {
        if (!(err instanceof AuthenticationError)) throw err;
        errors.push(err.message);
      }
    }
    if (errors.length > 0 || !this.anonymous) {
      this.opts.onRefused?.(errors.join('; ') || 'no credentials and anonymous access is off');
      throw unauthorized();
    }
    return ANONYMOUS_USER;
  }
}

/** Kubernetes' AuthenticatedGroupAdder: every authenticated user is in system:authenticated. */
function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.includes(ALL_AUTHENTICATED)) return user;
  return { ...user, groups: [...user.groups, ALL_AUTHENTICATED] };
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
/** Verified certificates kept (a connection's certificate is checked once, not on every call). */
const CACHE_LIMIT = 4096;

/**
 * kube-apiserver's `--client-ca-file` authenticator: a client certificate signed by `caPem`, valid now and
 * usable for clientAuth names the user by its subject: CN = user name, O = groups.
 */
export function x509Authenticator(caPem: string | Buffer, now: () => number = Date.now): Authenticator {
  const ca = new X509Certificate(caPem);
  const caKey: KeyObject = ca.publicKey;
  const cache = new Map<string, { user: UserInfo; notAfter: number; notBefore: number }>();
  return (req) => {
    const der = req.peerCertificate;
    if (!der || der.length === 0) return undefined;
    const key = der.toString('base64');
    const t = now();
    const hit = cache.get(key);
    if (hit) {
      if (t < hit.notBefore || t > hit.notAfter) throw new AuthenticationError(`x509: certificate of "${hit.user.name}" has expired or is not yet valid`);
      return hit.user;
    }
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(der);
    } catch (err) {
      throw new AuthenticationError(`x509: the client certificate does not parse: ${(err as Error).message}`);
    }
    if (!cert.checkIssued(ca) || !cert.verify(caKey)) throw new AuthenticationError(`x509: certificate signed by unknown authority (subject ${cert.subject.replace(/\n/g, ', ')})`);
    const notBefore = Date.parse(cert.validFrom);
    const notAfter = Date.parse(cert.validTo);
    if (t < notBefore || t > notAfter) throw new AuthenticationError(`x509: certificate has expired or is not yet valid: valid ${cert.validFrom} – ${cert.validTo}`);
    const usages = cert.keyUsage;
    if (usages && !usages.includes(CLIENT_AUTH)) throw new AuthenticationError('x509: certificate specifies an incompatible key usage (no clientAuth)');
    const subject = cert.toLegacyObject().subject as unknown as Record<string, string | string[] | undefined>;
    const cn = subject.CN;
    const name = Array.isArray(cn) ? cn[0] : cn;
    if (!name) throw new AuthenticationError('x509: the client certificate has no common name (CN), which names the user');
    const o = subject.O;
    const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
    const user: UserInfo = { name, groups };
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, { user, notAfter, notBefore });
    return user;
  };
}

/** The paths kube-apiserver's `system:public-info-viewer` role opens to everyone, anonymous included. */
const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);

export function isPublicInfoPath(path: string): boolean {
  return PUBLIC_PATHS.has(path) || path.startsWith('/healthz/') || path.startsWith('/livez/') || path.startsWith('/readyz/');
}
