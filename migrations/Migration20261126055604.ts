import { Migration } from '@mikro-orm/migrations';

export class Migration20261126055604 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "chat" ("id" uuid not null, "created_at" timestamptz(3) not null, "message_count" int not null default 0, constraint "chat_pkey" primary key ("id"));`);

    this.addSql(`create table "message" ("id" uuid not null, "chat_id" uuid not null, "seq" int not null, "sender" varchar(100) not null, "text" text not null, "system" boolean not null default false, "created_at" timestamptz(3) not null, "client_message_id" varchar(64) null, constraint "message_pkey" primary key ("id"));`);
    this.addSql(`alter table "message" add constraint "message_chat_id_client_message_id_unique" unique ("chat_id", "client_message_id");`);
    this.addSql(`alter table "message" add constraint "message_chat_id_seq_unique" unique ("chat_id", "seq");`);

    this.addSql(`alter table "message" add constraint "message_chat_id_foreign" foreign key ("chat_id") references "chat" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "message" cascade;`);
    this.addSql(`drop table if exists "chat" cascade;`);
  }
}
