// The plan-store service's tables, in its own PostgreSQL schema `plan_store`.
import { inboxTable, outboxTable } from '@samsyn/bus';
import { pgSchema } from 'drizzle-orm/pg-core';

export const plan_storeSchema = pgSchema('plan_store');

export const outbox = outboxTable(plan_storeSchema);
export const inbox = inboxTable(plan_storeSchema);
