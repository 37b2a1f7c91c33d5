/** What the websocket load processes (subscriptions.ts, inbox.ts) share: HTTP calls as a user, /proc readings. */
import { readFileSync } from 'node:fs';
import { type GraphQLBody, OPERATIONS } from './workloads';

export async function graphql(url: string, authorization: string, body: GraphQLBody): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) });
  const json = (await response.json()) as { data?: any; errors?: unknown[] };
  if (json.errors?.length || !json.data) throw new Error(`HTTP ${response.status}: ${JSON.stringify(json.errors)}`);
  return json.data;
}

/** A user's post (no sender: the token decides it). */
export const post = (url: string, authorization: string, chatId: string, text: string) =>
  graphql(url, authorization, { operationName: 'PostMessage', query: OPERATIONS.PostMessage, variables: { input: { chatId, text } } });

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
