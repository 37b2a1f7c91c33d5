import { SignJWT } from 'jose';
import type { AuthConfig } from './authenticator';

export interface TokenOptions {
  service?: boolean;
  /** A jose time span ('2h', '30d', '90s') or seconds; one hour by default. */
  expiresIn?: string | number;
}

/** An HS256 token for `userId` signed with the configured secret (development, tests, `npm run token`). */
export function signToken(auth: AuthConfig, userId: string, options: TokenOptions = {}): Promise<string> {
  if (!auth.jwtSecret) throw new Error('Tokens can only be minted with AUTH_JWT_SECRET; with AUTH_JWKS_URL your identity provider issues them');
  const { service = false, expiresIn = '1h' } = options;
  const jwt = new SignJWT(service ? { role: 'service' } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(typeof expiresIn === 'number' ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn);
  if (auth.issuer) jwt.setIssuer(auth.issuer);
  if (auth.audience) jwt.setAudience(auth.audience);
  return jwt.sign(new TextEncoder().encode(auth.jwtSecret));
}
