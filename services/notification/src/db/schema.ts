// The notification service's tables, in its own PostgreSQL schema `notification`.
import { inboxTable, outboxTable } from '@samsyn/bus';
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

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
    /** The event that caused it. */
    sourceEventId: text('source_event_id').notNull(),
    /** What the notification means (type, recipient, the thing it is about): duplicates never get a second row. */
    dedupeKey: text('dedupe_key'),
    /** The staff inbox page that shows the thing, relative to the service root. */
    link: text('link'),
    /** Outcome of the e-mails for it: pending, sent or failed (null when nobody wants e-mail). */
    emailState: text('email_state'),
    stateChangedBy: text('state_changed_by'),
    versionId: integer('version_id').notNull().default(1),
    sentAt: timestamp('sent_at', { withTimezone: true }).notNull(),
    lastUpdated: timestamp('last_updated', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('communication_recipient_idx').on(t.recipientOrg, t.sentAt),
    uniqueIndex('communication_dedupe_uq').on(t.dedupeKey),
    index('communication_case_idx').on(t.caseId),
    index('communication_source_event_idx').on(t.sourceEventId),
    check('communication_inbox_state_ck', sql`${t.inboxState} in ('unread','read','done')`),
    check('communication_priority_ck', sql`${t.priority} in ('routine','urgent','asap','stat')`),
  ],
);

/** The organisations taking part in a case, learnt from the events, so case-wide news reaches all of them. */
export const caseParties = notificationSchema.table(
  'case_party',
  {
    caseId: uuid('case_id').notNull(),
    org: text('org').notNull(),
    /** requester, invitee, lead or participant (the strongest role seen). */
    role: text('role').notNull(),
    addedAt: timestamp('added_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.caseId, t.org] })],
);

/** Who wants e-mail for a unit's notifications: the unit's mailbox (user '') or one staff member. */
export const emailPreferences = notificationSchema.table(
  'email_preference',
  {
    org: text('org').notNull(),
    userId: text('user_id').notNull().default(''),
    address: text('address').notNull(),
    /** immediate: one e-mail per notification; digest: one e-mail per interval; off. */
    mode: text('mode').notNull(),
    digestMinutes: integer('digest_minutes').notNull().default(60),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.org, t.userId] }),
    check('email_preference_mode_ck', sql`${t.mode} in ('immediate','digest','off')`),
  ],
);

/** One e-mail to send (or one notification's line in a digest), retried with backoff until sent or failed. */
export const emailDeliveries = notificationSchema.table(
  'email_delivery',
  {
    id: uuid('id').primaryKey(),
    communicationId: uuid('communication_id').notNull(),
    address: text('address').notNull(),
    digest: boolean('digest').notNull().default(false),
    state: text('state').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull(),
    lastError: text('last_error'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('email_delivery_uq').on(t.communicationId, t.address),
    index('email_delivery_due_idx').on(t.nextAttemptAt).where(sql`state = 'pending'`),
    check('email_delivery_state_ck', sql`${t.state} in ('pending','sent','failed')`),
  ],
);

/** A record system's FHIR Subscription (R4 Subscriptions Backport IG), with its delivery health. */
export const subscriptions = notificationSchema.table(
  'subscription',
  {
    id: uuid('id').primaryKey(),
    ownerOrg: text('owner_org').notNull(),
    /** requested → active (handshake answered) → error (deliveries fail) → active again; off when stopped. */
    status: text('status').notNull(),
    topic: text('topic').notNull(),
    /** Filters as search parameters: [{ name, value }]. */
    filters: jsonb('filters').$type<{ name: string; value: string }[]>().notNull(),
    endpoint: text('endpoint').notNull(),
    headers: jsonb('headers').$type<string[]>().notNull(),
    content: text('content').notNull(),
    heartbeatSeconds: integer('heartbeat_seconds'),
    timeoutSeconds: integer('timeout_seconds').notNull().default(10),
    /** The resource as the client sent it, with server-owned fields replaced on read. */
    resource: jsonb('resource').$type<Record<string, unknown>>().notNull(),
    eventsSinceStart: bigint('events_since_start', { mode: 'number' }).notNull().default(0),
    /** Consecutive failed deliveries; at the limit the status becomes error. */
    failures: integer('failures').notNull().default(0),
    lastError: text('last_error'),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastSentAt: timestamp('last_sent_at', { withTimezone: true }),
    versionId: integer('version_id').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUpdated: timestamp('last_updated', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('subscription_topic_idx').on(t.topic),
    check('subscription_status_ck', sql`${t.status} in ('requested','active','error','off')`),
    check('subscription_content_ck', sql`${t.content} in ('empty','id-only','full-resource')`),
  ],
);

/** Events matched to a subscription, numbered from 1; delivered in order, kept for $events. */
export const subscriptionEvents = notificationSchema.table(
  'subscription_event',
  {
    subscriptionId: uuid('subscription_id').notNull(),
    eventNumber: bigint('event_number', { mode: 'number' }).notNull(),
    sourceEventId: text('source_event_id').notNull(),
    /** The focus resource: Task/<id> or CarePlan/<id>. */
    focus: text('focus').notNull(),
    /** The focus as Samsyn knows it from the event, for full-resource payloads. */
    snapshot: jsonb('snapshot').$type<Record<string, unknown>>().notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.subscriptionId, t.eventNumber] }),
    uniqueIndex('subscription_event_source_uq').on(t.subscriptionId, t.sourceEventId, t.focus),
  ],
);

/** The SIP meetings as booked (from sip.meeting.*), for the citizen kallelse letter. No person data. */
export const meetings = notificationSchema.table('meeting', {
  appointmentId: uuid('appointment_id').primaryKey(),
  caseId: uuid('case_id').notNull(),
  start: timestamp('start', { withTimezone: true }).notNull(),
  end: timestamp('end', { withTimezone: true }).notNull(),
  mode: text('mode').notNull(),
  location: jsonb('location').$type<{ place?: string; url?: string; phone?: string }>(),
  /** BCP 47 code of the person's preferred language, as the booking named it. */
  language: text('language'),
  orgs: jsonb('orgs').$type<string[]>().notNull(),
  orgNames: jsonb('org_names').$type<Record<string, string>>(),
  personProtected: boolean('person_protected').notNull().default(false),
  status: text('status').notNull().default('booked'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const outbox = outboxTable(notificationSchema);
export const inbox = inboxTable(notificationSchema);

export type CommunicationRow = typeof communications.$inferSelect;
export type NewCommunication = typeof communications.$inferInsert;
export type SubscriptionRow = typeof subscriptions.$inferSelect;
export type SubscriptionEventRow = typeof subscriptionEvents.$inferSelect;
export type EmailPreferenceRow = typeof emailPreferences.$inferSelect;
export type MeetingRow = typeof meetings.$inferSelect;
