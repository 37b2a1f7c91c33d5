import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../src/testing/harness';
import { defaultToken } from '../src/testing/tokens';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const codeOf = async (response: Response) => ((await response.json()) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code;

describe('the HTTP front', () => {
  it('answers a query over GET', async () => {
    const response = await fetch(`${t.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect([response.status, await response.json()]).toEqual([200, { data: { __typename: 'Query' } }]);
  });

  it('leaves a form POST to CSRF prevention: 400 BAD_REQUEST, not 415', async () => {
    const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=%7B__typename%7D' });
    expect(response.status).toBe(400);
    expect(await codeOf(response)).toBe('BAD_REQUEST');
  });

  it('answers methods Apollo does not serve with 405 and an Allow header', async () => {
    const response = await fetch(t.url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect([response.status, response.headers.get('allow')]).toEqual([405, 'GET, POST']);
  });

  it('answers an unknown path with a JSON 404 carrying a request id', async () => {
    const response = await fetch(t.url.replace('/graphql', '/nowhere'));
    expect(response.status).toBe(404);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(await codeOf(response)).toBe('NOT_FOUND');
  });

  it('tags a refused body (413) with the request id too', async () => {
    const body = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(200_000) } });
    const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'too-big' }, body });
    expect([response.status, response.headers.get('x-request-id'), await codeOf(response)]).toEqual([413, 'too-big', 'PAYLOAD_TOO_LARGE']);
  });

  it('answers a Host header that makes no URL with 400 BAD_REQUEST, not 500', async () => {
    const { status, body } = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      const req = httpRequest(t.url, { method: 'POST', headers: { host: 'a b', 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', reject);
      req.end('{"query":"{ __typename }"}');
    });
    expect(status).toBe(400);
    expect(JSON.parse(body).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('serves HTTP and websockets on the server App.httpServer is', async () => {
    const upgraded = new Promise<boolean>((resolve) => t.app.httpServer.once('upgrade', () => resolve(true)));
    const socket = new WebSocket(t.wsUrl, 'graphql-transport-ws');
    const ack = new Promise<string>((resolve, reject) => {
      socket.once('message', (data) => resolve(String(data)));
      socket.once('error', reject);
    });
    const authorization = `Bearer ${await defaultToken()}`;
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization } })));
    expect(JSON.parse(await ack)).toEqual({ type: 'connection_ack' });
    socket.close();
    expect(await upgraded).toBe(true);
  });
});
