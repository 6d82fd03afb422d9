// Test tables for the bus: the outbox and inbox factories in a schema of the test's own.
import type { Db } from '@samsyn/db';
import { sql } from 'drizzle-orm';
import { pgSchema } from 'drizzle-orm/pg-core';
import { inboxTable, outboxTable } from '../src/tables.ts';

export const testSchema = pgSchema('bustest');
export const outbox = outboxTable(testSchema);
export const inbox = inboxTable(testSchema);

/** The DDL drizzle-kit generates for the two factories (see any service's 0000_init.sql). */
export async function createTables(db: Db): Promise<void> {
  await db.execute(
    sql.raw(`
    create schema if not exists bustest;
    create table bustest.outbox (
      seq bigserial primary key, id uuid not null unique, subject text not null, type text not null,
      aggregate text not null, headers jsonb not null, payload jsonb not null,
      created_at timestamptz not null default now(), published_at timestamptz,
      attempts integer not null default 0, last_error text);
    create index outbox_unpublished_idx on bustest.outbox (seq) where published_at is null;
    create table bustest.inbox (
      consumer text not null, event_id text not null, processed_at timestamptz not null default now(),
      primary key (consumer, event_id));
  `),
  );
}
