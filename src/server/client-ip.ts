import proxyAddr from '@fastify/proxy-addr';
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config';

/** Whether the hop at `address` (0: the peer of the socket) may say who it forwards for. */
export type TrustProxy = (address: string, hop: number) => boolean;

/**
 * Fastify's `trustProxy` for TRUST_PROXY. With it (and the same function in clientIp below), HTTP requests and
 * websocket upgrades take the client's address from one rule: the socket's peer, or with trusted proxies the nearest
 * X-Forwarded-For entry that is not one of them.
 */
export function trustProxyOf(trust: Config['trustProxy']): TrustProxy {
  return typeof trust === 'boolean' ? () => trust : proxyAddr.compile([...trust]);
}

/** The client's address of a request, as Fastify's `request.ip` with the same `trust`. */
export function clientIp(request: IncomingMessage, trust: TrustProxy): string {
  return proxyAddr(request, trust);
}
