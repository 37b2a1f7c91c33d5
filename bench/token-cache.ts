import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authenticator } from '../src/auth/authenticator';
import { signToken } from '../src/auth/tokens';
import { perCall } from './per-call';

/**
 * What verifying a bearer token costs per request, without and with the cache of verified tokens:
 * `npx ts-node --transpile-only bench/token-cache.ts`.
 */
async function main() {
  const secret = { jwtSecret: 'x'.repeat(32) };
  const tokens = await Promise.all(Array.from({ length: 20_000 }, (_, i) => signToken(secret, `user-${i}`)));
  const hs = new Authenticator(secret);
  await perCall('HS256, every call a new token (verify)', 20_000, (i) => hs.authenticate(`Bearer ${tokens[i % tokens.length]}`));
  const cached = new Authenticator(secret);
  await perCall('HS256, the same token again (cache hit)', 200_000, () => cached.authenticate(`Bearer ${tokens[0]}`));

  const pair = await generateKeyPair('ES256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k', alg: 'ES256' }] });
  const server = createServer((_req, res) => res.end(jwks)).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const es = new Authenticator({ jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
  const esTokens = await Promise.all(
    Array.from({ length: 5_000 }, (_, i) =>
      new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setSubject(`user-${i}`).setExpirationTime('1h').sign(pair.privateKey),
    ),
  );
  await perCall('ES256 via JWKS, every call a new token (verify)', 4_000, (i) => es.authenticate(`Bearer ${esTokens[i % esTokens.length]}`));
  await perCall('ES256 via JWKS, the same token again (cache hit)', 200_000, () => es.authenticate(`Bearer ${esTokens[0]}`));
  server.close();
}

void main();
