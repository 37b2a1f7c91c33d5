import { type Client, createClient } from 'graphql-ws';
import {
  type ChatMessageFragment,
  HistoryDocument,
  type HistoryQuery,
  InboxDocument,
  InboxFeedDocument,
  type InboxFeedSubscription,
  type InboxQuery,
  MarkReadDocument,
  MeDocument,
  MembersDocument,
  type MembersQuery,
  SendDocument,
  StartConversationDocument,
  type TypedDocumentString,
} from './generated/graphql';
import { followMessages } from './live-messages';

// The chat page: sign-in, the inbox (myChats kept live by inboxUpdated), and one open conversation (its history
// paged back on scroll-up, live messages through live-messages.ts, a composer, the members' read markers).

const TOKEN_KEY = 'parley.token';
/** How often the open chat's read markers are read again: the API tells a member only of its own marker moving. */
const MEMBERS_REFRESH_MS = 2000;
/** The longest wait between two tries to reach the server (the socket's reconnects, a post's resends). */
const RETRY_MAX_MS = 10_000;
/** The server's limits (LIMITS.text in src/modules/message/message.rules.ts, MAX_USER_ID_LENGTH), in characters. */
const TEXT_LIMIT = 4000;
const NAME_LIMIT = 100;

type InboxEntry = InboxQuery['myChats']['nodes'][number];
type Member = NonNullable<MembersQuery['chat']>['members'][number];

interface OpenChat {
  chatId: string;
  /** The newest seq shown; the live feed continues after it. */
  newestSeq: number;
  olderCursor: string | null;
  hasOlder: boolean;
  loadingOlder: boolean;
  /** The newest seq sent to markRead. */
  markedSeq: number;
  members: Member[];
  stop(): void;
}

interface Session {
  token: string;
  userId: string;
  socket: Client;
  inbox: Map<string, InboxEntry>;
  open?: OpenChat;
  /** The posts not yet seen delivered, by clientMessageId: shown again when their chat is opened again. */
  unsent: Map<string, HTMLLIElement>;
}

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const view = {
  signIn: byId('sign-in'),
  signInError: byId('sign-in-error'),
  chat: byId('chat'),
  status: byId('status'),
  whoami: byId('whoami'),
  signOut: byId<HTMLButtonElement>('sign-out'),
  inbox: byId<HTMLUListElement>('inbox'),
  inboxError: byId('inbox-error'),
  title: byId('chat-title'),
  membersToggle: byId<HTMLButtonElement>('members-toggle'),
  messages: byId<HTMLOListElement>('messages'),
  chatError: byId('chat-error'),
  composer: byId<HTMLFormElement>('composer'),
  text: document.querySelector<HTMLTextAreaElement>('#composer textarea')!,
  textCount: byId('text-count'),
  members: byId<HTMLUListElement>('members'),
};

let session: Session | undefined;

/** A failure worth retrying: no answer (the network, a server restarting), or a gateway's or our 502-504. */
class Unreachable extends Error {}

/** An answer with a GraphQL error: its `extensions.code`, and for RATE_LIMITED the seconds to wait. */
class Refused extends Error {
  constructor(message: string, readonly code?: string, readonly retryAfter?: number) {
    super(message);
  }
}

async function request<R, V>(document: TypedDocumentString<R, V>, variables: V, token = session?.token): Promise<R> {
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch (error) {
    throw new Unreachable(`The server did not answer (${error})`);
  }
  if (response.status >= 502 && response.status <= 504) throw new Unreachable('The server is unavailable for a moment');
  const body = (await response.json()) as { data?: R; errors?: { message: string; extensions?: { code?: string; retryAfter?: number } }[] };
  const error = body.errors?.[0];
  if (error?.extensions?.code === 'UNAUTHENTICATED' && session) signOut('Your token was refused or has expired: sign in again.');
  if (error || !body.data) throw new Refused(error?.message ?? `HTTP ${response.status}`, error?.extensions?.code, error?.extensions?.retryAfter);
  return body.data;
}

/** An element with text content (never HTML) and attributes. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, ...children: (Node | string)[]) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A clientMessageId; crypto.randomUUID needs a secure context, which a page on http://<lan address> is not. */
const newMessageId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

