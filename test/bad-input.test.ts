import {
  ChatDocument,
  ChatsDocument,
  LastMessageDocument,
  MessagesDocument,
  PostMessageDocument,
  StartChatDocument,
} from './generated/graphql';
import { MAX_DEPTH, MAX_TOKENS } from '../src/graphql/limits';
import { UNKNOWN_CHAT_ID as UNKNOWN } from '../src/testing/fixtures';
import { dataOf, defaultToken, type GraphQLResponse, graphql, startTestApp, type TestApp } from '../src/testing/harness';

let t: TestApp;
let chatId: string;

beforeAll(async () => {
  t = await startTestApp();
  chatId = dataOf(await t.request(StartChatDocument, { firstMessage: { sender: 'a', text: 'hi' } })).startChat.id;
});
afterAll(() => t.close());

function expectError(response: GraphQLResponse<unknown>, code: string, message?: RegExp) {
  expect(response.errors?.[0]?.extensions?.code).toBe(code);
  if (message) expect(response.errors?.[0]?.message).toMatch(message);
}

async function messageCount(id = chatId) {
  return dataOf(await t.request(ChatDocument, { id })).chat?.messageCount;
}

const post = (input: Partial<{ chatId: string; sender: string; text: string; clientMessageId: string }>) =>
  t.request(PostMessageDocument, { input: { chatId, sender: 's', text: 't', ...input } });

describe('malformed and unknown ids', () => {
  it.each([
    ['chat', () => t.request(ChatDocument, { id: 'not-a-uuid' })],
    ['chats', () => t.request(ChatsDocument, { ids: [chatId, '123'] })],
    ['messages', () => t.request(MessagesDocument, { chatId: 'x' })],
    ['lastMessage', () => t.request(LastMessageDocument, { chatId: `${chatId}0` })],
    ['postMessage', () => post({ chatId: 'zzzzzzzz-0000-4000-8000-000000000000' })],
  ])('%s with a malformed UUID is BAD_USER_INPUT', async (_name, run) => {
    expectError(await run(), 'BAD_USER_INPUT', /UUID/);
  });

  it.each([
    ['postMessage', () => post({ chatId: UNKNOWN })],
    ['messages', () => t.request(MessagesDocument, { chatId: UNKNOWN })],
    ['lastMessage', () => t.request(LastMessageDocument, { chatId: UNKNOWN })],
  ])('%s of an unknown chat is NOT_FOUND', async (_name, run) => {
    expectError(await run(), 'NOT_FOUND', new RegExp(UNKNOWN));
  });

  it('refuses more than 100 ids in chats', async () => {
    const ids = Array.from({ length: 101 }, () => UNKNOWN);
    expectError(await t.request(ChatsDocument, { ids }), 'BAD_USER_INPUT', /at most 100/);
  });
});

describe('message content', () => {
  it.each([
    ['empty text', { text: '' }, /text/],
    ['whitespace-only text', { text: ' \n\t ' }, /text/],
    ['text over 4,000 characters', { text: 'x'.repeat(4001) }, /text.*4000/],
    ['empty sender', { sender: '' }, /sender/],
    ['sender over 100 characters', { sender: 's'.repeat(101) }, /sender.*100/],
    ['clientMessageId over 64 characters', { clientMessageId: 'k'.repeat(65) }, /clientMessageId.*64/],
    ['empty clientMessageId', { clientMessageId: '' }, /clientMessageId/],
    ['a NUL character in text', { text: 'a\u0000b' }, /text.*NUL/],
    ['an unpaired surrogate in sender', { sender: 'x\ud83d' }, /sender.*Unicode/],
  ])('%s is BAD_USER_INPUT naming the field and limit, and writes nothing', async (_name, input, message) => {
    const before = await messageCount();
    expectError(await post(input), 'BAD_USER_INPUT', message);
    expect(await messageCount()).toBe(before);
  });

  it('accepts exactly the limits', async () => {
    const message = dataOf(await post({ text: 'x'.repeat(4000), sender: 's'.repeat(100), clientMessageId: 'k'.repeat(64) }));
    expect(message.postMessage.text).toHaveLength(4000);
  });

  it('counts characters, not UTF-16 units: 100 emoji make a valid sender', async () => {
    const sender = '🙂'.repeat(100);
    expect(dataOf(await post({ sender })).postMessage.sender).toBe(sender);
  });

  it('checks the first message of startChat and creates no chat when it is bad', async () => {
    const response = await t.request(StartChatDocument, { firstMessage: { sender: 'a', text: '   ' } });
    expectError(response, 'BAD_USER_INPUT', /text/);
    const [{ count }] = await t.app.orm.em.fork().getConnection().execute('select count(*)::int as count from chat');
    expect(count).toBe(1);
  });
});

describe('paging arguments', () => {
  it.each([
    [{ first: 0 }, /first/],
    [{ first: 501 }, /first.*500/],
    [{ last: 0 }, /last/],
    [{ last: 501 }, /last.*500/],
    [{ first: 5, last: 5 }, /either first or last/],
    [{ after: 'garbage' }, /after.*cursor/],
    [{ before: Buffer.from('seq:-1').toString('base64url') }, /before.*cursor/],
  ])('%j is BAD_USER_INPUT', async (args, message) => {
    expectError(await t.request(MessagesDocument, { chatId, ...args }), 'BAD_USER_INPUT', message);
  });
});

