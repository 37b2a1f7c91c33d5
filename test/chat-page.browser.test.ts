import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { PostMessageDocument, SayDocument } from './generated/graphql';
import { range } from '../src/testing/fixtures';
import { dataOf, startTestApp, type TestApp } from '../src/testing/harness';

// The chat page in a real browser (Debian's chromium, driven by playwright-core): alice and bob in two browser
// contexts. Every wait is for a condition of the page's DOM. A screenshot of each step goes to test/artifacts/.

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, 'artifacts');
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser) process.stderr.write(`${CHROMIUM} is missing: skipped the chat page's browser tests (apt-get install chromium)\n`);
const describeWithBrowser = hasBrowser ? describe : describe.skip;

/** The seqs of the messages on screen, in the order shown. */
const seqsShown = (page: Page) => page.$$eval('#messages [data-seq]', (items) => items.map((item) => Number(item.getAttribute('data-seq'))));

/** Waits until the page shows messages up to `seq`. */
const untilSeq = (page: Page, seq: number) => page.waitForSelector(`#messages [data-seq="${seq}"]`);

describeWithBrowser('the chat page, with alice and bob in two browsers', () => {
  let t: TestApp;
  let browser: Browser;
  let alice: Page;
  let bob: Page;
  let withBob = ''; // the chat of alice and bob
  const pageErrors: string[] = [];
  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    t = await startTestApp();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Playwright gives every launch a fresh, temporary user-data-dir. The machine's network is closed: no
      // component updates, sync or QUIC probes.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    [alice, bob] = await Promise.all(
      ['alice', 'bob'].map(async () => {
        const page = await (await browser.newContext({ viewport: { width: 1000, height: 600 } })).newPage();
        page.on('pageerror', (error) => pageErrors.push(error.message));
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
  });

  it("alice starts a chat with bob; each one's message shows in the other's open conversation", async () => {
    await alice.fill('#new-chat input', 'bob');
    await alice.click('#new-chat button');
    withBob = (await (await alice.waitForSelector('#inbox li.open')).getAttribute('data-chat-id'))!;
    await (await bob.waitForSelector(`#inbox [data-chat-id="${withBob}"]`)).click(); // it reached bob's inbox live
    await bob.waitForSelector('#members [data-user-id="alice"]');

    await bob.fill('#composer input', 'Hi Alice!');
    await bob.click('#composer button');
    await untilSeq(alice, 1);
    await alice.fill('#composer input', 'Hi Bob, how are you?');
    await alice.press('#composer input', 'Enter');
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

    await bob.fill('#composer input', 'Are you there?');
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
      await bob.fill('#composer input', 'Sent while the server was down');
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
});
