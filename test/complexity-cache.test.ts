import type { Client } from 'graphql-ws';
import { StartChatDocument } from './generated/graphql';
import { connect } from '../src/testing/subscriber';
import { dataOf, graphql, startTestApp, type TestApp } from '../src/testing/harness';

/**
 * The complexity estimate is kept per document and shape of its variables (src/graphql/limits.ts): one query text
 * with varying list lengths, page sizes and @include flags must get the verdict its own variables call for, every time.
 */
const QUERY = `query Pages($ids: [ID!]!, $first: Int!, $sender: Boolean!) {
  chats(ids: $ids) { messages(first: $first) { nodes { text sender @include(if: $sender) } } }
}`;

let t: TestApp;
let ws: Client;
let chatIds: string[];
beforeAll(async () => {
  t = await startTestApp();
  ws = connect(t.wsUrl);
  chatIds = await Promise.all(Array.from({ length: 2 }, async () => dataOf(await t.request(StartChatDocument, {})).startChat.id));
});
afterAll(async () => {
  await ws.dispose();
  await t.close();
});

const ids = (count: number, offset = 0) => Array.from({ length: count }, (_, i) => chatIds[(i + offset) % chatIds.length]);

type Verdict = { code: string; message: string } | 'ok';

async function overHttp(variables: object): Promise<Verdict> {
  const response = await graphql(t.url, QUERY, variables);
  const error = response.errors?.[0];
  return error ? { code: String(error.extensions?.code), message: error.message } : 'ok';
}

function overWebSocket(variables: object): Promise<Verdict> {
  return new Promise((resolve) => {
    let verdict: Verdict = 'ok';
    ws.subscribe(
      { query: QUERY, variables: variables as Record<string, unknown> },
      {
        next: (result) => void (result.errors && (verdict = { code: String(result.errors[0].extensions?.code), message: result.errors[0].message })),
        error: (errors) => {
          const first = (errors as { message: string; extensions?: { code?: string } }[])[0];
          resolve({ code: String(first?.extensions?.code), message: first?.message });
        },
        complete: () => resolve(verdict),
      },
    );
  });
}

describe.each([
  ['HTTP', overHttp],
  ['websocket', overWebSocket],
])('one query text over %s', (_transport, send) => {
  const tooComplex = { code: 'QUERY_TOO_COMPLEX', message: expect.stringMatching(/^Query complexity limit of 20000 exceeded, found \d+\.$/) };

  it('is judged by the length of its id list, both ways, and the same again with other ids', async () => {
    expect(await send({ ids: ids(1), first: 500, sender: true })).toBe('ok');
    const refused = await send({ ids: ids(100), first: 500, sender: true });
    expect(refused).toEqual(tooComplex);
    expect(await send({ ids: ids(1, 1), first: 500, sender: true })).toBe('ok');
    expect(await send({ ids: ids(100, 1), first: 500, sender: true })).toEqual(refused);
  });

  it('is judged by its page size', async () => {
    expect(await send({ ids: ids(100), first: 500, sender: true })).toEqual(tooComplex);
    expect(await send({ ids: ids(100), first: 1, sender: true })).toBe('ok');
    expect(await send({ ids: ids(100), first: 500, sender: true })).toEqual(tooComplex);
  });

  it('is judged by the fields its @include flags keep', async () => {
    // 15 chats × 500 messages: 2 per message without the sender, 3 with it.
    expect(await send({ ids: ids(15), first: 500, sender: false })).toBe('ok');
    expect(await send({ ids: ids(15), first: 500, sender: true })).toEqual(tooComplex);
    expect(await send({ ids: ids(15), first: 500, sender: false })).toBe('ok');
  });

  it('leaves variables of the wrong type to validation (BAD_USER_INPUT), cached shape or not', async () => {
    expect(await send({ ids: ids(100), first: 'many', sender: true })).toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