// ---- sign-in

function showSignIn(error = '') {
  view.chat.hidden = true;
  view.signOut.hidden = true;
  view.whoami.textContent = '';
  view.status.textContent = '';
  view.signIn.hidden = false;
  view.signInError.textContent = error;
}

async function signIn(token: string) {
  try {
    const { viewer } = await request(MeDocument, {}, token);
    sessionStorage.setItem(TOKEN_KEY, token);
    start(token, viewer.userId);
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(messageOf(error));
  }
}

function signOut(error = '') {
  if (!session) return;
  closeChat(session);
  session.socket.dispose();
  session = undefined;
  sessionStorage.removeItem(TOKEN_KEY);
  showSignIn(error);
}

byId<HTMLFormElement>('name-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const userId = (new FormData(event.target as HTMLFormElement).get('userId') as string).trim();
  if (!userId || userId.length > NAME_LIMIT) return showSignIn(`Enter a name of 1 to ${NAME_LIMIT} characters.`);
  let body: { token?: string; errors?: { message: string }[] };
  try {
    const response = await fetch('/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }) });
    body = await response.json().catch(() => ({ errors: [{ message: `HTTP ${response.status}` }] })); // a proxy's HTML page
  } catch (error) {
    return showSignIn(`The server did not answer (${messageOf(error)})`);
  }
  if (body.token) return signIn(body.token);
  showSignIn(body.errors?.[0]?.message ?? 'No token in the answer');
});

byId<HTMLFormElement>('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = (new FormData(event.target as HTMLFormElement).get('token') as string).trim().replace(/^Bearer\s+/i, '');
  void signIn(token);
});

view.signOut.addEventListener('click', () => signOut());

// A narrow screen shows one column: the inbox, or the open chat with a back button and its members under a toggle.
byId('back').addEventListener('click', () => {
  if (!session) return;
  closeChat(session);
  renderInbox(session);
});
view.membersToggle.addEventListener('click', () => {
  const shown = view.chat.classList.toggle('members-open');
  view.membersToggle.setAttribute('aria-expanded', String(shown));
});

// ---- the session: one socket for the inbox and the open chat

function start(token: string, userId: string) {
  const socket = createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    connectionParams: () => ({ authorization: `Bearer ${token}` }),
    // Retry every close (a restart: 1001, the network: 1006), forever, at most 10 s apart.
    shouldRetry: () => true,
    retryAttempts: Infinity,
    retryWait: (retries) => wait(Math.min(500 * 2 ** retries, RETRY_MAX_MS) + Math.random() * 500),
    on: {
      connected: (_socket, _payload, wasRetry) => {
        if (session?.socket !== socket) return; // signed out meanwhile
        view.status.textContent = 'live';
        view.status.className = 'live';
        if (wasRetry) void loadInbox(); // the inbox feed is a state feed: read it again after a gap
      },
      closed: (event) => {
        if (session?.socket !== socket) return; // closed by signing out
        if ((event as CloseEvent).code === 4403) return signOut('Your token was refused or has expired: sign in again.');
        view.status.textContent = 'reconnecting…';
        view.status.className = 'down';
      },
    },
  });
  session = { token, userId, socket, inbox: new Map(), unsent: new Map() };
  view.signIn.hidden = true;
  view.chat.hidden = false;
  view.signOut.hidden = false;
  view.whoami.textContent = `signed in as ${userId}`;
  followInbox(session);
  void loadInbox();
}

// ---- inbox

/** Reads the inbox afresh; a failure is shown, and the next reconnect or new chat reads it again. */
async function loadInbox() {
  const current = session;
  if (!current) return;
  try {
    const { myChats } = await request(InboxDocument, {});
    if (session !== current) return;
    current.inbox = new Map(myChats.nodes.map((chat) => [chat.id, chat]));
    view.inboxError.textContent = '';
    renderInbox(current);
  } catch (error) {
    view.inboxError.textContent = `Could not read your chats: ${messageOf(error)}`;
  }
}

