import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, type BrowserContextOptions, chromium, type Page, type Request } from 'playwright-core';
import { PostMessageDocument, SayDocument, StartChatWithDocument } from './generated/graphql';
import { range } from '../src/testing/fixtures';
import { LIMITS } from '../src/modules/message/message.rules';
import { dataOf, startTestApp, type TestApp } from '../src/testing/harness';

// The chat page in a real browser (Debian's chromium, driven by playwright-core): alice and bob in two browser
// contexts. Every wait is for a condition of the page's DOM. A screenshot of each step goes to test/artifacts/.

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, 'artifacts');
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser) process.stderr.write(`${CHROMIUM} is missing: skipped the chat page's browser tests (apt-get install chromium)\n`);
const describeWithBrowser = hasBrowser ? describe : describe.skip;

const launch = () =>
  chromium.launch({
    executablePath: CHROMIUM,
    // Playwright gives every launch a fresh, temporary user-data-dir. The machine's network is closed: no
    // component updates, sync or QUIC probes.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

/** The seqs of the messages on screen, in the order shown. */
const seqsShown = (page: Page) => page.$$eval('#messages [data-seq]', (items) => items.map((item) => Number(item.getAttribute('data-seq'))));

/** Waits until the page shows messages up to `seq`. */
const untilSeq = (page: Page, seq: number) => page.waitForSelector(`#messages [data-seq="${seq}"]`);

/** The clientMessageId of a request that posts from the composer, if it is one. */
const sendsId = (request: Request): string | undefined => {
  const body = request.method() === 'POST' && request.url().endsWith('/graphql') ? request.postDataJSON() : undefined;
  return body?.query?.includes('mutation Send') ? body.variables.clientMessageId : undefined;
};

/** The clientMessageIds of the posts the page makes (`event` 'request') or that fail ('requestfailed'), and a wait for the nth. */
function countSends(page: Page, event: 'request' | 'requestfailed') {
  const ids: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  page.on(event as 'request', (request: Request) => {
    const id = sendsId(request);
    if (id === undefined) return;
    ids.push(id);
    for (const waiter of waiters.filter((w) => ids.length >= w.count)) waiter.resolve();
  });
  const until = (count: number) => (ids.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })));
  return { ids, until };
}

