/**
 * The apiserver's security: who a request is (authentication), whether it may (authorization), and the
 * admission plugins and reviews that depend on both. One instance serves the REST facade and the gRPC
 * API, so both faces decide in one code path.
 */
import type { Logger } from 'pino';
import { ApiError, invalid, notFound } from '../../api/errors.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { KObject } from '../../api/types.js';
import type { Registry } from '../registry.js';
import { nodeRestriction, podSecurity, rbacEscalation, serviceAccountAdmission, type AdmissionPlugin, type AdmissionPluginName } from './admission.js';
import { forbidden, type Attributes } from './attributes.js';
import { Authorizer, type AuthorizationMode } from './authorizer.js';
import type { Level } from '../../api/podsecurity.js';
import { answerReview } from './reviews.js';
import { InvalidTokenError, MAX_TOKEN_BYTES, ServiceAccountTokens, type BoundRef, type TokenObjectSource } from './serviceaccount.js';
import { loadTokenFile } from './tokenfile.js';
import { ANONYMOUS_USER, LAB_ADMIN, type UserInfo } from './user.js';
import { AuthenticationError, AuthenticatorChain, x509Authenticator, type Authenticator } from './authn.js';

export { forbidden, forbiddenMessage, restVerb, type Attributes } from './attributes.js';
export type { UserInfo } from './user.js';

export interface SecurityConfig {
  authorizationModes: AuthorizationMode[];
  /** Who a plain-HTTP request without credentials is: `anonymous` (Kubernetes) or `admin` (an --insecure throwaway apiserver). */
  anonymousUser: 'admin' | 'anonymous';
  tokenAuthFile?: string;
  serviceAccountKeyFile?: string;
  serviceAccountIssuer: string;
  apiAudiences: string[];
  /** The admission plugins that run (NodeRestriction and PodSecurity always; ServiceAccount unless disabled). */
  admissionPlugins: AdmissionPluginName[];
  podSecurityDefaults: { enforce: Level; warn: Level; audit: Level };
  /** PEM bundle published as the kube-root-ca.crt ConfigMap (the cluster CA, from the PKI). */
  rootCaFile?: string;
}

const UNAUTHORIZED = (): ApiError => new ApiError('Unauthorized', 'Unauthorized');

/** The token TTLs TokenRequest accepts (ValidateTokenRequest). */
const MIN_TOKEN_SECONDS = 600;
const MAX_TOKEN_SECONDS = 2 ** 32;

export class Security {
  readonly authorizer: Authorizer;
  private readonly staticTokens: Map<string, UserInfo>;
  private readonly anonymous: UserInfo;

  private constructor(
    readonly cfg: SecurityConfig,
    private readonly registry: Registry,
    readonly tokens: ServiceAccountTokens,
    private readonly log: Logger,
  ) {
    this.authorizer = new Authorizer(cfg.authorizationModes, {
      items: (resource) => registry.caches.get(resource)?.items ?? new Map<string, KObject>(),
      revision: (resource) => registry.caches.get(resource)?.revision ?? 0,
    });
    this.staticTokens = cfg.tokenAuthFile ? loadTokenFile(cfg.tokenAuthFile) : new Map();
    this.anonymous = cfg.anonymousUser === 'admin' ? LAB_ADMIN : ANONYMOUS_USER;
  }

  static async create(cfg: SecurityConfig, registry: Registry, log: Logger): Promise<Security> {
    const tokens = await ServiceAccountTokens.create({ issuer: cfg.serviceAccountIssuer, audiences: cfg.apiAudiences, keyFile: cfg.serviceAccountKeyFile });
    const s = new Security(cfg, registry, tokens, log);
    const plugins: AdmissionPlugin[] = [];
    if (cfg.admissionPlugins.includes('ServiceAccount')) plugins.push(serviceAccountAdmission);
    plugins.push(nodeRestriction, podSecurity(cfg.podSecurityDefaults), rbacEscalation(s.authorizer));
    registry.admission = plugins;
    registry.tokenIssuer = (ns, name, body) => s.tokenRequest(ns, name, body);
    return s;
  }

  /** Reads what a token is bound to: the watch cache first, etcd when the cache has not seen it yet. */
  private readonly objects: TokenObjectSource = {
    get: async (resource, namespace, name) => {
      const key = namespace ? `${namespace}/${name}` : name;
      const cached = this.registry.caches.get(resource)?.items.get(key);
      if (cached) return cached;
      try {
        return await this.registry.get(resource, namespace, name);
      } catch (err) {
        if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
        throw err;
      }
    },
  };

