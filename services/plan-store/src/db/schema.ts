// The plan-store service's tables, in its own PostgreSQL schema `plan_store`.
import { inboxTable, outboxTable } from '@samsyn/bus';
import { caseProjectionTables } from '@samsyn/case-projection';
import { sql } from 'drizzle-orm';
import {
  check,
  date,
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

export const plan_storeSchema = pgSchema('plan_store');

/**
 * The SIP cases this service knows of and their invited units, projected from the invitation stream
 * (@samsyn/case-projection): ids and HSA-ids only, never the person. A later event may create the case row before
 * its initiation arrives, so the projection does not depend on delivery order.
 */
export const caseProjection = caseProjectionTables(plan_storeSchema);
export const { cases, caseInvitees } = caseProjection;

/** The consents of each case as the consent stream tells them: which units, for which period, still in force or not. */
export const caseConsents = plan_storeSchema.table(
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

/** A FHIR CarePlan: the version in force, with the columns it is searched and gated on. */
export const carePlans = plan_storeSchema.table(
  'care_plan',
  {
    id: uuid('id').primaryKey(),
    caseId: uuid('case_id').notNull(),
    status: text('status').notNull(),
    patientSystem: text('patient_system').notNull(),
    /** Normalised to 12 digits. */
    patientValue: text('patient_value').notNull(),
    /** HMAC pseudonym of the person (platform patientKey), as the access log carries it. */
    patientKey: text('patient_key').notNull(),
    /** The lead organisation (huvudansvar), CarePlan.author. */
    leadOrg: text('lead_org'),
    /** Every organisation in the care team, responsible for an activity, or the author. */
    participantOrgs: text('participant_orgs').array().notNull(),
    followUpDue: date('follow_up_due', { mode: 'string' }),
    periodStart: timestamp('period_start', { withTimezone: true }),
    periodEnd: timestamp('period_end', { withTimezone: true }),
    /** BCP 47 code of the person's preferred language, when the plan names it. */
    language: text('language'),
    versionId: integer('version_id').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUpdated: timestamp('last_updated', { withTimezone: true }).notNull().defaultNow(),
    /** The CarePlan in force, without id and meta (which Samsyn owns). */
    resource: jsonb('resource').$type<Record<string, unknown>>().notNull(),
    /** A change to an active plan waiting for the person's approval (SPEC §3), and the version it was made on. */
    proposal: jsonb('proposal').$type<Record<string, unknown>>(),
    proposalBase: integer('proposal_base'),
    proposedByOrg: text('proposed_by_org'),
    proposedBy: text('proposed_by'),
    proposedAt: timestamp('proposed_at', { withTimezone: true }),
  },
  (t) => [
    // One SIP plan per case: a second create for the same case is a conflict, not a second plan.
    uniqueIndex('care_plan_case_uq').on(t.caseId),
    index('care_plan_patient_idx').on(t.patientSystem, t.patientValue),
    index('care_plan_lead_idx').on(t.leadOrg),
    index('care_plan_last_updated_idx').on(t.lastUpdated),
    check(
      'care_plan_status_ck',
      sql`${t.status} in ('draft','active','on-hold','revoked','completed','entered-in-error','unknown')`,
    ),
    check('care_plan_version_ck', sql`${t.versionId} >= 1`),
  ],
);

/** Every version of every CarePlan, as served (with meta), for vread and _history (FHIR R4 http.html#history). */
export const carePlanVersions = plan_storeSchema.table(
  'care_plan_version',
  {
    planId: uuid('plan_id')
      .notNull()
      .references(() => carePlans.id),
    versionId: integer('version_id').notNull(),
    status: text('status').notNull(),
    /** What made this version: create, update, revision, follow-up, close. */
    change: text('change').notNull(),
    byOrg: text('by_org').notNull(),
    lastUpdated: timestamp('last_updated', { withTimezone: true }).notNull(),
    resource: jsonb('resource').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.planId, t.versionId] })],
);

/** A follow-up recorded against a plan: when it was due, when it was held, and what came of it. */
export const planFollowUps = plan_storeSchema.table(
  'plan_follow_up',
  {
    id: uuid('id').primaryKey(),
    planId: uuid('plan_id')
      .notNull()
      .references(() => carePlans.id),
    due: date('due', { mode: 'string' }).notNull(),
    heldOn: date('held_on', { mode: 'string' }).notNull(),
    nextDue: date('next_due', { mode: 'string' }),
    closureReason: text('closure_reason'),
    byOrg: text('by_org').notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    index('plan_follow_up_plan_idx').on(t.planId),
    check('plan_follow_up_outcome_ck', sql`(${t.nextDue} is null) <> (${t.closureReason} is null)`),
  ],
);

/** The person received their copy: which version, in which language, by whom, when. */
export const planShares = plan_storeSchema.table(
  'plan_share',
  {
    id: uuid('id').primaryKey(),
    planId: uuid('plan_id')
      .notNull()
      .references(() => carePlans.id),
    versionId: integer('version_id').notNull(),
    language: text('language').notNull(),
    byOrg: text('by_org').notNull(),
    sharedAt: timestamp('shared_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('plan_share_plan_idx').on(t.planId)],
);

/** One push of one plan version to one participant's own FHIR endpoint, with its retries and outcome. */
export const planDeliveries = plan_storeSchema.table(
  'plan_delivery',
  {
    planId: uuid('plan_id')
      .notNull()
      .references(() => carePlans.id),
    versionId: integer('version_id').notNull(),
    org: text('org').notNull(),
    endpoint: text('endpoint').notNull(),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastError: text('last_error'),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.planId, t.org, t.versionId] }),
    index('plan_delivery_due_idx').on(t.status, t.nextAttemptAt),
    check(
      'plan_delivery_status_ck',
      sql`${t.status} in ('pending','delivered','failed','superseded','withheld')`,
    ),
  ],
);

/** A stored plan deadline (SPEC §4): fires once as sip.plan.deadline-due; rescheduled with every version in force. */
export const planTimers = plan_storeSchema.table(
  'plan_timer',
  {
    id: uuid('id').primaryKey(),
    planId: uuid('plan_id')
      .notNull()
      .references(() => carePlans.id),
    caseId: uuid('case_id').notNull(),
    kind: text('kind').notNull(),
    /** Who must act: the lead organisation, or the activity's responsible organisation. */
    org: text('org').notNull(),
    /** The activity's index in CarePlan.activity, for activity-overdue. */
    activityId: text('activity_id'),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    firedAt: timestamp('fired_at', { withTimezone: true }),
  },
  (t) => [
    index('plan_timer_due_idx').on(t.dueAt).where(sql`${t.firedAt} is null`),
    index('plan_timer_plan_idx').on(t.planId),
    check(
      'plan_timer_kind_ck',
      sql`${t.kind} in ('follow-up-reminder','follow-up-overdue','activity-overdue')`,
    ),
  ],
);

export const outbox = outboxTable(plan_storeSchema);
export const inbox = inboxTable(plan_storeSchema);

export type CarePlanRow = typeof carePlans.$inferSelect;
export type CarePlanVersionRow = typeof carePlanVersions.$inferSelect;
export type PlanDeliveryRow = typeof planDeliveries.$inferSelect;
