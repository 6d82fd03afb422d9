// The invitation service's tables, in its own PostgreSQL schema `invitation`.
import { inboxTable, outboxTable } from '@samsyn/bus';
import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgSchema,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const invitationSchema = pgSchema('invitation');

/** One SIP case: the initiative Task as the record system sent it, plus the columns we search and gate on. */
export const cases = invitationSchema.table(
  'case',
  {
    id: uuid('id').primaryKey(),
    requesterOrg: text('requester_org').notNull(),
    identifierSystem: text('identifier_system'),
    identifierValue: text('identifier_value'),
    patientIdSystem: text('patient_id_system').notNull(),
    patientIdValue: text('patient_id_value').notNull(),
    /** HMAC pseudonym of the person (platform patientKey), for the access log. */
    patientKey: text('patient_key').notNull(),
    /** Protected identity (meta.security R): address and contact data never leave the initiating unit. */
    protectedIdentity: boolean('protected_identity').notNull().default(false),
    /** Why the case was cancelled or closed (consent-refused, consent-withdrawn, person-declined, withdrawn, …). */
    statusReason: text('status_reason'),
    status: text('status').notNull(),
    trigger: text('trigger').notNull(),
    dischargeReadyAt: timestamp('discharge_ready_at', { withTimezone: true }),
    versionId: integer('version_id').notNull().default(1),
    lastUpdated: timestamp('last_updated', { withTimezone: true }).notNull().defaultNow(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** The Task as received, without id/meta/status fields that Samsyn owns. */
    resource: jsonb('resource').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [
    // A record system's identifier is unique within the organisation that sent it (conditional create).
    uniqueIndex('case_identifier_uq').on(t.requesterOrg, t.identifierSystem, t.identifierValue),
    index('case_patient_idx').on(t.patientIdSystem, t.patientIdValue),
    index('case_requester_idx').on(t.requesterOrg, t.lastUpdated),
    check(
      'case_status_ck',
      sql`${t.status} in ('awaiting-consent','invited','scheduled','held','planned','followed-up','closed','cancelled')`,
    ),
    check('case_trigger_ck', sql`${t.trigger} in ('discharge','other')`),
  ],
);

/** One invitation per invited organisation (a Task with code sip-invitation, partOf the case). */
export const invitations = invitationSchema.table(
  'invitation',
  {
    id: uuid('id').primaryKey(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    org: text('org').notNull(),
    kind: text('kind').notNull(),
    status: text('status').notNull().default('requested'),
    /** Rejection reason as the unit gave it. */
    reason: text('reason'),
    /** The unit a rejecting summoned principal named to come instead. */
    substituteOrg: text('substitute_org'),
    /** The invitation this one replaces (a substitute's invitation points at the rejected one). */
    replaces: uuid('replaces'),
    /** Units this invitation was forwarded from, oldest first. */
    forwardedFrom: text('forwarded_from').array().notNull().default(sql`'{}'::text[]`),
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    answeredBy: text('answered_by'),
    versionId: integer('version_id').notNull().default(1),
    lastUpdated: timestamp('last_updated', { withTimezone: true }).notNull().defaultNow(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('invitation_case_org_uq').on(t.caseId, t.org),
    index('invitation_org_idx').on(t.org, t.status),
    check('invitation_kind_ck', sql`${t.kind} in ('summoned','invited')`),
    check('invitation_status_ck', sql`${t.status} in ('requested','accepted','rejected','cancelled')`),
  ],
);

/** What the active consent of a case covers, projected from sip.consent.* (SPEC §3: nothing goes uncovered). */
export const caseConsents = invitationSchema.table(
  'case_consent',
  {
    consentId: uuid('consent_id').primaryKey(),
    caseId: uuid('case_id').notNull(),
    coveredOrgs: text('covered_orgs').array().notNull(),
    periodStart: timestamp('period_start', { withTimezone: true }).notNull(),
    periodEnd: timestamp('period_end', { withTimezone: true }),
    status: text('status').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('case_consent_case_idx').on(t.caseId),
    check('case_consent_status_ck', sql`${t.status} in ('active','revoked','refused')`),
  ],
);

/** The SIP meeting (FHIR Appointment). */
export const appointments = invitationSchema.table(
  'appointment',
  {
    id: uuid('id').primaryKey(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    status: text('status').notNull(),
    start: timestamp('start', { withTimezone: true }).notNull(),
    end: timestamp('end', { withTimezone: true }).notNull(),
    mode: text('mode').notNull(),
    /** Place (physical), link (video) or dial-in (phone). */
    location: text('location').notNull(),
    /** Participants with their answers and, after the meeting, attendance. */
    participants: jsonb('participants').$type<AppointmentParticipant[]>().notNull(),
    versionId: integer('version_id').notNull().default(1),
    lastUpdated: timestamp('last_updated', { withTimezone: true }).notNull().defaultNow(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [
    index('appointment_case_idx').on(t.caseId),
    check('appointment_status_ck', sql`${t.status} in ('booked','cancelled','fulfilled','noshow')`),
    check('appointment_mode_ck', sql`${t.mode} in ('physical','video','phone')`),
    check('appointment_period_ck', sql`${t.start} < ${t.end}`),
  ],
);

export interface AppointmentParticipant {
  /** An organisation (HSA-id), the person, or a relative. */
  type: 'org' | 'person' | 'relative';
  org?: string;
  /** Display for relatives (stays inside the case). */
  display?: string;
  kind?: 'summoned' | 'invited';
  answer: 'needs-action' | 'accepted' | 'declined' | 'tentative';
  attendance?: 'attended' | 'absent';
}

/** Avvikelser: deviations addressed to an organisation and the initiator. */
export const deviations = invitationSchema.table(
  'deviation',
  {
    id: uuid('id').primaryKey(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    org: text('org').notNull(),
    requesterOrg: text('requester_org').notNull(),
    cause: text('cause').notNull(),
    appointmentId: uuid('appointment_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('deviation_once_uq').on(t.caseId, t.org, t.cause, t.appointmentId),
    index('deviation_org_idx').on(t.org),
  ],
);

/** Stored deadlines: they survive restarts, and fire once (SPEC §4). */
export const timers = invitationSchema.table(
  'timer',
  {
    id: uuid('id').primaryKey(),
    caseId: uuid('case_id')
      .notNull()
      .references(() => cases.id),
    kind: text('kind').notNull(),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    /** Who must act when it fires. */
    org: text('org').notNull(),
    invitationId: uuid('invitation_id'),
    appointmentId: uuid('appointment_id'),
    firedAt: timestamp('fired_at', { withTimezone: true }),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
  },
  (t) => [
    index('timer_due_idx').on(t.dueAt).where(sql`fired_at is null and cancelled_at is null`),
    index('timer_case_idx').on(t.caseId),
    check(
      'timer_kind_ck',
      sql`${t.kind} in ('discharge-summons','invitation-reminder','invitation-escalation','meeting-reminder')`,
    ),
  ],
);

export const outbox = outboxTable(invitationSchema);
export const inbox = inboxTable(invitationSchema);

export type CaseRow = typeof cases.$inferSelect;
export type InvitationRow = typeof invitations.$inferSelect;
export type AppointmentRow = typeof appointments.$inferSelect;
export type DeviationRow = typeof deviations.$inferSelect;
export type TimerRow = typeof timers.$inferSelect;
export type CaseConsentRow = typeof caseConsents.$inferSelect;