  /** Set by useClientCertificates (an apiserver serving TLS): the whole authenticator chain. */
  private chain?: AuthenticatorChain;

  /**
   * Turns on client-certificate authentication (the apiserver serves TLS): certificates of `clientCaPem`
   * first (CN = user, O = groups), then bearer tokens, then `extra`; no credentials is system:anonymous
   * (Kubernetes' --anonymous-auth), whatever --anonymous-user says; bad credentials are a 401.
   */
  useClientCertificates(clientCaPem: Buffer, extra: Authenticator[] = []): void {
    const bearer: Authenticator = async (req) => {
      try {
        return await this.authenticateBearer(req.authorization);
      } catch (err) {
        if (err instanceof InvalidTokenError) throw new AuthenticationError(err.message);
        throw err;
      }
    };
    this.chain = new AuthenticatorChain([x509Authenticator(clientCaPem), bearer, ...extra], {
      onRefused: (reason) => this.log.debug({ reason }, 'credentials refused'),
    });
  }

  /**
   * The user of a request from its TLS client certificate (with useClientCertificates) and its
   * Authorization header: a bearer token from --token-auth-file or a ServiceAccount JWT; no credentials →
   * system:anonymous with TLS, else the configured anonymous user; bad credentials → 401.
   */
  async authenticate(authorization: string | undefined, peerCertificate?: Buffer): Promise<UserInfo> {
    if (this.chain) return this.chain.authenticate({ authorization, peerCertificate });
    try {
      return (await this.authenticateBearer(authorization)) ?? this.anonymous;
    } catch (err) {
      if (err instanceof InvalidTokenError) {
        this.log.debug({ reason: err.message }, 'bearer token refused');
        throw UNAUTHORIZED();
      }
      throw err;
    }
  }

  /**
   * The bearer-token authenticators (static token file, ServiceAccount JWTs) as one link of an
   * authenticator chain: undefined when the header carries no bearer token (ask the next), the user for
   * a good one; throws InvalidTokenError for a bad one (the chain answers 401).
   */
  async authenticateBearer(authorization: string | undefined): Promise<UserInfo | undefined> {
    if (!authorization) return undefined;
    // As Kubernetes' bearer-token authenticator: only "Bearer <token>" is its business.
    const sp = authorization.indexOf(' ');
    if (sp < 0 || authorization.slice(0, sp).toLowerCase() !== 'bearer') return undefined;
    const token = authorization.slice(sp + 1).trim();
    if (!token) return undefined;
    if (token.length > MAX_TOKEN_BYTES) throw new InvalidTokenError(`token is longer than ${MAX_TOKEN_BYTES} bytes`);
    const user = this.staticTokens.get(token);
    if (user) return user;
    return (await this.authenticateServiceAccount(token, this.tokens.audiences)).user;
  }

  private async authenticateServiceAccount(token: string, audiences: readonly string[]): Promise<{ user: UserInfo; audiences: string[] }> {
    if (!this.tokens.isOurs(token)) throw new InvalidTokenError('invalid bearer token');
    return this.tokens.authenticate(token, this.objects, audiences);
  }

  /** Throws the Kubernetes 403 unless the authorizer allows `a`. */
  authorize(a: Attributes): void {
    if (this.authorizer.alwaysAllow) return;
    const r = this.authorizer.authorize(a);
    if (r.decision !== 'Allow') throw forbidden(a, r.reason);
  }

  review(info: ResourceInfo, namespace: string, body: unknown, user: UserInfo): Promise<KObject> {
    return answerReview(info, namespace, body, user, this.authorizer, {
      review: async (token, audiences) => {
        if (token.length > MAX_TOKEN_BYTES) return { error: `token is longer than ${MAX_TOKEN_BYTES} bytes` };
        const st = this.staticTokens.get(token);
        if (st) return { user: st, audiences: [...(audiences ?? this.tokens.audiences)] };
        try {
          return await this.authenticateServiceAccount(token, audiences?.length ? audiences : this.tokens.audiences);
        } catch (err) {
          if (err instanceof InvalidTokenError) return { error: err.message };
          throw err;
        }
      },
    });
  }

