import { badInput } from '../../errors';
import type { ActivityCursor } from './chat.repository';

const CURSOR = /^act:(\d{1,16}):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** A position in `myChats` order: the chat's activity time and id, so it stays valid while chats move. */
export function encodeActivityCursor({ lastActivityAt, id }: ActivityCursor): string {
  return Buffer.from(`act:${lastActivityAt.getTime()}:${id}`).toString('base64url');
}

export function decodeActivityCursor(cursor: string, field: string): ActivityCursor {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw badInput(`${field} is not a valid cursor; use a cursor from a previous page`);
  return { lastActivityAt: new Date(Number(match[1])), id: match[2] };
}