describeWithBrowser('the chat page, with alice and bob in two browsers', () => {
  let t: TestApp;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  let withBob = ''; // the chat of alice and bob
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

  /** A new browser (context) on the page, watched for page errors. */
  const open = async (options: BrowserContextOptions = {}, setUp?: (page: Page) => Promise<void>) => {
    const page = await (await browser.newContext(options)).newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await setUp?.(page);
    await page.goto(origin());
    return page;
  };
  const signIn = async (page: Page, name: string) => {
    await page.fill('#name-form input[name=userId]', name);
    await page.click('#name-form button');
    await page.waitForSelector('#status.live');
  };

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    t = await startTestApp();
    browser = await launch();
    [alice, bob] = await Promise.all(
      ['alice', 'bob'].map(async () => {
        const page = await (await browser.newContext({ viewport: { width: 1000, height: 600 } })).newPage();
        page.on('pageerror', (error) => pageErrors.push(error.message));
        page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
        return page;
      }),
    );
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });
  afterEach(() => expect(pageErrors).toEqual([]));

  const origin = () => new URL(t.url).origin;

  it('signs in by name (development) and connects', async () => {
    for (const [page, name] of [[alice, 'alice'], [bob, 'bob']] as const) {
      await page.goto(origin());
      await page.fill('#name-form input[name=userId]', name);
      if (name === 'alice') await shot(page, '00-sign-in');
      await page.click('#name-form button');
      await page.waitForSelector(`#whoami:text("signed in as ${name}")`);
      await page.waitForSelector('#status.live');
    }
    await shot(alice, '01-alice-signed-in');
    expect(consoleErrors).toEqual([]); // e.g. no 404 for /favicon.ico: the page names its icon inline
  });

  it("alice starts a chat with bob; each one's message shows in the other's open conversation", async () => {
    await alice.fill('#new-chat input', 'bob');
    await alice.click('#new-chat button');
    withBob = (await (await alice.waitForSelector('#inbox li.open')).getAttribute('data-chat-id'))!;
    await (await bob.waitForSelector(`#inbox [data-chat-id="${withBob}"]`)).click(); // it reached bob's inbox live
    await bob.waitForSelector('#members [data-user-id="alice"]');

    await bob.fill('#composer textarea', 'Hi Alice!');
    await bob.click('#composer button');
    await untilSeq(alice, 1);
    await alice.fill('#composer textarea', 'Hi Bob, how are you?');
    await alice.press('#composer textarea', 'Enter');
    await untilSeq(bob, 2);
    expect(await alice.textContent('#messages [data-seq="1"] .text')).toBe('Hi Alice!');
    expect(await bob.textContent('#messages [data-seq="2"] .text')).toBe('Hi Bob, how are you?');
    await shot(alice, '02-alice-conversation');
    await shot(bob, '02-bob-conversation');
  });

  it("bob's message bumps alice's inbox badge while she has another chat open; bob sees she has not read it", async () => {
    await alice.fill('#new-chat input', 'carol');
    await alice.click('#new-chat button');
    await alice.waitForSelector(`#inbox li.open:not([data-chat-id="${withBob}"])`);

    await bob.fill('#composer textarea', 'Are you there?');
    await bob.click('#composer button');
    await alice.waitForSelector(`#inbox [data-chat-id="${withBob}"] .badge:text-is("1")`);
    expect(await alice.textContent(`#inbox [data-chat-id="${withBob}"] .last`)).toBe('bob: Are you there?');
    await bob.waitForSelector('#members [data-user-id="alice"][data-unread="1"]');
    await shot(alice, '03-alice-badge-in-another-chat');
    await shot(bob, '03-bob-alice-has-not-read');
  });

  it("alice opening the chat reads it: her badge clears, and so does bob's unread mark on her", async () => {
    await alice.click(`#inbox [data-chat-id="${withBob}"]`);
    await untilSeq(alice, 3);
    await alice.waitForSelector(`#inbox [data-chat-id="${withBob}"]:not(:has(.badge))`);
    await bob.waitForSelector('#members [data-user-id="alice"][data-unread="0"]');
    await shot(alice, '04-alice-read');
    await shot(bob, '04-bob-alice-read');
  });

  it('both pages carry on across a server restart: every message shown exactly once, a post made while down kept', async () => {
    t = await t.restart(async () => {
      await Promise.all([alice.waitForSelector('#status.down'), bob.waitForSelector('#status.down')]);
      // Sent while nothing answers: the composer tries the same clientMessageId again until the server is back.
      await bob.fill('#composer textarea', 'Sent while the server was down');
      await bob.click('#composer button');
      await bob.waitForSelector('#messages .pending');
      await shot(alice, '05-alice-server-down');
      await shot(bob, '05-bob-sending-while-down');
    });
    // Committed while the pages are still reconnecting, then live once they are back.
    const say = (user: string, text: string) => t.as(user).request(SayDocument, { chatId: withBob, text });
    for (const text of ['Back?', 'Still there?']) dataOf(await say('alice', text));
    await Promise.all([alice.waitForSelector('#status.live'), bob.waitForSelector('#status.live')]);
    dataOf(await say('bob', 'Yes, all here.'));

    const last = 7;
    for (const page of [alice, bob]) {
      await untilSeq(page, last);
      await page.waitForSelector('#messages .pending', { state: 'detached' });
      expect(await seqsShown(page)).toEqual(range(1, last));
      expect(await page.$$eval('#messages .text', (items) => items.filter((item) => item.textContent === 'Sent while the server was down').length)).toBe(1);
    }
    await shot(alice, '05-alice-after-restart');
    await shot(bob, '05-bob-after-restart');
  });

  it('pages back through older messages on scroll-up', async () => {
    const older = 45; // more than one page (30)
    for (const seq of range(8, 7 + older)) dataOf(await t.as('bob').request(SayDocument, { chatId: withBob, text: `Message number ${seq}` }));
    await untilSeq(alice, 7 + older);
    await alice.reload(); // the token is kept for the tab session: no sign-in again
    await (await alice.waitForSelector(`#inbox [data-chat-id="${withBob}"]`)).click();
    await untilSeq(alice, 7 + older);
    expect(await seqsShown(alice)).toEqual(range(older + 7 - 29, older + 7));
    await shot(alice, '06-alice-newest-page');
    await alice.$eval('#messages', (list) => (list.scrollTop = 0));
    await untilSeq(alice, 1);
    expect(await seqsShown(alice)).toEqual(range(1, 7 + older));
    await alice.$eval('#messages', (list) => (list.scrollTop = 0)); // the page kept the view in place: show the top
    await shot(alice, '06-alice-scrolled-back');
  });

  it("shows a live message whatever its clientMessageId holds (another client's key with quotes and brackets)", async () => {
    const input = { chatId: withBob, text: 'From a client with odd keys', clientMessageId: 'a "quoted"] key' };
    const { seq } = dataOf(await t.as('alice').request(PostMessageDocument, { input })).postMessage;
    for (const page of [alice, bob]) {
      await untilSeq(page, seq);
      expect(await page.textContent(`#messages [data-seq="${seq}"] .text`)).toBe(input.text);
    }
  });

  it('says so when signing in gets no answer (offline), instead of failing silently', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(origin());
    await context.setOffline(true);
    await page.fill('#name-form input[name=userId]', 'dora');
    await page.click('#name-form button');
    await page.waitForSelector('#sign-in-error:text("The server did not answer")');
    await context.close();
  });

  it('signs out, the tab forgetting the token; signs in with a pasted token', async () => {
    await bob.click('#sign-out');
    await bob.waitForSelector('#name-form', { state: 'visible' });
    await bob.reload();
    await bob.waitForSelector('#name-form', { state: 'visible' });
    expect(await bob.isVisible('#chat')).toBe(false);
    expect(await bob.textContent('#status')).toBe('');
    await shot(bob, '07-bob-signed-out');

    await bob.fill('#token-form textarea', `Bearer ${await t.token('carol')}`);
    await bob.click('#token-form button');
    await bob.waitForSelector('#whoami:text("signed in as carol")');
    await bob.waitForSelector('#inbox li .title:text-is("alice")'); // the chat alice started with her
    await shot(bob, '07-carol-signed-in-by-token');
  });
  it('checks the name itself: a blank or too long name is refused in plain words, before asking the server', async () => {
    const page = await open();
    for (const name of ['   ', 'a'.repeat(101)]) {
      await page.fill('#name-form input[name=userId]', name);
      await page.click('#name-form button');
      await page.waitForSelector('#sign-in-error:text-is("Enter a name of 1 to 100 characters.")');
    }
    await page.context().close();
  });

  it('fits a 375 px screen: the inbox, or the open chat with a back button and its members under a toggle', async () => {
    const page = await open({ viewport: { width: 375, height: 740 } });
    const noSideways = async () => expect(await page.$eval('html', (root) => root.scrollWidth)).toBe(375);
    const form = (await (await page.waitForSelector('#name-form')).boundingBox())!;
    expect(form.x).toBeGreaterThanOrEqual(8); // margins at the sides
    expect(form.x + form.width).toBeLessThanOrEqual(375 - 8);
    await shot(page, '08-narrow-sign-in');
    await signIn(page, 'alice');
    await page.waitForSelector(`#inbox [data-chat-id="${withBob}"]`);
    expect(await page.isVisible('#conversation')).toBe(false);
    await noSideways();
    await shot(page, '08-narrow-inbox');

    await page.click(`#inbox [data-chat-id="${withBob}"]`);
    await page.waitForSelector('#messages [data-seq]');
    expect(await page.isVisible('#inbox-pane')).toBe(false);
    expect(await page.isVisible('#members-pane')).toBe(false);
    expect(await page.isVisible('#back')).toBe(true);
    expect((await (await page.$('#composer textarea'))!.boundingBox())!.width).toBeGreaterThan(200);
    await noSideways();
    await shot(page, '08-narrow-chat');

    await page.click('#members-toggle');
    await page.waitForSelector('#members [data-user-id="bob"]');
    await noSideways();
    await shot(page, '08-narrow-members');
    await page.click('#back');
    await page.waitForSelector(`#inbox [data-chat-id="${withBob}"]:not(.open)`);
    expect(await page.isVisible('#conversation')).toBe(false);
    await page.context().close();
  });

  it('writes messages with line breaks (Enter sends, Shift+Enter starts a line) and shows them as text', async () => {
    const text = 'Line one\nline <b>two</b>';
    await alice.fill('#composer textarea', 'Line one');
    await alice.press('#composer textarea', 'Shift+Enter');
    await alice.type('#composer textarea', 'line <b>two</b>');
    await alice.press('#composer textarea', 'Enter');
    const shown = await alice.waitForSelector('#messages [data-seq] .text:has-text("line <b>two</b>")');
    expect(await shown.innerText()).toBe(text); // innerText keeps the line break only if it is shown
    expect(await shown.$('b')).toBeNull();
    expect(await alice.inputValue('#composer textarea')).toBe('');
    await shot(alice, '09-alice-line-breaks');
  });

  it("counts a long text against the server's limit and refuses to send it over, never cutting it", async () => {
    const pending = () => alice.$$('#messages .pending');
    await alice.fill('#composer textarea', 'x'.repeat(10_000));
    await alice.waitForSelector(`#text-count.error:text("10000 / ${LIMITS.text} characters: too long to send")`);
    await alice.press('#composer textarea', 'Enter');
    expect(await pending()).toEqual([]);
    expect((await alice.inputValue('#composer textarea')).length).toBe(10_000);
    await shot(alice, '10-alice-text-too-long');

    // The server counts characters, not UTF-16 units: the limit in emoji is sent, one more is not.
    await alice.fill('#composer textarea', '😀'.repeat(LIMITS.text + 1));
    await alice.waitForSelector('#text-count.error');
    await alice.press('#composer textarea', 'Enter');
    expect(await pending()).toEqual([]);
    const longest = '😀'.repeat(LIMITS.text);
    await alice.fill('#composer textarea', longest);
    await alice.waitForSelector(`#text-count:not(.error):text-is("${LIMITS.text} / ${LIMITS.text} characters")`);
    await alice.press('#composer textarea', 'Enter');
    await alice.waitForSelector('#messages .pending', { state: 'detached' });
    expect(await alice.$$eval('#messages [data-seq] .text', (items, text) => items.filter((item) => item.textContent === text).length, longest)).toBe(1);
    expect(await alice.textContent('#text-count')).toBe('');
  });

  it('a refused post stays on screen, also after opening another chat, with "retry" (the same clientMessageId) and "discard"', async () => {
    const sent = countSends(alice, 'request');
    await alice.fill('#composer textarea', 'A NUL \u0000 the database cannot store');
    await alice.press('#composer textarea', 'Enter');
    const failed = '#messages li.failed .meta:text("not sent: text must be valid Unicode text without NUL characters")';
    await alice.waitForSelector(failed);
    await shot(alice, '11-alice-not-sent');
    await alice.click(`#inbox li:not([data-chat-id="${withBob}"])`); // another chat and back: the post is still there
    await alice.waitForSelector(failed, { state: 'detached' });
    await alice.click(`#inbox [data-chat-id="${withBob}"]`);
    await alice.waitForSelector(failed);
    await alice.click('#messages li.failed button:text-is("retry")');
    await sent.until(2);
    await alice.waitForSelector(failed);
    expect(sent.ids).toEqual([sent.ids[0], sent.ids[0]]);
    await alice.click('#messages li.failed button:text-is("discard")');
    await alice.waitForSelector('#messages .pending', { state: 'detached' });
  });

  it('keeps trying a post while the network is out, however long, and says it waits for the connection', async () => {
    const page = await open({ viewport: { width: 1000, height: 600 } }, (page) => page.clock.install());
    await signIn(page, 'alice');
    await page.click(`#inbox [data-chat-id="${withBob}"]`);
    await page.waitForSelector('#messages [data-seq]');
    const failures = countSends(page, 'requestfailed');
    await page.context().setOffline(true);
    await page.fill('#composer textarea', 'Sent through a long outage');
    await page.press('#composer textarea', 'Enter');
    const outage = 15; // tries, each after a wait of at most 10 s: more than the page used to make before giving up
    for (let tries = 1; tries <= outage; tries++) {
      await failures.until(tries);
      await page.waitForSelector('#messages .pending .meta:text-is("waiting for the connection…")');
      if (tries === 1) await shot(page, '12-waiting-for-the-connection');
      await page.clock.fastForward(10_000); // the next try is due
    }
    await page.context().setOffline(false);
    await page.waitForSelector('#messages .text:text-is("Sent through a long outage")', { state: 'attached' });
    await page.waitForSelector('#messages .pending', { state: 'detached' });
    expect(new Set(failures.ids).size).toBe(1);
    await page.context().close();
  });
});

