import type { Viewer } from '../../auth/viewer';
import { badInput, forbidden } from '../../errors';

export const LIMITS = { text: 4000, sender: 100, clientMessageId: 64, pageSize: 500, defaultPageSize: 50 } as const;

export interface NewMessage {
  /** A user's own id (filled in when omitted); a service must give it. */
  sender?: string | null;
  text: string;
  system?: boolean | null;
  clientMessageId?: string | null;
}

export type ValidMessage = { sender: string; text: string; system: boolean; clientMessageId: string | null };

/**
 * The invariants of a message's content, and who may post it: a user posts under its own id and never a system
 * message; a service posts under any sender it names. Every violation names the field and its limit.
 */
export function validateMessage(input: NewMessage, poster: Viewer): ValidMessage {
  const { text, clientMessageId } = input;
  const sender = senderOf(input, poster);
  assertStorable({ sender, text, clientMessageId });
  if (text.trim() === '') throw badInput('text must not be empty or only whitespace');
  assertAtMost('text', text, LIMITS.text);
  if (sender.trim() === '') throw badInput('sender must not be empty');
  assertAtMost('sender', sender, LIMITS.sender);
  if (clientMessageId === '') throw badInput('clientMessageId must not be empty; omit it instead');
  if (clientMessageId != null) assertAtMost('clientMessageId', clientMessageId, LIMITS.clientMessageId);
  return { sender, text, system: input.system ?? false, clientMessageId: clientMessageId ?? null };
}

function senderOf({ sender, system }: NewMessage, poster: Viewer): string {
  if (poster.service) {
    if (sender == null) throw badInput('sender is required when a service posts');
    return sender;
  }
  if (sender != null && sender !== poster.userId) throw forbidden(`sender must be your own user id "${poster.userId}" or omitted`);
  if (system) throw forbidden('only a service may post system messages');
  return poster.userId;
}

/** Counts characters as PostgreSQL does (code points), so an emoji is one character, not two UTF-16 units. */
export function assertAtMost(field: string, value: string, limit: number): void {
  if (value.length <= limit) return;
  const characters = [...value].length;
  if (characters > limit) throw badInput(`${field} must be at most ${limit} characters, got ${characters}`);
}

/** PostgreSQL text can hold neither NUL nor unpaired UTF-16 surrogates; refuse them rather than fail or mangle. */
export function assertStorable(fields: Record<string, string | null | undefined>): void {
  for (const [field, value] of Object.entries(fields)) {
    if (value != null && (value.includes('\0') || !value.isWellFormed())) {
      throw badInput(`${field} must be valid Unicode text without NUL characters`);
    }
  }
}

export interface PageRequest {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** Seqs `start..end` of the page (empty when start > end), computed from the chat's count alone: seqs are gap-free. */
export interface SeqWindow {
  start: number;
  end: number;
}

export function seqWindow(messageCount: number, page: PageRequest): SeqWindow {
  const { first, last } = page;
  if (first != null && last != null) throw badInput('pass either first or last, not both');
  for (const [name, size] of [['first', first], ['last', last]] as const) {
    if (size != null && (size < 1 || size > LIMITS.pageSize)) {
      throw badInput(`${name} must be between 1 and ${LIMITS.pageSize}, got ${size}`);
    }
  }
  const lowerBound = page.after != null ? decodeCursor(page.after, 'after') : 0;
  const upperBound = page.before != null ? decodeCursor(page.before, 'before') : Infinity;
  const highest = Math.min(upperBound - 1, messageCount);
  if (last != null) return { start: Math.max(lowerBound + 1, highest - last + 1), end: highest };
  return { start: lowerBound + 1, end: Math.min(highest, lowerBound + (first ?? LIMITS.defaultPageSize)) };
}

const CURSOR = /^seq:([1-9][0-9]{0,9})$/;

export function encodeCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string, field: string): number {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw badInput(`${field} is not a valid cursor; use a cursor from a previous page`);
  return Number(match[1]);
}
