/**
 * ServiceAccount tokens as Kubernetes 1.24+ issues them (pkg/serviceaccount/claims.go, jwt.go): RS256 JWTs
 * signed with the cluster's service-account key, carrying iss/sub/aud/exp/iat/nbf/jti and the private
 * `kubernetes.io` claim (namespace, serviceaccount {name, uid}, pod {name, uid} or secret / node).
 * A token is valid only while its ServiceAccount — and the object it is bound to — still exist with
 * the same uid, so deleting the pod or the account revokes it.
 */
import { createHash, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT, decodeProtectedHeader, exportJWK, generateKeyPair, importPKCS8, importSPKI, jwtVerify, errors as joseErrors, type CryptoKey, type JWK } from 'jose';
import type { KObject } from '../../api/types.js';
import { serviceAccountUser, type UserInfo } from './user.js';

/** The longest bearer token looked at: longer ones are refused unread (a JWT of this lab is ~1 KiB). */
export const MAX_TOKEN_BYTES = 16 * 1024;

export interface BoundRef {
  kind: 'Pod' | 'Secret' | 'Node';
  name: string;
  uid: string;
}

/** The `kubernetes.io` private claim. */
interface KubernetesClaim {
  namespace?: string;
  serviceaccount?: { name?: string; uid?: string };
  pod?: { name?: string; uid?: string };
  secret?: { name?: string; uid?: string };
  node?: { name?: string; uid?: string };
}

/** Where the validator reads the objects a token is bound to (watch cache first, then etcd). */
export interface TokenObjectSource {
  get(resource: string, namespace: string, name: string): Promise<KObject | undefined>;
}

/** A token that failed: the reason is logged/returned in TokenReview, the request gets a plain 401. */
export class InvalidTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

export interface IssuerOptions {
  issuer: string;
  /** Audiences the apiserver accepts (--api-audiences); default [issuer]. */
  audiences: string[];
  /** PEM PKCS#8 private key file (--service-account-key-file); a key is generated in memory when absent. */
  keyFile?: string;
}

export class ServiceAccountTokens {
  private constructor(
    private readonly privateKey: CryptoKey | KeyObjectLike,
    private readonly publicKey: CryptoKey | KeyObjectLike,
    readonly keyId: string,
    readonly issuer: string,
    readonly audiences: readonly string[],
  ) {}

