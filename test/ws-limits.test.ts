import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from 'pg';
import { ChatDocument, MessageAddedDocument, PostMessageDocument, StartChatDocument } from './generated/graphql';
import { print } from 'graphql';
import { dataOf, startTestApp, type TestApp } from '../src/testing/harness';
import { type Frame, openRawSocket, type RawSocket } from '../src/testing/raw-socket';
import { WS_MAX_OPERATIONS } from '../src/server/ws';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let t: TestApp;
const sockets: RawSocket[] = [];
beforeAll(async () => {
  t = await startTestApp();
});
afterEach(() => sockets.splice(0).forEach(({ socket }) => socket.terminate()));
afterAll(() => t.close());

async function rawSocket(): Promise<RawSocket> {
  const socket = await openRawSocket(t.wsUrl);
  sockets.push(socket);
  return socket;
}

async function startChat(): Promise<string> {
  return dataOf(await t.request(StartChatDocument, { firstMessage: { sender: 'ann', text: 'first' } })).startChat.id;
}

const FOLLOW = print(MessageAddedDocument);
const subscribeFrame = (id: string, chatId: string): Frame => ({ id, type: 'subscribe', payload: { query: FOLLOW, variables: { chatId, afterSeq: 0 } } });
const ofType = (frames: readonly Frame[], type: string) => frames.filter((frame) => frame.type === type);
const codesOf = (frames: readonly Frame[]) => [...new Set(frames.flatMap((frame) => (frame.payload as { extensions: { code: string } }[]).map((e) => e.extensions.code)))];

function heapUsedMiB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

describe('operations per socket', () => {
  it(`runs the first ${WS_MAX_OPERATIONS} of 1,000 subscribes, answers the rest RATE_LIMITED, and keeps the socket and the others' requests going`, async () => {
    const chatId = await startChat();
    const ws = await rawSocket();
    for (let i = 0; i < 1000; i++) ws.send(subscribeFrame(String(i), chatId));
    const started = Date.now();
    dataOf(await t.request(ChatDocument, { id: chatId }));
    const otherClientMs = Date.now() - started;
    await ws.until((frames) => ofType(frames, 'next').length + ofType(frames, 'error').length >= 1000);

    const refused = ofType(ws.frames, 'error');
    expect(refused).toHaveLength(1000 - WS_MAX_OPERATIONS);
    expect(codesOf(refused)).toEqual(['RATE_LIMITED']);
    expect((refused[0].payload as { message: string }[])[0].message).toContain(String(WS_MAX_OPERATIONS));
    expect(ofType(ws.frames, 'next').map((frame) => Number(frame.id)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: WS_MAX_OPERATIONS }, (_, i) => i),
    );
    expect(otherClientMs).toBeLessThan(2000); // a sanity bound: 10,000 unlimited subscribes held it for seconds

    // The running ones are live, and the socket takes new subscriptions as old ones complete.
    await t.request(PostMessageDocument, { input: { chatId, sender: 'bob', text: 'second' } });
    await ws.until((frames) => ofType(frames, 'next').length === WS_MAX_OPERATIONS * 2);
    for (let i = 0; i < 10; i++) ws.send({ id: String(i), type: 'complete' });
    await ws.roundTrip();
    for (let i = 1000; i < 1010; i++) ws.send(subscribeFrame(String(i), chatId));
    await ws.until((frames) => ofType(frames, 'next').filter((frame) => Number(frame.id) >= 1000).length === 20);
    expect(ofType(ws.frames, 'error')).toHaveLength(1000 - WS_MAX_OPERATIONS);
  });

  it('counts a subscription until the server is done with it, not until the client completes it', async () => {
    const chatId = await startChat();
    const ws = await rawSocket();
    // Hold every read of the chat table: each subscribe waits in its first read, however soon it is completed.
    const lock = new Client({ connectionString: t.database.url });
    await lock.connect();
    try {
      await lock.query('begin');
      await lock.query('lock table chat in access exclusive mode');
      for (let i = 0; i < 1000; i++) {
        ws.send(subscribeFrame(String(i), chatId));
        ws.send({ id: String(i), type: 'complete' });
      }
      await ws.roundTrip();
      ws.send(subscribeFrame('while-held', chatId));
      await ws.roundTrip();
      await ws.roundTrip(); // the answer to the subscribe, if any, came before this pong
      const answers = ws.frames.filter((frame) => frame.id === 'while-held');
      expect(answers.map((frame) => frame.type)).toEqual(['error']);
      expect(codesOf(answers)).toEqual(['RATE_LIMITED']);
    } finally {
      await lock.query('commit');
      await lock.end();
    }
    // Once the held reads have ended, subscriptions run again.
    for (let attempt = 0; attempt < 100; attempt++) {
      const probe = `after-${attempt}`;
      ws.send(subscribeFrame(probe, chatId));
      await ws.until((frames) => frames.some((frame) => frame.id === probe));
      if (ws.frames.find((frame) => frame.id === probe)!.type === 'next') break;
      await ws.roundTrip();
    }
    expect(ofType(ws.frames, 'next').length).toBe(1);
  });

  it('keeps nothing of 1,000 subscriptions that ended on one socket', async () => {
    const chatId = await startChat();
    const ws = await rawSocket();
    const round = async (first: number) => {
      for (let i = first; i < first + WS_MAX_OPERATIONS; i++) ws.send(subscribeFrame(String(i), chatId));
      await ws.until((frames) => ofType(frames, 'next').filter((frame) => Number(frame.id) >= first).length === WS_MAX_OPERATIONS);
      for (let i = first; i < first + WS_MAX_OPERATIONS; i++) ws.send({ id: String(i), type: 'complete' });
      await ws.roundTrip();
    };
    await round(0); // warm up: compiled code, cached documents, pooled connections
    const before = heapUsedMiB();
    for (let first = 1000; first < 11_000; first += 1000) await round(first);
    const after = heapUsedMiB();
    expect(ofType(ws.frames, 'error')).toEqual([]);
    // 1,000 ended subscriptions; holding even 10 KiB of each would show as 10 MiB.
    expect(after - before).toBeLessThan(8);
  });
});