function followInbox(current: Session) {
  current.socket.subscribe<InboxFeedSubscription>(
    { query: InboxFeedDocument.toString() },
    {
      next: ({ data }) => {
        const update = data?.inboxUpdated;
        if (!update || session !== current) return;
        const known = current.inbox.get(update.chatId);
        if (update.chat && !known) return void loadInbox(); // a new chat: the inbox query brings its members
        if (update.chat) current.inbox.set(update.chatId, { ...known!, ...update.chat });
        else current.inbox.delete(update.chatId);
        if (!update.chat && current.open?.chatId === update.chatId) closeChat(current);
        renderInbox(current);
      },
      error: () => {}, // the socket's retries never give up; a GraphQL error here would be a bug of ours
      complete: () => {},
    },
  );
}

function chatTitle(current: Session, chatId: string): string {
  const others = current.inbox.get(chatId)?.members.map((m) => m.userId).filter((id) => id !== current.userId) ?? [];
  return others.length ? others.join(', ') : 'just you';
}

function renderInbox(current: Session) {
  const chats = [...current.inbox.values()].sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt));
  view.inbox.replaceChildren(
    ...chats.map((chat) => {
      const last = chat.lastMessage ? `${chat.lastMessage.sender}: ${chat.lastMessage.text}` : 'no messages yet';
      const item = el(
        'li',
        { 'data-chat-id': chat.id, class: chat.id === current.open?.chatId ? 'open' : '' },
        el('span', { class: 'title' }, chatTitle(current, chat.id)),
        el('span', { class: 'last' }, last),
      );
      if (chat.unreadCount > 0) item.append(el('span', { class: 'badge', title: 'unread' }, String(chat.unreadCount)));
      item.addEventListener('click', () => void openChat(current, chat.id));
      return item;
    }),
  );
}

byId<HTMLFormElement>('new-chat').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target as HTMLFormElement;
  const current = session;
  if (!current) return;
  const members = (new FormData(form).get('members') as string).split(',').map((id) => id.trim()).filter(Boolean);
  try {
    const { startChat } = await request(StartConversationDocument, { members });
    form.reset();
    await loadInbox();
    await openChat(current, startChat.id);
  } catch (error) {
    view.inboxError.textContent = messageOf(error);
  }
});

// ---- the open conversation

const showChatError = (error: unknown) => void (view.chatError.textContent = messageOf(error));

function closeChat(current: Session) {
  current.open?.stop();
  current.open = undefined;
  view.chat.classList.remove('chat-open', 'members-open');
  view.membersToggle.setAttribute('aria-expanded', 'false');
}

async function openChat(current: Session, chatId: string) {
  closeChat(current);
  const open: OpenChat = { chatId, newestSeq: 0, olderCursor: null, hasOlder: false, loadingOlder: false, markedSeq: 0, members: [], stop: () => {} };
  current.open = open;
  renderInbox(current);
  view.chat.classList.add('chat-open');
  view.title.textContent = chatTitle(current, chatId);
  view.messages.replaceChildren();
  view.members.replaceChildren();
  view.chatError.textContent = '';

  const history = await request(HistoryDocument, { chatId, before: null }).catch(showChatError);
  if (!history || current.open !== open) return;
  const { messages } = history;
  showOlder(current, open, messages);
  showUnsent(current, chatId, messages.nodes);
  view.messages.scrollTop = view.messages.scrollHeight;
  if (view.messages.scrollHeight <= view.messages.clientHeight) void loadOlder(current, open); // nothing to scroll yet
  const stopFeed = followMessages(current.socket, {
    chatId,
    afterSeq: open.newestSeq,
    onMessage: (message) => showNew(current, open, message),
    onError: (errors) => showChatError(errors.map((e) => e.message).join('; ')),
  });
  const refresh = setInterval(() => void refreshMembers(current, open), MEMBERS_REFRESH_MS);
  open.stop = () => {
    stopFeed();
    clearInterval(refresh);
  };
  await refreshMembers(current, open);
  markReadIfSeen(current, open);
}

