import type { Logger } from 'pino';
import type { AppPubSub, InboxReason } from '../../pubsub/pubsub';
import type { Repositories } from '../scope';

/**
 * Rings the inbox of the users a committed change concerns: one doorbell per user (`INBOX:<userId>`), never an
 * entity. Like MESSAGE_ADDED it is only a signal: the inbox reads the chat's state from the database.
 */
export class InboxService {
  constructor(
    private readonly pubSub: AppPubSub,
    private readonly logger?: Logger,
  ) {}

  notify(userIds: readonly string[], chatId: string, reason: InboxReason): void {
    for (const userId of userIds) this.pubSub.publish('INBOX', userId, { chatId, reason });
  }

  /**
   * Every member of the chat, looked up after the answer went out: a post into a 1,000-member chat does not wait
   * for 1,000 publishes. A failure is logged; inboxes are state feeds that re-read on reconnect.
   */
  notifyMembers(repositories: Repositories, chatId: string, reason: InboxReason): void {
    setImmediate(() => {
      repositories.members
        .userIdsOf(chatId)
        .then((userIds) => this.notify(userIds, chatId, reason))
        .catch((error) => this.logger?.warn({ err: error, chatId }, 'could not notify the inboxes of a chat'));
    });
  }
}
