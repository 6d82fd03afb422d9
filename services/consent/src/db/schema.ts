// The consent service's tables, in its own PostgreSQL schema `consent`.
import { inboxTable, outboxTable } from '@samsyn/bus';
import { caseProjectionTables } from '@samsyn/case-projection';
import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

export const consentSchema = pgSchema('consent');

/**
 * The SIP cases this service knows of and their invited units, projected from the invitation stream
 * (@samsyn/case-projection): ids and HSA-ids only, never the person. A later event may create the case row before
 * its initiation arrives, so the projection does not depend on delivery order.
 */
export const caseProjection = caseProjectionTables(consentSchema);
export const { cases, caseInvitees } = caseProjection;

/** A FHIR Consent: the current version, with the columns we search and gate on. */
export const consents = consentSchema.table(
  'consent',
  {
    id: uuid('id').primaryKey(),
    caseId: uuid('case_id').notNull(),
    status: text('status').notNull(),
    patientSystem: text('patient_system').notNull(),
    /** Normalised to 12 digits. */
    patientValue: text('patient_value').notNull(),
    /** HMAC pseudonym of the person (platform patientKey), as the access log carries it. */
    patientKey: text('patient_key').notNull(),
    grantor: text('grantor').notNull(),
    coveredOrgs: text('covered_orgs').array().notNull(),
    periodStart: timestamp('period_start', { withTimezone: true }).notNull(),
    periodEnd: timestamp('period_end', { withTimezone: true }),
    recordedByOrg: text('recorded_by_org').notNull(),
    recordedBy: text('recorded_by').notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revokedByOrg: text('revoked_by_org'),
    versionId: integer('version_id').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUpdated: timestamp('last_updated', { withTimezone: true }).notNull().defaultNow(),
    /** The Consent as accepted, without id, meta and status (which Samsyn owns). */
    resource: jsonb('resource').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [
    index('consent_case_idx').on(t.caseId),
    index('consent_patient_idx').on(t.patientSystem, t.patientValue),
    index('consent_last_updated_idx').on(t.lastUpdated),
    check('consent_status_ck', sql`${t.status} in ('draft','proposed','active','rejected','inactive')`),
    check('consent_grantor_ck', sql`${t.grantor} in ('person','guardians','representative')`),
    check('consent_period_ck', sql`${t.periodEnd} is null or ${t.periodEnd} > ${t.periodStart}`),
    check('consent_covered_ck', sql`cardinality(${t.coveredOrgs}) >= 1`),
  ],
);

/** Every version of every Consent, for vread (FHIR R4 http.html#vread). */
export const consentVersions = consentSchema.table(
  'consent_version',
  {
    consentId: uuid('consent_id')
      .notNull()
      .references(() => consents.id),
    versionId: integer('version_id').notNull(),
    status: text('status').notNull(),
    lastUpdated: timestamp('last_updated', { withTimezone: true }).notNull(),
    resource: jsonb('resource').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.consentId, t.versionId] })],
);

/**
 * The Patientdatalagen access log of every service (sip.audit.recorded), served as FHIR AuditEvent. The person
 * is the keyed pseudonym only; the personnummer is never stored here.
 */
export const auditEvents = consentSchema.table(
  'audit_event',
  {
    id: uuid('id').primaryKey(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull(),
    action: text('action').notNull(),
    interaction: text('interaction').notNull(),
    outcome: text('outcome').notNull(),
    userId: text('user_id').notNull(),
    userName: text('user_name'),
    orgUnit: text('org_unit').notNull(),
    /** The principal of the unit: the organisation number inside its HSA-id (log review is per principal). */
    orgNumber: text('org_number').notNull(),
    patientKey: text('patient_key'),
    caseId: uuid('case_id'),
    resource: text('resource'),
    query: text('query'),
    service: text('service').notNull(),
    storedAt: timestamp('stored_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('audit_event_patient_idx').on(t.patientKey, t.recordedAt),
    index('audit_event_user_idx').on(t.userId),
    index('audit_event_org_unit_idx').on(t.orgUnit),
    index('audit_event_recorded_idx').on(t.recordedAt),
    index('audit_event_principal_idx').on(t.orgNumber, t.recordedAt),
    check('audit_event_action_ck', sql`${t.action} in ('C','R','U','D','E')`),
    check('audit_event_outcome_ck', sql`${t.outcome} in ('0','4','8','12')`),
    check('audit_event_org_number_ck', sql`${t.orgNumber} ~ '^[0-9]{10}$'`),
  ],
);

export const outbox = outboxTable(consentSchema);
export const inbox = inboxTable(consentSchema);

export type CaseRow = typeof cases.$inferSelect;
export type CaseInviteeRow = typeof caseInvitees.$inferSelect;
export type ConsentRow = typeof consents.$inferSelect;
export type ConsentVersionRow = typeof consentVersions.$inferSelect;
export type AuditEventRow = typeof auditEvents.$inferSelect;
