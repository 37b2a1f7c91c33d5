import type { Client } from 'graphql-ws';
import {
  MessageAddedDocument,
  type NewMessageInput,
  PostMessageDocument,
  type PostMessageMutation,
  StartChatDocument,
  StartChatWithDocument,
  type StartChatMutation,
} from '../../test/generated/graphql';
import { dataOf, graphql, type TestApp } from './harness';
import { type Feed, subscribe } from './subscriber';

/** Helpers the test files share. Each takes the server's GraphQL URL through `{ url }` (a TestApp or a process). */
interface Server {
  url: string;
}

/** A well-formed chat id that no chat has. */
export const UNKNOWN_CHAT_ID = '00000000-0000-4000-8000-000000000000';

/** The integers from..to, both included. */
export const range = (from: number, to: number) => Array.from({ length: Math.max(to - from + 1, 0) }, (_, i) => from + i);

export const seqsOf = (items: readonly { seq: number }[]) => items.map((item) => item.seq);

/** For `Feed.until`: an item at or past `seq` has arrived. */
export const reached = (seq: number) => (item: { seq: number }) => item.seq >= seq;

export async function startChat(on: Server, firstMessage?: NewMessageInput): Promise<StartChatMutation['startChat']> {
  return dataOf(await graphql(on.url, StartChatDocument, { firstMessage: firstMessage ?? null })).startChat;
}

/** Posts `count` messages ("message 0", "message 1", …), `concurrency` at a time, and returns them in seq order. */
export async function postMessages(on: Server, chatId: string, count: number, concurrency = 1) {
  const posted: PostMessageMutation['postMessage'][] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const text = `message ${next++}`;
      posted.push(dataOf(await graphql(on.url, PostMessageDocument, { input: { chatId, sender: 'poster', text } })).postMessage);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return posted.sort((a, b) => a.seq - b.seq);
}

/** Subscribes to `messageAdded` and records each message's id, chatId, seq and text. */
export function follow(client: Client, chatId: string, afterSeq?: number): Feed<{ id: string; chatId: string; seq: number; text: string }> {
  return subscribe(client, MessageAddedDocument, { chatId, afterSeq }, (data) => data.messageAdded);
}

/**
 * Resolves once `userId`'s inbox subscription is live. graphql-ws does not say when a subscription is in place, and a
 * change published before that is never delivered to it: start chats as the user until the JOINED of one arrives.
 */
export async function inboxLive(t: TestApp, userId: string, inbox: Feed<{ chatId: string; reason: string }>): Promise<void> {
  for (let attempt = 1; attempt <= 30; attempt++) {
    const { id } = dataOf(await t.as(userId).request(StartChatWithDocument, { firstMessage: { text: 'warm-up' } })).startChat;
    const joined = inbox.until((u) => u.chatId === id && u.reason === 'JOINED');
    const late = new Promise((resolve) => setTimeout(resolve, 1000, 'late'));
    if ((await Promise.race([joined, late])) !== 'late') return;
  }
  throw new Error(`the inbox subscription of ${userId} never went live`);
}
