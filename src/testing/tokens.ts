import type { AuthConfig } from '../auth/authenticator';
import { signToken, type TokenOptions } from '../auth/tokens';

/** The secret of every test app (and of instances the tests start as processes) unless a test configures another. */
export const TEST_JWT_SECRET = 'parley-test-secret-0123456789abcdef';

/** A token for `userId` signed with the test secret (or with `auth`, for an app configured otherwise). */
export function token(userId: string, options: TokenOptions = {}, auth: AuthConfig = { jwtSecret: TEST_JWT_SECRET }): Promise<string> {
  return signToken(auth, userId, options);
}

let serviceToken: Promise<string> | undefined;
/** What requests and sockets send unless told otherwise: a service may do everything the API allowed before tokens. */
export const defaultToken = () => (serviceToken ??= token('test-service', { service: true, expiresIn: '1d' }));