  static async create(opts: IssuerOptions): Promise<ServiceAccountTokens> {
    let priv: CryptoKey | KeyObjectLike;
    let pub: CryptoKey | KeyObjectLike;
    if (opts.keyFile) {
      const pem = readFileSync(opts.keyFile, 'utf8');
      priv = await importPKCS8(pem, 'RS256', { extractable: true });
      const spki = createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
      pub = await importSPKI(spki, 'RS256', { extractable: true });
    } else {
      const pair = await generateKeyPair('RS256', { extractable: true });
      priv = pair.privateKey;
      pub = pair.publicKey;
    }
    const jwk = await exportJWK(pub);
    // Kubernetes' key id: a hash of the public key, so every apiserver sharing the key agrees.
    const kid = createHash('sha256').update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n })).digest('base64url');
    return new ServiceAccountTokens(priv, pub, kid, opts.issuer, opts.audiences.length ? opts.audiences : [opts.issuer]);
  }

  async publicJwk(): Promise<JWK> {
    return { ...(await exportJWK(this.publicKey as CryptoKey)), kid: this.keyId, use: 'sig', alg: 'RS256' };
  }

  /** Signs a token for the ServiceAccount `sa`, bound to `bound` when given. */
  async issue(sa: KObject, audiences: readonly string[], expirationSeconds: number, bound?: BoundRef, now = new Date()): Promise<{ token: string; expirationTimestamp: string }> {
    const ns = sa.metadata?.namespace ?? '';
    const name = sa.metadata?.name ?? '';
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + expirationSeconds;
    const claim: KubernetesClaim = { namespace: ns, serviceaccount: { name, uid: sa.metadata?.uid ?? '' } };
    if (bound?.kind === 'Pod') claim.pod = { name: bound.name, uid: bound.uid };
    if (bound?.kind === 'Secret') claim.secret = { name: bound.name, uid: bound.uid };
    if (bound?.kind === 'Node') claim.node = { name: bound.name, uid: bound.uid };
    const token = await new SignJWT({ 'kubernetes.io': claim as Record<string, unknown> })
      .setProtectedHeader({ alg: 'RS256', kid: this.keyId })
      .setIssuer(this.issuer)
      .setSubject(`system:serviceaccount:${ns}:${name}`)
      .setAudience([...audiences])
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.privateKey as CryptoKey);
    return { token, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  }

  /** Whether `token` looks like one of ours (a JWT whose issuer is this issuer), without verifying it. */
  isOurs(token: string): boolean {
    if (token.length > MAX_TOKEN_BYTES || token.split('.').length !== 3) return false;
    try {
      decodeProtectedHeader(token);
      const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { iss?: unknown };
      return payload.iss === this.issuer;
    } catch {
      return false;
    }
  }

  /**
   * Verifies signature, issuer, audience (one of `audiences`), expiry and the bound objects; answers
   * the user and the audiences the token was accepted for. Throws InvalidTokenError.
   */
  async authenticate(token: string, objects: TokenObjectSource, audiences: readonly string[] = this.audiences): Promise<{ user: UserInfo; audiences: string[] }> {
    if (token.length > MAX_TOKEN_BYTES) throw new InvalidTokenError(`token is longer than ${MAX_TOKEN_BYTES} bytes`);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.publicKey as CryptoKey, { issuer: this.issuer, audience: [...audiences], algorithms: ['RS256'], clockTolerance: 0 }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new InvalidTokenError('service account token has expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw new InvalidTokenError(`token ${err.claim === 'aud' ? 'audiences' : err.claim} is invalid for the current server`);
      throw new InvalidTokenError(`invalid bearer token: ${(err as Error).message}`);
    }
    const k = payload['kubernetes.io'] as KubernetesClaim | undefined;
    const ns = k?.namespace;
    const saName = k?.serviceaccount?.name;
    if (!k || typeof ns !== 'string' || typeof saName !== 'string' || !ns || !saName) throw new InvalidTokenError('token has no kubernetes.io namespace/serviceaccount claim');
    if (payload.sub !== `system:serviceaccount:${ns}:${saName}`) throw new InvalidTokenError('token subject does not match its service account claim');
    const sa = await objects.get('serviceaccounts', ns, saName);
    if (!sa) throw new InvalidTokenError(`service account ${ns}/${saName} has been deleted`);
    if (k.serviceaccount?.uid && sa.metadata?.uid !== k.serviceaccount.uid) throw new InvalidTokenError(`service account UID (${k.serviceaccount.uid}) does not match claim (${sa.metadata?.uid ?? ''})`);
    if (sa.metadata?.deletionTimestamp) throw new InvalidTokenError(`service account ${ns}/${saName} is being deleted`);
    const extra: Record<string, string[]> = {};
    for (const [kind, resource] of [
      ['pod', 'pods'],
      ['secret', 'secrets'],
    ] as const) {
      const ref = k[kind];
      if (!ref) continue;
      const obj = ref.name ? await objects.get(resource, ns, ref.name) : undefined;
      if (!obj) throw new InvalidTokenError(`${kind} ${ns}/${ref.name ?? ''} has been deleted`);
      if (ref.uid && obj.metadata?.uid !== ref.uid) throw new InvalidTokenError(`${kind} UID (${obj.metadata?.uid ?? ''}) does not match claim (${ref.uid})`);
      if (obj.metadata?.deletionTimestamp) throw new InvalidTokenError(`${kind} ${ns}/${ref.name ?? ''} is being deleted`);
      extra[`authentication.kubernetes.io/${kind}-name`] = [ref.name ?? ''];
      extra[`authentication.kubernetes.io/${kind}-uid`] = [ref.uid ?? ''];
    }
    if (k.node) {
      const node = k.node.name ? await objects.get('nodes', '', k.node.name) : undefined;
      if (!node || (k.node.uid && node.metadata?.uid !== k.node.uid)) throw new InvalidTokenError(`node ${k.node.name ?? ''} has been deleted`);
      extra['authentication.kubernetes.io/node-name'] = [k.node.name ?? ''];
      extra['authentication.kubernetes.io/node-uid'] = [k.node.uid ?? ''];
    }
    if (typeof payload.jti === 'string') extra['authentication.kubernetes.io/credential-id'] = [`JTI=${payload.jti}`];
    const tokenAud = Array.isArray(payload.aud) ? (payload.aud as string[]) : typeof payload.aud === 'string' ? [payload.aud] : [];
    return {
      user: serviceAccountUser(ns, saName, sa.metadata?.uid, Object.keys(extra).length ? extra : undefined),
      audiences: audiences.filter((a) => tokenAud.includes(a)),
    };
  }
}

type KeyObjectLike = KeyObject;