describeWithBrowser('the chat page over the post rate limit', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_USER_POSTS: '1/4s' });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('waits out RATE_LIMITED, counting down, and sends again with the same clientMessageId; pending stays below the delivered', async () => {
    const { id: chatId } = dataOf(await t.request(StartChatWithDocument, { members: ['alice', 'bob'] })).startChat;
    const page = await (await browser.newContext({ viewport: { width: 1000, height: 600 } })).newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const sent = countSends(page, 'request');
    await page.goto(new URL(t.url).origin);
    await page.fill('#name-form input[name=userId]', 'alice');
    await page.click('#name-form button');
    await page.click(`#inbox [data-chat-id="${chatId}"]`);
    await page.waitForSelector('#status.live');

    dataOf(await t.as('alice').request(SayDocument, { chatId, text: 'From her phone' })); // her budget: spent
    await page.fill('#composer textarea', 'Sent once the limit allows');
    await page.press('#composer textarea', 'Enter');
    await page.waitForSelector('#messages .pending .meta:text-matches("^too many messages: sending in [1-4] s$")');
    await page.screenshot({ path: join(ARTIFACTS, '13-rate-limited-countdown.png') });
    dataOf(await t.request(SayDocument, { chatId, text: 'Meanwhile', sender: 'bob' }));
    await untilSeq(page, 2);
    expect(await page.$eval('#messages', (list) => list.lastElementChild!.classList.contains('pending'))).toBe(true);

    await untilSeq(page, 3);
    await page.waitForSelector('#messages .pending', { state: 'detached' });
    expect(await seqsShown(page)).toEqual([1, 2, 3]);
    expect(await page.textContent('#messages [data-seq="3"] .text')).toBe('Sent once the limit allows');
    expect(sent.ids.length).toBeGreaterThan(1);
    expect(new Set(sent.ids).size).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});
