// The statistics service's tables, in its own PostgreSQL schema `statistics`.
import { inboxTable, outboxTable } from '@samsyn/bus';
import { pgSchema } from 'drizzle-orm/pg-core';

export const statisticsSchema = pgSchema('statistics');

export const outbox = outboxTable(statisticsSchema);
export const inbox = inboxTable(statisticsSchema);
