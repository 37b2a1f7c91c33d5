import { Writable } from 'node:stream';
import { startChat } from '../src/testing/fixtures';
import { startTestApp, type TestApp } from '../src/testing/harness';
import { defaultToken } from '../src/testing/tokens';

type Line = Record<string, unknown> & { level: number; reqId?: string; req?: { id?: string } };

/** The request id of a line, also in pino-http's default shape ({ req: { id } }), so a wrong shape fails, not hangs. */
const idOf = (line: Line) => line.reqId ?? line.req?.id;

/** The app's log, one parsed JSON line per entry; `line(id)` waits for the line of a request id. */
class Log extends Writable {
  readonly lines: Line[] = [];
  private waiters: { id: string; resolve: (line: Line) => void }[] = [];

  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    for (const text of String(chunk).split('\n').filter(Boolean)) {
      const line = JSON.parse(text) as Line;
      this.lines.push(line);
      for (const waiter of this.waiters.filter((w) => w.id === idOf(line))) waiter.resolve(line);
      this.waiters = this.waiters.filter((w) => w.id !== idOf(line));
    }
    done();
  }

  line(id: string): Promise<Line> {
    const found = this.lines.find((line) => idOf(line) === id);
    return found ? Promise.resolve(found) : new Promise((resolve) => this.waiters.push({ id, resolve }));
  }

  linesOf(id: string): Line[] {
    return this.lines.filter((line) => idOf(line) === id);
  }
}

async function startLogged(level: string) {
  const log = new Log();
  const t = await startTestApp({ LOG_LEVEL: level }, { logDestination: log });
  const base = t.url.replace('/graphql', '');
  const send = async (path: string, id: string, body?: object) =>
    fetch(`${base}${path}`, {
      method: body ? 'POST' : 'GET',
      headers: {
        'content-type': 'application/json',
        'x-request-id': id,
        'user-agent': 'request-log-test',
        authorization: `Bearer ${await defaultToken()}`,
      },
      body: body && JSON.stringify(body),
    });
  return { log, t, send };
}

describe('at level info', () => {
  let t: TestApp;
  let log: Log;
  let send: Awaited<ReturnType<typeof startLogged>>['send'];
  beforeAll(async () => {
    ({ t, log, send } = await startLogged('info'));
  });
  afterAll(() => t.close());

  const POST = 'mutation Post($input: PostMessageInput!) { postMessage(input: $input) { id } }';

  it('a GraphQL request is one line: method, url, status, duration, request id, operation and error codes, no headers', async () => {
    const chatId = (await startChat(t)).id;
    const response = await send('/graphql', 'log-bad-post', { query: POST, variables: { input: { chatId, sender: 's', text: ' ' } } });
    expect(response.status).toBe(200);
    const line = await log.line('log-bad-post');
    expect(line).toEqual({
      level: 30,
      time: expect.any(Number),
      pid: process.pid,
      hostname: expect.any(String),
      reqId: 'log-bad-post',
      method: 'POST',
      url: '/graphql',
      status: 200,
      responseTime: expect.any(Number),
      operation: 'Post',
      operationType: 'mutation',
      errorCodes: ['BAD_USER_INPUT'],
      msg: 'POST /graphql 200 mutation Post BAD_USER_INPUT',
    });
    await send('/graphql', 'log-after', { query: '{ __typename }' });
    await log.line('log-after');
    expect(log.linesOf('log-bad-post')).toHaveLength(1);
  });

  it('a successful query logs its operation and no error codes', async () => {
    const chatId = (await startChat(t)).id;
    await send('/graphql', 'log-query', { query: 'query Chat($id: ID!) { chat(id: $id) { id } }', variables: { id: chatId } });
    const line = await log.line('log-query');
    expect(line).toMatchObject({ level: 30, status: 200, operation: 'Chat', operationType: 'query', msg: 'POST /graphql 200 query Chat' });
    expect(line).not.toHaveProperty('errorCodes');
  });

  it('health probes write no line at info', async () => {
    expect((await send('/healthz', 'log-healthz')).status).toBe(200);
    expect((await send('/readyz', 'log-readyz')).status).toBe(200);
    await send('/graphql', 'log-after-probes', { query: '{ __typename }' });
    await log.line('log-after-probes');
    expect([...log.linesOf('log-healthz'), ...log.linesOf('log-readyz')]).toEqual([]);
  });
});

it('at level debug, health probes are logged at debug', async () => {
  const { t, log, send } = await startLogged('debug');
  try {
    await send('/healthz', 'log-debug-healthz');
    expect(await log.line('log-debug-healthz')).toMatchObject({ level: 20, url: '/healthz', status: 200, msg: 'GET /healthz 200' });
  } finally {
    await t.close();
  }
});
