import { signToken } from '../src/auth/tokens';

/** The secret run.ts gives Parley; the load processes act as a service signed with it (the baseline ignores tokens). */
export const BENCH_JWT_SECRET = 'parley-bench-secret-not-for-production-0123';

export const benchAuthorization = async () =>
  `Bearer ${await signToken({ jwtSecret: BENCH_JWT_SECRET }, 'bench', { service: true, expiresIn: '1d' })}`;
