/**
 * What the websocket load processes (subscriptions.ts, inbox.ts, rooms.ts) share: HTTP calls as a user, following a
 * chat, /proc readings.
 */
import { type Client, createClient } from 'graphql-ws';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { ADDED_SHAPE, type GraphQLBody, mismatch, OPERATIONS } from './workloads';

export async function graphql(url: string, authorization: string, body: GraphQLBody): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) });
  const json = (await response.json()) as { data?: any; errors?: unknown[] };
  if (json.errors?.length || !json.data) throw new Error(`HTTP ${response.status}: ${JSON.stringify(json.errors)}`);
  return json.data;
}

/** A user's post (no sender: the token decides it). */
export const post = (url: string, authorization: string, chatId: string, text: string) =>
  graphql(url, authorization, { operationName: 'PostMessage', query: OPERATIONS.PostMessage, variables: { input: { chatId, text } } });

export interface Follower {
  client: Client;
  /** Receipts of measured messages: message index and seq, in arrival order. */
  received: { index: number; seq: number }[];
  live: boolean;
  /** What the server answered instead of events (e.g. a schema without Subscription.messageAdded). */
  failure?: string;
  lastSeq: number;
  outOfOrder: number;
}

export const now = () => performance.now();

/**
 * Follows `chatId` (messageAdded) as the token's user and resolves once the server acknowledged the socket; errors of the
 * subscription land in `failure`. Messages posted as `m-<index>` are measured: their receipt and latency from
 * `sentAt[index]`.
 */
export function follow(
  wsUrl: string,
  authorization: string,
  chatId: string,
  sentAt: number[],
  latencies: number[],
  problems: { wrongShape: number },
): Promise<Follower> {
  return new Promise((resolve, reject) => {
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: { authorization } });
    const subscriber: Follower = { client, received: [], live: false, lastSeq: 0, outOfOrder: 0 };
    client.on('connected', () => resolve(subscriber));
    client.subscribe<{ messageAdded: { seq: number; text: string } }>(
      { query: OPERATIONS.MessageAdded, variables: { chatId } },
      {
        next: ({ data, errors }) => {
          const at = now();
          if (errors?.length) {
            subscriber.failure = errors.map((e) => e.message).join('; ');
            return;
          }
          if (mismatch(data, { messageAdded: ADDED_SHAPE })) {
            problems.wrongShape += 1;
            return;
          }
          const { seq, text } = data!.messageAdded;
          if (seq <= subscriber.lastSeq) subscriber.outOfOrder += 1;
          subscriber.lastSeq = Math.max(subscriber.lastSeq, seq);
          subscriber.live = true;
          const index = Number(/^m-(\d+)$/.exec(text)?.[1] ?? -1);
          if (index < 0) return; // a warm-up message
          subscriber.received.push({ index, seq });
          latencies.push(at - sentAt[index]);
        },
        error: (error) => {
          subscriber.failure = Array.isArray(error) ? error.map((e) => e.message).join('; ') : String((error as Error)?.message ?? error);
          reject(new Error(subscriber.failure));
        },
        complete: () => undefined,
      },
    );
  });
}

export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

export function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : 0;
}

/** User + system CPU time of a process so far, in ms (Linux: /proc/<pid>/stat, in clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