describe('HTTP and query limits', () => {
  const send = async (body: string) =>
    fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await defaultToken()}` }, body });
  const errorCode = async (response: Response) => ((await response.json()) as GraphQLResponse<unknown>).errors?.[0]?.extensions?.code;

  it('answers malformed JSON with HTTP 400', async () => {
    const response = await send('{"query": "{ chat(id: ');
    expect(response.status).toBe(400);
    expect(await errorCode(response)).toBe('BAD_REQUEST');
  });

  it('refuses a mutation over GET', async () => {
    const query = encodeURIComponent('mutation { startChat { id } }');
    const response = await fetch(`${t.url}?query=${query}`, { headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${await defaultToken()}` } });
    expect(response.status).toBe(405);
  });

  it('refuses a request body over the limit with HTTP 413', async () => {
    const response = await send(JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(200_000) } }));
    expect(response.status).toBe(413);
    expect(await errorCode(response)).toBe('PAYLOAD_TOO_LARGE');
  });

  /** A query exactly `depth` fields deep: chat, lastMessage, chat, … and a scalar at the bottom. */
  const nested = (depth: number) => {
    const chain = Array.from({ length: depth - 1 }, (_, i) => (i === 0 ? `chat(id: "${chatId}")` : i % 2 ? 'lastMessage' : 'chat'));
    return `{ ${chain.reduceRight((inner, field) => `${field} { ${inner} }`, depth % 2 ? 'seq' : 'id')} }`;
  };

  it(`accepts a query nested ${MAX_DEPTH} levels deep and refuses ${MAX_DEPTH + 1}, naming the depth limit`, async () => {
    const deepest = await graphql(t.url, nested(MAX_DEPTH));
    expect(deepest.errors).toBeUndefined();
    expect(JSON.stringify(deepest.data)).toContain(chatId); // the innermost chat's id
    const response = await graphql(t.url, nested(MAX_DEPTH + 1));
    expect(response.errors?.[0]?.message).toMatch(`depth limit of ${MAX_DEPTH} exceeded, found ${MAX_DEPTH + 1}`);
    expect(response.data).toBeUndefined();
  });

  it('refuses deep nesting hidden in fragments', async () => {
    const fragments = Array.from({ length: 10 }, (_, i) => `fragment F${i} on Chat { messages { nodes { chat { ${i < 9 ? `...F${i + 1}` : 'id'} } } } }`);
    const response = await graphql(t.url, `{ chat(id: "${chatId}") { ...F0 } } ${fragments.join(' ')}`);
    expect(response.errors?.[0]?.message).toMatch(/depth limit/i);
  });

  const aliasedPages = (count: number) =>
    `{ ${Array.from({ length: count }, (_, i) => `a${i}: messages(chatId: "${chatId}", first: 500) { nodes { text } }`).join(' ')} }`;
  const aliasedChats = (count: number) => `{ ${Array.from({ length: count }, (_, i) => `a${i}: chat(id: "${chatId}") { id }`).join(' ')} }`;

  it('refuses a thousand aliased 500-message pages while parsing, at the token limit', async () => {
    const response = await graphql(t.url, aliasedPages(1000));
    expect([response.status, response.errors?.[0]?.extensions?.code]).toEqual([400, 'GRAPHQL_PARSE_FAILED']);
    expect(response.errors?.[0]?.message).toMatch(`more that ${MAX_TOKENS} tokens`);
    expect(response.data).toBeUndefined();
  });

  it('accepts 30 aliases and refuses 31, naming the alias limit', async () => {
    expect(Object.keys(dataOf(await graphql(t.url, aliasedChats(30))))).toHaveLength(30);
    const response = await graphql(t.url, aliasedChats(31));
    expect(response.errors?.[0]?.message).toMatch('Aliases limit of 30 exceeded, found 31');
    expect(response.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(response.data).toBeUndefined();
  });

  it('refuses an operation asking for too much work, naming the complexity limit', async () => {
    const ids = Array.from({ length: 100 }, () => chatId);
    const query = `query($ids: [ID!]!) { chats(ids: $ids) { messages(first: 500) { nodes { text sender } } } }`;
    const response = await graphql(t.url, query, { ids });
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(response.errors?.[0]?.message).toMatch(/complexity limit/);
  });

  it('keeps serving after refusing each of the above', async () => {
    const ids = Array.from({ length: 100 }, () => chatId);
    const refused = await Promise.all([
      send('{"query": "{ chat(id: '),
      send(JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(200_000) } })),
      send(JSON.stringify({ query: nested(MAX_DEPTH + 1) })),
      send(JSON.stringify({ query: aliasedPages(1000) })),
      send(JSON.stringify({ query: aliasedChats(31) })),
      send(JSON.stringify({ query: `query($ids: [ID!]!) { chats(ids: $ids) { messages(first: 500) { nodes { text } } } }`, variables: { ids } })),
    ]);
    const errors = await Promise.all(refused.map(async (response) => ((await response.json()) as GraphQLResponse<unknown>).errors?.length));
    expect(errors).toEqual([1, 1, 1, 1, 1, 1]);
    expect(dataOf(await t.request(ChatDocument, { id: chatId })).chat?.id).toBe(chatId);
  });
});