function messageElement(current: Session, message: ChatMessageFragment) {
  const kind = message.system ? 'system' : message.sender === current.userId ? 'mine' : 'theirs';
  const time = new Date(message.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return el(
    'li',
    { 'data-seq': String(message.seq), class: kind },
    el('span', { class: 'meta' }, `${message.sender} · ${time}`),
    el('span', { class: 'text' }, message.text),
  );
}

/** A page of older messages goes on top, keeping what is on screen in place. */
function showOlder(current: Session, open: OpenChat, page: HistoryQuery['messages']) {
  const list = view.messages;
  const fromBottom = list.scrollHeight - list.scrollTop;
  list.prepend(...page.nodes.map((message) => messageElement(current, message)));
  list.scrollTop = list.scrollHeight - fromBottom;
  open.newestSeq = Math.max(open.newestSeq, page.nodes.at(-1)?.seq ?? 0);
  open.olderCursor = page.pageInfo.startCursor ?? null;
  open.hasOlder = page.pageInfo.hasPreviousPage;
}

async function loadOlder(current: Session, open: OpenChat) {
  if (!open.hasOlder || open.loadingOlder) return;
  open.loadingOlder = true;
  const older = await request(HistoryDocument, { chatId: open.chatId, before: open.olderCursor })
    .catch(showChatError)
    .finally(() => (open.loadingOlder = false));
  if (!older || current.open !== open) return;
  showOlder(current, open, older.messages);
  if (view.messages.scrollHeight <= view.messages.clientHeight) await loadOlder(current, open); // nothing to scroll yet
}

/** A live message goes at the end (before the ones still being sent), and follows it down if the reader was there. */
function showNew(current: Session, open: OpenChat, message: ChatMessageFragment) {
  const list = view.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  if (message.clientMessageId) forget(current, message.clientMessageId);
  list.insertBefore(messageElement(current, message), list.querySelector('.pending'));
  open.newestSeq = message.seq;
  if (atBottom) list.scrollTop = list.scrollHeight;
  // Posting moves the poster's marker to its message: shown at once, before the next read of the markers.
  open.members = open.members.map((m) => (m.userId === message.sender ? { ...m, lastReadSeq: Math.max(m.lastReadSeq, message.seq) } : m));
  renderMembers(current, open);
  markReadIfSeen(current, open);
}

view.messages.addEventListener('scroll', () => {
  const open = session?.open;
  if (!session || !open) return;
  if (view.messages.scrollTop < 40) void loadOlder(session, open);
  markReadIfSeen(session, open);
});
document.addEventListener('visibilitychange', () => session?.open && markReadIfSeen(session, session.open));

/** markRead once the newest message is on screen (a failed one is tried again on the next occasion). */
function markReadIfSeen(current: Session, open: OpenChat) {
  if (document.visibilityState !== 'visible' || open.newestSeq <= open.markedSeq) return;
  const newest = view.messages.querySelector(`[data-seq="${open.newestSeq}"]`);
  if (!newest) return;
  const box = view.messages.getBoundingClientRect();
  const rect = newest.getBoundingClientRect();
  if (rect.bottom <= box.top || rect.top >= box.bottom) return;
  const seq = open.newestSeq;
  open.markedSeq = seq;
  renderMembers(current, open);
  request(MarkReadDocument, { chatId: open.chatId, seq }).catch(() => {
    if (open.markedSeq === seq) open.markedSeq = 0;
  });
}

async function refreshMembers(current: Session, open: OpenChat) {
  const { chat } = await request(MembersDocument, { chatId: open.chatId }).catch(() => ({ chat: undefined }));
  if (current.open !== open || !chat) return;
  open.members = chat.members;
  renderMembers(current, open);
  markReadIfSeen(current, open); // one that failed while the server was away
}

function renderMembers(current: Session, open: OpenChat) {
  view.members.replaceChildren(
    ...open.members.map((member) => {
      const lastRead = member.userId === current.userId ? Math.max(member.lastReadSeq, open.markedSeq) : member.lastReadSeq;
      const unread = Math.max(open.newestSeq - lastRead, 0);
      const name = member.userId === current.userId ? `${member.userId} (you)` : member.userId;
      return el(
        'li',
        { 'data-user-id': member.userId, 'data-unread': String(unread) },
        el('span', { class: 'name' }, name),
        unread ? el('span', { class: 'badge', title: `has not read the last ${unread}` }, `${unread} unread`) : el('span', { class: 'read' }, '✓ read'),
      );
    }),
  );
}

// ---- the composer

/** Characters as the server counts them (code points: an emoji is one). */
const lengthOf = (text: string) => [...text].length;

function showTextCount() {
  const length = lengthOf(view.text.value.trim());
  const over = length > TEXT_LIMIT;
  const count = length > TEXT_LIMIT * 0.9 ? `${length} / ${TEXT_LIMIT} characters` : '';
  view.textCount.textContent = over ? `${count}: too long to send, shorten it by ${length - TEXT_LIMIT}` : count;
  view.textCount.classList.toggle('error', over);
}

view.text.addEventListener('input', showTextCount);
view.text.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return; // Shift+Enter: a new line
  event.preventDefault();
  view.composer.requestSubmit();
});

