import { createRemoteJWKSet, type JWTPayload, jwtVerify, type JWTVerifyOptions } from 'jose';
import { DomainError } from '../errors';
import type { Viewer } from './viewer';

/** One of jwtSecret (HS256, at least 32 bytes) or jwksUrl (an identity provider's key set). */
export interface AuthConfig {
  readonly jwtSecret?: string;
  readonly jwksUrl?: string;
  readonly issuer?: string;
  readonly audience?: string;
}

/** A verified token: who it is, and until when (ms since the epoch). */
export interface Identity {
  readonly viewer: Viewer;
  readonly expiresAt: number;
}

const SECRET_ALGORITHMS = ['HS256'];
const KEY_SET_ALGORITHMS = ['RS256', 'ES256', 'EdDSA', 'PS256'];
export const MAX_USER_ID_LENGTH = 100;
/** Verified tokens kept; an entry never outlives its token's exp. */
const TOKEN_CACHE_SIZE = 10_000;

export const missingToken = () => new DomainError('UNAUTHENTICATED', 'missing token');
export const invalidToken = () => new DomainError('UNAUTHENTICATED', 'invalid or expired token');

/**
 * Verifies `Authorization: Bearer <jwt>` values with jose. The reason a token is refused (forged, expired, wrong
 * issuer) is never told to the client. Verified tokens are cached by their exact text, so a client that sends the
 * same token again pays a map lookup instead of a signature check.
 */
export class Authenticator {
  private readonly verifyJwt: (token: string) => Promise<{ payload: JWTPayload }>;
  private readonly verified = new Map<string, Identity>();

  constructor(config: AuthConfig) {
    const options: JWTVerifyOptions = { issuer: config.issuer, audience: config.audience, requiredClaims: ['exp', 'sub'] };
    if (config.jwtSecret) {
      const secret = new TextEncoder().encode(config.jwtSecret);
      this.verifyJwt = (token) => jwtVerify(token, secret, { ...options, algorithms: SECRET_ALGORITHMS });
    } else if (config.jwksUrl) {
      const keySet = createRemoteJWKSet(new URL(config.jwksUrl));
      this.verifyJwt = (token) => jwtVerify(token, keySet, { ...options, algorithms: KEY_SET_ALGORITHMS });
    } else {
      throw new Error('Set AUTH_JWT_SECRET or AUTH_JWKS_URL to verify bearer tokens');
    }
  }

  /** The identity of an `Authorization` header value; UNAUTHENTICATED when it is missing or not a valid token. */
  async authenticate(authorization: string | undefined): Promise<Identity> {
    if (!authorization) throw missingToken();
    const token = /^Bearer +([\w.~+/-]+=*) *$/i.exec(authorization)?.[1];
    if (!token) throw invalidToken();
    const cached = this.verified.get(token);
    if (cached && cached.expiresAt > Date.now()) return cached;
    this.verified.delete(token);
    const identity = await this.verify(token);
    if (this.verified.size >= TOKEN_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, identity);
    return identity;
  }

  private async verify(token: string): Promise<Identity> {
    let payload: JWTPayload;
    try {
      ({ payload } = await this.verifyJwt(token));
    } catch {
      throw invalidToken();
    }
    const { sub, exp, role } = payload;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_USER_ID_LENGTH) throw invalidToken();
    return { viewer: { userId: sub, service: role === 'service' }, expiresAt: exp! * 1000 };
  }
}
