import { Migration } from '@mikro-orm/migrations';

/** Membership and read markers, the inbox's activity time, and chat_id first in every per-chat key (Citus-ready). */
export class Migration20261126171821 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "member" ("chat_id" uuid not null, "user_id" varchar(100) not null, "role" text check ("role" in ('OWNER', 'MEMBER')) not null, "joined_at" timestamptz(3) not null, "last_read_seq" int not null default 0, constraint "member_pkey" primary key ("chat_id", "user_id"));`);
    this.addSql(`create index "member_user_id_index" on "member" ("user_id");`);
    this.addSql(`alter table "member" add constraint "member_chat_id_foreign" foreign key ("chat_id") references "chat" ("id") on update cascade on delete cascade;`);

    // Existing chats: the newest message's time, or the chat's own while it is empty.
    this.addSql(`alter table "chat" add column "last_activity_at" timestamptz(3) null;`);
    this.addSql(`update "chat" set "last_activity_at" = coalesce((select "created_at" from "message" where "message"."chat_id" = "chat"."id" and "message"."seq" = "chat"."message_count"), "created_at");`);
    this.addSql(`alter table "chat" alter column "last_activity_at" set not null;`);

    this.addSql(`alter table "message" drop constraint "message_pkey";`);
    this.addSql(`alter table "message" add constraint "message_pkey" primary key ("chat_id", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "member" cascade;`);
    this.addSql(`alter table "chat" drop column "last_activity_at";`);
    this.addSql(`alter table "message" drop constraint "message_pkey";`);
    this.addSql(`alter table "message" add constraint "message_pkey" primary key ("id");`);
  }
}