  /** The TokenRequest API (serviceaccounts/<name>/token), validated as ValidateTokenRequest. */
  async tokenRequest(namespace: string, name: string, body: unknown): Promise<KObject> {
    const kind = 'TokenRequest';
    const group = 'authentication.k8s.io';
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid(kind, name, [{ field: 'spec', message: 'Required value: the body must be a TokenRequest object', reason: 'FieldValueRequired' }], group);
    const spec = ((body as KObject).spec ?? {}) as { audiences?: unknown; expirationSeconds?: unknown; boundObjectRef?: unknown };
    const causes: { field: string; message: string; reason: string }[] = [];
    if (spec.audiences !== undefined && !(Array.isArray(spec.audiences) && spec.audiences.every((a) => typeof a === 'string' && a !== '')))
      causes.push({ field: 'spec.audiences', message: 'Invalid value: must be a list of non-empty strings', reason: 'FieldValueInvalid' });
    const exp = spec.expirationSeconds === undefined ? 3600 : spec.expirationSeconds;
    if (typeof exp !== 'number' || !Number.isInteger(exp)) causes.push({ field: 'spec.expirationSeconds', message: `Invalid value: ${JSON.stringify(exp)}: must be an integer`, reason: 'FieldValueInvalid' });
    else if (exp < MIN_TOKEN_SECONDS) causes.push({ field: 'spec.expirationSeconds', message: `Invalid value: ${exp}: may not specify a duration less than 10 minutes`, reason: 'FieldValueInvalid' });
    else if (exp > MAX_TOKEN_SECONDS) causes.push({ field: 'spec.expirationSeconds', message: `Invalid value: ${exp}: may not specify a duration larger than 2^32 seconds`, reason: 'FieldValueInvalid' });
    let bound: BoundRef | undefined;
    const ref = spec.boundObjectRef as { kind?: unknown; apiVersion?: unknown; name?: unknown; uid?: unknown } | undefined;
    if (ref !== undefined) {
      if (typeof ref !== 'object' || ref === null) causes.push({ field: 'spec.boundObjectRef', message: 'Invalid value: must be an object', reason: 'FieldValueInvalid' });
      else if (ref.kind !== 'Pod' && ref.kind !== 'Secret' && ref.kind !== 'Node')
        causes.push({ field: 'spec.boundObjectRef.kind', message: `Unsupported value: ${JSON.stringify(ref.kind)}: supported values: "Pod", "Secret", "Node"`, reason: 'FieldValueNotSupported' });
      else if (typeof ref.name !== 'string' || ref.name === '') causes.push({ field: 'spec.boundObjectRef.name', message: 'Required value', reason: 'FieldValueRequired' });
      else if (ref.uid !== undefined && typeof ref.uid !== 'string') causes.push({ field: 'spec.boundObjectRef.uid', message: 'Invalid value: must be a string', reason: 'FieldValueInvalid' });
    }
    if (causes.length) throw invalid(kind, name, causes, group);
    const sa = await this.objects.get('serviceaccounts', namespace, name);
    if (!sa) throw notFound('serviceaccounts', name);
    if (ref && typeof ref.name === 'string') {
      const resource = ref.kind === 'Pod' ? 'pods' : ref.kind === 'Secret' ? 'secrets' : 'nodes';
      const obj = await this.objects.get(resource, ref.kind === 'Node' ? '' : namespace, ref.name);
      if (!obj) throw notFound(resource, ref.name);
      if (typeof ref.uid === 'string' && ref.uid && ref.uid !== obj.metadata?.uid)
        throw new ApiError('Conflict', `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`, { name: ref.name, kind: resource });
      if (ref.kind === 'Pod' && ((obj.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName || 'default') !== name)
        throw new ApiError('BadRequest', `cannot issue token for pod "${ref.name}" bound to serviceaccount "${name}": the pod runs as serviceaccount "${(obj.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName ?? 'default'}"`);
      bound = { kind: ref.kind as BoundRef['kind'], name: ref.name, uid: obj.metadata?.uid ?? '' };
    }
    const audiences = (spec.audiences as string[] | undefined)?.length ? (spec.audiences as string[]) : [...this.tokens.audiences];
    const { token, expirationTimestamp } = await this.tokens.issue(sa, audiences, exp as number, bound);
    return {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name, namespace, creationTimestamp: null as unknown as string },
      spec: { audiences, expirationSeconds: exp, boundObjectRef: bound ? { kind: bound.kind, apiVersion: 'v1', name: bound.name, uid: bound.uid } : null },
      status: { token, expirationTimestamp },
    };
  }
}
