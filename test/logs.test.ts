import { Writable } from 'node:stream';
import { Client } from 'pg';
import { ChatDocument, StartChatDocument } from './generated/graphql';
import { dataOf, startTestApp, type TestApp } from '../src/testing/harness';
import { openRawSocket } from '../src/testing/raw-socket';
import { WS_MAX_PAYLOAD } from '../src/server/ws';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** What the app printed past its logger (pino writes to its own stream, not through these) while `run` ran. */
async function printedDuring(run: () => Promise<void>): Promise<string[]> {
  const printed: string[] = [];
  const record = (...args: unknown[]) => void printed.push(args.map(String).join(' '));
  const spies = [
    jest.spyOn(console, 'error').mockImplementation(record),
    jest.spyOn(console, 'warn').mockImplementation(record),
    jest.spyOn(console, 'log').mockImplementation(record),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => (record(chunk), true)),
  ];
  try {
    await run();
  } finally {
    spies.forEach((spy) => spy.mockRestore());
  }
  return printed;
}

describe('what clients and dropped connections make the app print', () => {
  it(`closes a socket sending a frame over ${WS_MAX_PAYLOAD / 1024} kB with 1009, and prints nothing to the console`, async () => {
    const printed = await printedDuring(async () => {
      for (let i = 0; i < 5; i++) {
        const ws = await openRawSocket(t.wsUrl);
        ws.send({ id: '1', type: 'subscribe', payload: { query: `{ __typename }${' '.repeat(WS_MAX_PAYLOAD)}` } });
        expect((await ws.closed).code).toBe(1009);
      }
    });
    expect(printed).toEqual([]);
  });

  it('prints no plain-text line when the database drops the connections', async () => {
    const chatId = dataOf(await t.request(StartChatDocument, {})).startChat.id;
    const printed = await printedDuring(async () => {
      const admin = new Client({ connectionString: t.database.url });
      await admin.connect();
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
      await admin.end();
      for (let i = 0; i < 5; i++) await t.request(ChatDocument, { id: chatId });
    });
    expect(printed).toEqual([]);
    expect(dataOf(await t.request(ChatDocument, { id: chatId })).chat?.id).toBe(chatId);
  });
});

describe('client-caused websocket errors', () => {
  it('are logged through the logger at debug, one line per socket, and nothing at warn or above', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logDestination = new Writable({
      write(chunk, _encoding, done) {
        for (const text of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(text));
        done();
      },
    });
    const logged = await startTestApp({ LOG_LEVEL: 'debug' }, { logDestination });
    try {
      const printed = await printedDuring(async () => {
        // A frame over the size limit, and a text frame that is not UTF-8: ws closes each socket with its code.
        const big = await openRawSocket(logged.wsUrl);
        big.send({ id: '1', type: 'subscribe', payload: { query: `{ __typename }${' '.repeat(WS_MAX_PAYLOAD)}` } });
        expect((await big.closed).code).toBe(1009);
        const garbled = await openRawSocket(logged.wsUrl);
        garbled.socket.send(Buffer.from([0xff, 0xfe]), { binary: false });
        expect((await garbled.closed).code).toBe(1007);
      });
      expect(printed).toEqual([]);
      expect(lines.filter((line) => line.msg === 'websocket closed on a client error').map((line) => line.level)).toEqual([20, 20]);
      expect(lines.filter((line) => line.level >= 40)).toEqual([]);
    } finally {
      await logged.close();
    }
  });
});

describe('x-request-id', () => {
  const answeredId = async (id: string) =>
    (await fetch(t.url.replace('/graphql', '/healthz'), { headers: { 'x-request-id': id } })).headers.get('x-request-id');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  it("echoes a client's plain id of up to 128 characters", async () => {
    expect(await answeredId('req-1.2:3_A')).toBe('req-1.2:3_A');
    expect(await answeredId('a'.repeat(128))).toBe('a'.repeat(128));
  });

  it.each([
    ['8 KB long', 'a'.repeat(8192)],
    ['129 characters', 'a'.repeat(129)],
    ['with spaces and markup', 'a b <script>'],
    ['with quotes', '"}{"level":60'],
  ])('replaces one %s with a new one', async (_what, id) => {
    expect(await answeredId(id)).toMatch(uuid);
  });
});
