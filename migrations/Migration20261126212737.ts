import { Migration } from '@mikro-orm/migrations';

/**
 * A member row by user is found on (user_id, chat_id): with `user_id` alone, a generic plan of "these chats, as this
 * user" could walk every membership of the user and filter by chat (bench W4: 48 ms for a user in 500 chats).
 */
export class Migration20261126212737 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "member_user_id_chat_id_index" on "member" ("user_id", "chat_id");`);
    this.addSql(`drop index "member_user_id_index";`);
  }

  override async down(): Promise<void> {
    this.addSql(`create index "member_user_id_index" on "member" ("user_id");`);
    this.addSql(`drop index "member_user_id_chat_id_index";`);
  }
}
