import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { defaultToken } from './tokens';

export interface Frame {
  type: string;
  id?: string;
  payload?: unknown;
}

/**
 * A graphql-transport-ws socket driven frame by frame, for tests that send what the graphql-ws client never would
 * (a thousand subscribes at once, a subscribe completed before it started).
 */
export interface RawSocket {
  readonly socket: WebSocket;
  /** Every frame received, in order. */
  readonly frames: Frame[];
  send(frame: Frame): void;
  /** Resolves once the received frames satisfy `done`; rejects if the socket closes first. */
  until(done: (frames: readonly Frame[]) => boolean): Promise<void>;
  /** A ping answered: the server has handled every frame sent before it (and the work they started synchronously). */
  roundTrip(): Promise<void>;
  /** The close code and reason, once closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** Opens a socket, sends `connection_init` (with a service token) and resolves once it is acknowledged. */
export async function openRawSocket(wsUrl: string, headers: Record<string, string> = {}): Promise<RawSocket> {
  const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { headers });
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  let closedWith: { code: number; reason: string } | undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => {
      closedWith = { code, reason: String(reason) };
      resolve(closedWith);
      waiters.forEach((check) => check());
    }),
  );
  socket.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as Frame);
    waiters.forEach((check) => check());
  });
  const until = (done: (frames: readonly Frame[]) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (done(frames)) {
          waiters.delete(check);
          resolve();
        } else if (closedWith) {
          waiters.delete(check);
          reject(new Error(`socket closed (${closedWith.code} ${closedWith.reason}) after ${frames.length} frames`));
        }
      };
      waiters.add(check);
      check();
    });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const send = (frame: Frame) => socket.send(JSON.stringify(frame));
  send({ type: 'connection_init', payload: { authorization: `Bearer ${await defaultToken()}` } });
  await until((received) => received.some((frame) => frame.type === 'connection_ack'));
  let pings = 0;
  return {
    socket,
    frames,
    send,
    until,
    closed,
    roundTrip: () => {
      const pongsBefore = frames.filter((frame) => frame.type === 'pong').length;
      send({ type: 'ping', payload: { n: ++pings } });
      return until((received) => received.filter((frame) => frame.type === 'pong').length > pongsBefore);
    },
  };
}

/** The HTTP status of a websocket upgrade with these headers: 101 once the handshake completed, else the refusal's. */
export function upgradeStatus(wsUrl: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { headers });
    socket.once('unexpected-response', (_req, res: IncomingMessage) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      socket.terminate();
    });
    socket.once('open', () => {
      resolve(101);
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  });
}
