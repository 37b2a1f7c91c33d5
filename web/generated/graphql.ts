/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type InboxReason =
  /** The caller was added to the chat (or started it). */
  | 'JOINED'
  /** The caller left or was removed; `chat` is then null. */
  | 'LEFT'
  /** A message was posted to the chat. */
  | 'MESSAGE'
  /** The caller's read marker moved (e.g. from another device). */
  | 'READ';

export type ChatMessageFragment = { id: string, seq: number, sender: string, text: string, system: boolean, createdAt: string, clientMessageId: string | null };

export type LiveMessagesSubscriptionVariables = Exact<{
  chatId: string | number;
  afterSeq: number;
}>;


export type LiveMessagesSubscription = { messageAdded: { id: string, seq: number, sender: string, text: string, system: boolean, createdAt: string, clientMessageId: string | null } };

export type InboxChatFragment = { id: string, lastActivityAt: string, unreadCount: number, lastMessage: { sender: string, text: string } | null };

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { viewer: { userId: string } };

export type InboxQueryVariables = Exact<{ [key: string]: never; }>;


export type InboxQuery = { myChats: { nodes: Array<{ id: string, lastActivityAt: string, unreadCount: number, members: Array<{ userId: string }>, lastMessage: { sender: string, text: string } | null }> } };

export type InboxFeedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type InboxFeedSubscription = { inboxUpdated: { chatId: string, reason: InboxReason, chat: { id: string, lastActivityAt: string, unreadCount: number, lastMessage: { sender: string, text: string } | null } | null } };

export type StartConversationMutationVariables = Exact<{
  members: Array<string | number> | string | number;
}>;


export type StartConversationMutation = { startChat: { id: string } };

export type MembersQueryVariables = Exact<{
  chatId: string | number;
}>;


export type MembersQuery = { chat: { id: string, members: Array<{ userId: string, lastReadSeq: number }> } | null };

export type HistoryQueryVariables = Exact<{
  chatId: string | number;
  before?: string | null | undefined;
}>;


export type HistoryQuery = { messages: { nodes: Array<{ id: string, seq: number, sender: string, text: string, system: boolean, createdAt: string, clientMessageId: string | null }>, pageInfo: { hasPreviousPage: boolean, startCursor: string | null } } };

export type SendMutationVariables = Exact<{
  chatId: string | number;
  text: string;
  clientMessageId: string;
}>;


export type SendMutation = { postMessage: { seq: number } };

export type MarkReadMutationVariables = Exact<{
  chatId: string | number;
  seq: number;
}>;


export type MarkReadMutation = { markRead: { id: string } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const ChatMessageFragmentDoc = new TypedDocumentString(`
    fragment ChatMessage on Message {
  id
  seq
  sender
  text
  system
  createdAt
  clientMessageId
}
    `, {"fragmentName":"ChatMessage"}) as unknown as TypedDocumentString<ChatMessageFragment, unknown>;
export const InboxChatFragmentDoc = new TypedDocumentString(`
    fragment InboxChat on Chat {
  id
  lastActivityAt
  unreadCount
  lastMessage {
    sender
    text
  }
}
    `, {"fragmentName":"InboxChat"}) as unknown as TypedDocumentString<InboxChatFragment, unknown>;
export const LiveMessagesDocument = new TypedDocumentString(`
    subscription LiveMessages($chatId: ID!, $afterSeq: Int!) {
  messageAdded(chatId: $chatId, afterSeq: $afterSeq) {
    ...ChatMessage
  }
}
    fragment ChatMessage on Message {
  id
  seq
  sender
  text
  system
  createdAt
  clientMessageId
}`) as unknown as TypedDocumentString<LiveMessagesSubscription, LiveMessagesSubscriptionVariables>;
export const MeDocument = new TypedDocumentString(`
    query Me {
  viewer {
    userId
  }
}
    `) as unknown as TypedDocumentString<MeQuery, MeQueryVariables>;
export const InboxDocument = new TypedDocumentString(`
    query Inbox {
  myChats(first: 50) {
    nodes {
      ...InboxChat
      members {
        userId
      }
    }
  }
}
    fragment InboxChat on Chat {
  id
  lastActivityAt
  unreadCount
  lastMessage {
    sender
    text
  }
}`) as unknown as TypedDocumentString<InboxQuery, InboxQueryVariables>;
export const InboxFeedDocument = new TypedDocumentString(`
    subscription InboxFeed {
  inboxUpdated {
    chatId
    reason
    chat {
      ...InboxChat
    }
  }
}
    fragment InboxChat on Chat {
  id
  lastActivityAt
  unreadCount
  lastMessage {
    sender
    text
  }
}`) as unknown as TypedDocumentString<InboxFeedSubscription, InboxFeedSubscriptionVariables>;
export const StartConversationDocument = new TypedDocumentString(`
    mutation StartConversation($members: [ID!]!) {
  startChat(members: $members) {
    id
  }
}
    `) as unknown as TypedDocumentString<StartConversationMutation, StartConversationMutationVariables>;
export const MembersDocument = new TypedDocumentString(`
    query Members($chatId: ID!) {
  chat(id: $chatId) {
    id
    members {
      userId
      lastReadSeq
    }
  }
}
    `) as unknown as TypedDocumentString<MembersQuery, MembersQueryVariables>;
export const HistoryDocument = new TypedDocumentString(`
    query History($chatId: ID!, $before: String) {
  messages(chatId: $chatId, last: 30, before: $before) {
    nodes {
      ...ChatMessage
    }
    pageInfo {
      hasPreviousPage
      startCursor
    }
  }
}
    fragment ChatMessage on Message {
  id
  seq
  sender
  text
  system
  createdAt
  clientMessageId
}`) as unknown as TypedDocumentString<HistoryQuery, HistoryQueryVariables>;
export const SendDocument = new TypedDocumentString(`
    mutation Send($chatId: ID!, $text: String!, $clientMessageId: String!) {
  postMessage(
    input: {chatId: $chatId, text: $text, clientMessageId: $clientMessageId}
  ) {
    seq
  }
}
    `) as unknown as TypedDocumentString<SendMutation, SendMutationVariables>;
export const MarkReadDocument = new TypedDocumentString(`
    mutation MarkRead($chatId: ID!, $seq: Int!) {
  markRead(chatId: $chatId, seq: $seq) {
    id
  }
}
    `) as unknown as TypedDocumentString<MarkReadMutation, MarkReadMutationVariables>;