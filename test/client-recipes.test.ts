import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { postMessages, range, startChat } from '../src/testing/fixtures';
import { followMessages } from '../web/live-messages';
import { startTestApp, type TestApp } from '../src/testing/harness';

// The README's reconnect recipes, run with the real graphql-ws client against a server that restarts. The code
// between "README:" markers is the README's, word for word (the last test checks that).

const FOLLOW = `subscription Follow($chatId: ID!, $afterSeq: Int) {
  messageAdded(chatId: $chatId, afterSeq: $afterSeq) { seq sender text createdAt }
}`;

interface Message {
  seq: number;
  sender: string;
  text: string;
  createdAt: string;
}

/** What the app shows: the messages rendered, the errors shown; `until` waits for a seq (and fails on an error). */
class Screen {
  readonly seqs: number[] = [];
  readonly errors: unknown[] = [];
  private waiters: { seq: number; resolve: () => void; reject: (error: Error) => void }[] = [];

  render = (message: Message) => {
    this.seqs.push(message.seq);
    for (const waiter of this.waiters.filter((w) => message.seq >= w.seq)) waiter.resolve();
    this.waiters = this.waiters.filter((w) => message.seq < w.seq);
  };

  showError = (error: unknown) => {
    this.errors.push(error);
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure());
  };

  private failure() {
    const messages = this.errors.map((error) => (error as { message?: string }).message ?? JSON.stringify(error));
    return new Error(`the subscription showed an error after seq ${this.seqs.at(-1)}: ${messages.join('; ')}`);
  }

  until(seq: number): Promise<void> {
    if (this.seqs.some((s) => s >= seq)) return Promise.resolve();
    if (this.errors.length) return Promise.reject(this.failure());
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }
}

/** Recipe A: the client's retries, also after a refused connection; a retry resubscribes with the first afterSeq. */
function keepRetries(url: string, chatId: string, { render, showError }: Screen, freshToken: () => Promise<string>): Client {
  // README: recipe A
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: async () => ({ authorization: `Bearer ${await freshToken()}` }), // a fresh token on every (re)connect
    shouldRetry: () => true,
  });

  let last = 0; // the newest seq shown
  client.subscribe<{ messageAdded: Message }>(
    { query: FOLLOW, variables: { chatId, afterSeq: last } },
    {
      next: ({ data }) => {
        if (!data || data.messageAdded.seq <= last) return; // a retry replays from the first afterSeq
        last = data.messageAdded.seq;
        render(data.messageAdded);
      },
      error: showError, // GraphQL errors (NOT_FOUND, BAD_USER_INPUT), or the retries ran out
      complete: () => {},
    },
  );
  // README: end
  return client;
}

/** Recipe B: the client's retries off; resubscribe from the newest seq shown. */
function resubscribeYourself(url: string, chatId: string, { render, showError }: Screen, freshToken: () => Promise<string>): Client {
  // README: recipe B
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: async () => ({ authorization: `Bearer ${await freshToken()}` }),
    retryAttempts: 0,
  });

  let last = 0; // the newest seq shown
  const follow = () =>
    client.subscribe<{ messageAdded: Message }>(
      { query: FOLLOW, variables: { chatId, afterSeq: last } },
      {
        next: ({ data }) => {
          if (!data || data.messageAdded.seq <= last) return; // graphql-ws still reconnects by itself after a close with code 1000
          last = data.messageAdded.seq;
          render(data.messageAdded);
        },
        error: (error) => {
          if (Array.isArray(error)) return showError(error); // GraphQL errors: retrying would not help
          setTimeout(follow, 1000); // the socket closed or could not connect: resume after the newest seq shown
        },
        complete: () => {},
      },
    );
  follow();
  // README: end
  return client;
}

/** The chat page's module (web/live-messages.ts) over a client that retries, as the README shows it. */
function liveMessages(url: string, chatId: string, { render, showError }: Screen, freshToken: () => Promise<string>): Client {
  // README: recipe C
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: async () => ({ authorization: `Bearer ${await freshToken()}` }),
    shouldRetry: () => true,
    retryWait: (retries) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, 10_000) * (0.5 + Math.random() / 2))), // at most 10 s apart
  });
  const stop = followMessages(client, { chatId, afterSeq: 0, onMessage: render, onError: showError }); // stop() when done
  // README: end
  return client;
}

/** The same module over a client that does not retry: the module subscribes again itself. */
function liveMessagesWithoutRetries(url: string, chatId: string, { render, showError }: Screen, freshToken: () => Promise<string>): Client {
  const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: async () => ({ authorization: `Bearer ${await freshToken()}` }), retryAttempts: 0 });
  followMessages(client, { chatId, afterSeq: 0, onMessage: render, onError: showError, retryDelayMs: 200 });
  return client;
}

// The messages the server sends: 5 before the restart, then A's retry replays all 12 from afterSeq 0 (the recipe
// drops the first 5 again), while B and the module resume after seq 5.
const recipes: [string, typeof keepRetries, number][] = [
  ["A (the client's retries, drop seq <= last)", keepRetries, 5 + 12],
  ['B (retries off, resubscribe from the newest seq)', resubscribeYourself, 12],
  ["C (web/live-messages.ts, the client's retries resume from the newest seq)", liveMessages, 12],
  ['C without the client\'s retries (web/live-messages.ts subscribes again from the newest seq)', liveMessagesWithoutRetries, 12],
];

describe.each(recipes)('reconnect recipe %s', (_name, recipe, sent) => {
  let t: TestApp;
  let client: Client | undefined;
  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => {
    await client?.dispose();
    await t.close();
  });

  it.each([
    ['a quick restart', false],
    ['a restart that refuses a reconnect', true],
  ])('shows every message exactly once, in order, across %s', async (_restart, refuseOnce) => {
    const chatId = (await startChat(t)).id;
    await postMessages(t, chatId, 5);
    const screen = new Screen();
    client = recipe(t.wsUrl, chatId, screen, () => t.token('test-service', { service: true }));
    let received = 0;
    client.on('message', (message) => void (received += message.type === 'next' ? 1 : 0));
    const reconnectRefused = () =>
      new Promise<void>((resolve) => {
        let reconnecting = false;
        client!.on('connecting', () => void (reconnecting = true));
        for (const event of ['error', 'closed'] as const) client!.on(event, () => reconnecting && resolve());
      });
    await screen.until(5);

    // A new process as the client sees it: every socket closed (1001), maybe down until a reconnect has been
    // refused, then up on the same port with the same database.
    t = await t.restart(refuseOnce ? reconnectRefused : undefined);
    await postMessages(t, chatId, 4); // committed before the client is back
    await screen.until(9);
    await postMessages(t, chatId, 3); // live, after the reconnect
    await screen.until(12);

    expect(screen.seqs).toEqual(range(1, 12));
    expect(screen.errors).toEqual([]);
    expect(received).toBe(sent);
  });
});

it('the README shows recipes A, B and C exactly as they are tested here', async () => {
  const unindented = (text: string) => text.split('\n').map((line) => line.trim()).join('\n');
  const readme = unindented(await readFile(join(__dirname, '..', 'README.md'), 'utf8'));
  const source = await readFile(__filename, 'utf8');
  const blocks = [...source.matchAll(/\/\/ README: recipe \w\n([\s\S]*?)\n\s*\/\/ README: end/g)].map((match) => unindented(match[1]));
  expect(blocks).toHaveLength(3);
  for (const block of blocks) expect(readme).toContain(block);
});