view.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = view.text.value.trim();
  if (!session?.open || !text || lengthOf(text) > TEXT_LIMIT) return; // the count says why
  view.composer.reset();
  showTextCount();
  send(session, session.open.chatId, text);
});

/** A post of ours this page shows as pending or failed is no longer: delivered or discarded. */
function forget(current: Session, clientMessageId: string) {
  current.unsent.get(clientMessageId)?.remove();
  current.unsent.delete(clientMessageId);
}

/** The chat's posts still pending or failed go below its messages again, unless the history shows them delivered. */
function showUnsent(current: Session, chatId: string, delivered: readonly ChatMessageFragment[]) {
  for (const { clientMessageId } of delivered) if (clientMessageId) forget(current, clientMessageId);
  view.messages.append(...[...current.unsent.values()].filter((item) => item.dataset.chatId === chatId));
}

/**
 * Shows the message as pending, below the delivered ones, until the live feed brings it to its place by seq. It is
 * sent, and sent again while the server does not answer (capped backoff) or asks to wait (RATE_LIMITED), always with
 * the same clientMessageId: stored once however often it is tried. A refusal that waiting cannot mend (a GraphQL
 * error such as BAD_USER_INPUT or NOT_FOUND) marks it failed, with "retry" (the same id) and "discard".
 */
function send(current: Session, chatId: string, text: string) {
  const clientMessageId = newMessageId();
  const meta = el('span', { class: 'meta' });
  const retry = el('button', { type: 'button' }, 'retry');
  const discard = el('button', { type: 'button' }, 'discard');
  const pending = el('li', { class: 'mine pending', 'data-chat-id': chatId }, meta, el('span', { class: 'text' }, text), el('span', { class: 'actions' }, retry, discard));
  current.unsent.set(clientMessageId, pending);
  view.messages.append(pending);
  view.messages.scrollTop = view.messages.scrollHeight;

  const deliver = async () => {
    pending.classList.remove('failed');
    for (let attempt = 0; session === current; attempt++) {
      meta.textContent = 'sending…';
      try {
        await request(SendDocument, { chatId, text, clientMessageId });
        if (!pending.isConnected) forget(current, clientMessageId); // its chat is not open: its history will show it
        return;
      } catch (error) {
        if (error instanceof Refused && error.code === 'RATE_LIMITED') {
          await countdown(meta, error.retryAfter ?? 1);
        } else if (error instanceof Unreachable) {
          meta.textContent = 'waiting for the connection…';
          await wait(Math.min(500 * 2 ** attempt, RETRY_MAX_MS));
        } else {
          pending.classList.add('failed');
          meta.textContent = `not sent: ${messageOf(error)}`;
          pending.scrollIntoView({ block: 'nearest' });
          return;
        }
      }
    }
  };
  retry.addEventListener('click', () => void deliver());
  discard.addEventListener('click', () => forget(current, clientMessageId));
  void deliver();
}

/** Waits `seconds`, counting them down in `meta`. */
async function countdown(meta: HTMLElement, seconds: number) {
  for (let left = seconds; left > 0; left--) {
    meta.textContent = `too many messages: sending in ${left} s`;
    await wait(1000);
  }
}

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) void signIn(saved);
else showSignIn();
