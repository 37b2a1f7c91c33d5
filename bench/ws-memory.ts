/**
 * Memory held by one socket that opens and ends many subscriptions (issue 7, item 7). Starts the app in this
 * process against a fresh database on DATABASE_URL's server, opens one raw graphql-transport-ws socket, sends N
 * `subscribe` frames for `messageAdded`, then N `complete` frames, and prints heap and RSS after a full GC at each
 * step. Run with:
 *
 *   npm run build && DATABASE_URL=postgresql://root@127.0.0.1:5432/postgres node --expose-gc dist/bench/ws-memory.js [N]
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import WebSocket from 'ws';
import { createApp } from '../src/app';
import { signToken } from '../src/auth/tokens';
import { loadConfig } from '../src/config';

const count = Number(process.argv[2] ?? 10_000);
/**
 * replay: each subscription first replays seq 1 (afterSeq: 0); live: each waits for new messages (no afterSeq);
 * burst: live, each `complete` sent right after its `subscribe`; close: live, the socket closed without `complete`s.
 */
const mode = process.argv[3] ?? 'replay';
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

async function admin(serverUrl: string, sql: string) {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  await client.query(sql);
  await client.end();
}

async function settledMemory() {
  for (let i = 0; i < 3; i++) {
    await sleep(200);
    gc!();
  }
  const { heapUsed, rss } = process.memoryUsage();
  return { heapMiB: +(heapUsed / 2 ** 20).toFixed(1), rssMiB: +(rss / 2 ** 20).toFixed(1) };
}

/** Samples after GC every second until the heap moves by less than 1 MiB (at most 60 s): the server caught up. */
async function steadyMemory() {
  const started = Date.now();
  let last = await settledMemory();
  for (let i = 0; i < 60; i++) {
    await sleep(1000);
    const now = await settledMemory();
    if (Math.abs(now.heapMiB - last.heapMiB) < 1) return { ...now, settledAfterS: Math.round((Date.now() - started) / 1000) };
    last = now;
  }
  return { ...last, settledAfterS: 'not within 60 s' };
}

async function main() {
  const serverUrl = loadConfig().databaseUrl;
  if (!serverUrl) throw new Error('set DATABASE_URL (a server where a scratch database may be created)');
  const name = `parley_wsmem_${randomBytes(4).toString('hex')}`;
  await admin(serverUrl, `create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const jwtSecret = randomBytes(32).toString('base64url');
  const config = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: '0', DATABASE_URL: url.toString(), AUTH_JWT_SECRET: jwtSecret });
  // A service: it may follow any chat, so the socket's subscriptions need no membership set up.
  const authorization = `Bearer ${await signToken({ jwtSecret }, 'ws-memory', { service: true })}`;
  const app = await createApp({ ...config, databaseUrl: url.toString() });
  try {
    const endpoint = await app.listen();
    const started = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query: 'mutation { startChat(firstMessage: { sender: "a", text: "hi" }) { id } }' }),
    });
    const chatId = ((await started.json()) as { data: { startChat: { id: string } } }).data.startChat.id;

    const socket = new WebSocket(endpoint.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const frames: { type: string; id?: string }[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization } }));
    while (!frames.some((f) => f.type === 'connection_ack')) await sleep(10);

    const report: Record<string, unknown> = { subscriptions: count, before: await settledMemory() };
    const query = `subscription ($chatId: ID!) { messageAdded(chatId: $chatId${mode === 'replay' ? ', afterSeq: 0' : ''}) { seq text } }`;
    for (let i = 0; i < count; i++) {
      socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query, variables: { chatId } } }));
      if (mode === 'burst') socket.send(JSON.stringify({ id: String(i), type: 'complete' }));
    }
    // Each accepted subscription delivers seq 1 first; a refused one answers `error`.
    const answered = () => new Set(frames.filter((f) => f.type === 'next' || f.type === 'error').map((f) => f.id)).size;
    const probe = Date.now();
    await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ chat(id: "${chatId}") { messageCount } }` }) });
    report.otherClientMsDuringSubscribes = Date.now() - probe;
    if (mode === 'replay') for (let waited = 0; answered() < count && waited < 120_000; waited += 50) await sleep(50);
    else report.open = await steadyMemory();
    report.open = { answered: answered(), errors: frames.filter((f) => f.type === 'error').length, ...(await settledMemory()) };
    if (mode !== 'close') {
      for (let i = 0; i < count; i++) socket.send(JSON.stringify({ id: String(i), type: 'complete' }));
      report.completed = await steadyMemory();
    }
    socket.close();
    await new Promise((resolve) => socket.once('close', resolve));
    report.socketClosed = await steadyMemory();
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await app.close();
    await admin(serverUrl, `drop database if exists "${name}" with (force)`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
