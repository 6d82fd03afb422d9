// The notification service's tables, in its own PostgreSQL schema `notification`.
import { inboxTable, outboxTable } from '@samsyn/bus';
import { sql } from 'drizzle-orm';
import { check, index, integer, pgSchema, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const notificationSchema = pgSchema('notification');

/** One notification to one organisation unit (and user, where known), served as a FHIR Communication. */
export const communications = notificationSchema.table(
  'communication',
  {
    id: uuid('id').primaryKey(),
    recipientOrg: text('recipient_org').notNull(),
    recipientUser: text('recipient_user'),
    senderOrg: text('sender_org'),
    /** Notification type code (sip-notification-type). */
    category: text('category').notNull(),
    caseId: uuid('case_id').notNull(),
    /** The Task (or other resource) the notification is about, e.g. Task/<invitation id>. */
    about: text('about').notNull(),
    priority: text('priority').notNull().default('routine'),
    text: text('text').notNull(),
    /** Inbox state: unread → read → done. */
    inboxState: text('inbox_state').notNull().default('unread'),
    /** The event that caused it; with recipient, unique, so one event never notifies a unit twice. */
    sourceEventId: text('source_event_id').notNull(),
    versionId: integer('version_id').notNull().default(1),
    sentAt: timestamp('sent_at', { withTimezone: true }).notNull(),
    lastUpdated: timestamp('last_updated', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('communication_event_recipient_uq').on(t.sourceEventId, t.recipientOrg, t.about),
    index('communication_recipient_idx').on(t.recipientOrg, t.sentAt),
    check('communication_inbox_state_ck', sql`${t.inboxState} in ('unread','read','done')`),
    check('communication_priority_ck', sql`${t.priority} in ('routine','urgent','asap','stat')`),
  ],
);

export const outbox = outboxTable(notificationSchema);
export const inbox = inboxTable(notificationSchema);

export type CommunicationRow = typeof communications.$inferSelect;
