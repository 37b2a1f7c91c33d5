import { print } from 'graphql';
import { StartChatDocument } from './generated/graphql';
import { startTestApp, type TestApp } from '../src/testing/harness';
import { openRawSocket, type RawSocket, upgradeStatus } from '../src/testing/raw-socket';

let t: TestApp;
const sockets: RawSocket[] = [];
beforeAll(async () => {
  t = await startTestApp({ NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example' });
});
afterEach(() => sockets.splice(0).forEach(({ socket }) => socket.terminate()));
afterAll(() => t.close());

/** Opens a socket with these headers and runs a mutation over it. */
async function startChatOver(headers: Record<string, string>): Promise<unknown> {
  const ws = await openRawSocket(t.wsUrl, headers);
  sockets.push(ws);
  ws.send({ id: '1', type: 'subscribe', payload: { query: print(StartChatDocument), variables: {} } });
  await ws.until((frames) => frames.some((frame) => frame.id === '1' && frame.type === 'complete'));
  return ws.frames.find((frame) => frame.id === '1' && frame.type === 'next')?.payload;
}

describe('websocket upgrades in production with CORS_ORIGINS=https://app.example', () => {
  it('refuses a page on another origin with 403 before the handshake', async () => {
    expect(await upgradeStatus(t.wsUrl, { origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(t.wsUrl, { origin: 'null' })).toBe(403);
  });

  it('accepts the listed origin, and runs operations over it', async () => {
    expect(await upgradeStatus(t.wsUrl, { origin: 'https://app.example' })).toBe(101);
    expect(await startChatOver({ origin: 'https://app.example' })).toMatchObject({ data: { startChat: { messageCount: 0 } } });
  });

  it('accepts a client that sends no Origin (not a browser)', async () => {
    expect(await upgradeStatus(t.wsUrl, {})).toBe(101);
    expect(await startChatOver({})).toMatchObject({ data: { startChat: { messageCount: 0 } } });
  });
});
