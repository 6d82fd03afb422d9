// The statistics service's tables, in its own PostgreSQL schema `statistics`: projections built only from events.
// Every projection row belongs to a generation, so a rebuild fills a new one while the live one keeps serving.
// The projection tables' text columns (codes: HSA-ids, municipality and county codes, stages, reasons …) have the
// "C" collation, set by migration 0006: drizzle cannot declare a collation, and drizzle-kit would not see it change.
import { inboxTable, outboxTable } from '@samsyn/bus';
import {
  boolean,
  date,
  index,
  integer,
  pgSchema,
  primaryKey,
  serial,
  smallint,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import type { RollupGrain, RollupScope } from '../projection/case-state.ts';

export const statisticsSchema = pgSchema('statistics');

export const outbox = outboxTable(statisticsSchema);
export const inbox = inboxTable(statisticsSchema);

/** One projection build. Exactly one is `live`; a rebuild writes a `building` one and swaps it in. */
export const generation = statisticsSchema.table('generation', {
  id: serial('id').primaryKey(),
  status: text('status').$type<'live' | 'building' | 'retired' | 'failed'>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  swappedAt: timestamp('swapped_at', { withTimezone: true }),
  eventsApplied: integer('events_applied').notNull().default(0),
  /** When a retired or failed generation's partitions were dropped. */
  droppedAt: timestamp('dropped_at', { withTimezone: true }),
});

const ts = (name: string) => timestamp(name, { withTimezone: true });

/** One row per case and generation: its dimensions and when it reached each stage (earliest event wins). */
export const caseFact = statisticsSchema.table(
  'case_fact',
  {
    gen: integer('gen').notNull(),
    caseId: uuid('case_id').notNull(),
    requesterOrg: text('requester_org'),
    principal: text('principal'),
    municipality: text('municipality'),
    region: text('region'),
    ageBand: text('age_band'),
    trigger: text('trigger'),
    dischargeReadyAt: ts('discharge_ready_at'),
    identifiedAt: ts('identified_at'),
    consentedAt: ts('consented_at'),
    invitedAt: ts('invited_at'),
    heldAt: ts('held_at'),
    establishedAt: ts('established_at'),
    followedUpAt: ts('followed_up_at'),
    closedAt: ts('closed_at'),
    closedReason: text('closed_reason'),
    cancelledAt: ts('cancelled_at'),
    cancelledReason: text('cancelled_reason'),
    sharedAt: ts('shared_at'),
  },
  (t) => [
    primaryKey({ columns: [t.gen, t.caseId] }),
    index('case_fact_identified_idx').on(t.gen, t.identifiedAt),
    index('case_fact_consented_idx').on(t.gen, t.consentedAt),
    index('case_fact_invited_idx').on(t.gen, t.invitedAt),
    index('case_fact_held_idx').on(t.gen, t.heldAt),
    index('case_fact_established_idx').on(t.gen, t.establishedAt),
    index('case_fact_followed_up_idx').on(t.gen, t.followedUpAt),
    index('case_fact_closed_idx').on(t.gen, t.closedAt),
    index('case_fact_cancelled_idx').on(t.gen, t.cancelledAt),
    index('case_fact_org_idx').on(t.gen, t.requesterOrg),
    index('case_fact_principal_idx').on(t.gen, t.principal),
    index('case_fact_municipality_idx').on(t.gen, t.municipality),
    index('case_fact_region_idx').on(t.gen, t.region),
  ],
);

/**
 * The folded state of each case that its case_fact row and derived rows are written from: loaded, updated and
 * written back per event. Kept apart from case_fact (migration 0004), where its 1.2 kB of JSON per case made every
 * indicator's scan of the case rows read ten times the pages. The state is JSON text (migration 0006): nothing queries
 * inside it, and PostgreSQL parsing it into jsonb was half the cost of a rebuild's largest COPY.
 */
export const caseState = statisticsSchema.table(
  'case_state',
  {
    gen: integer('gen').notNull(),
    caseId: uuid('case_id').notNull(),
    state: text('state').notNull(),
  },
  (t) => [primaryKey({ columns: [t.gen, t.caseId] })],
);

/**
 * One row per case and funnel stage it reached (`closed:<reason>` and `cancelled:<reason>` included), on the
 * Stockholm day it was reached, with the case's dimensions: what the funnel reads, index-only, for an organisation,
 * principal or municipality over the days its rollups do not cover. Each index starts with one dimension and the day,
 * so a question reads only that population's stages in its range.
 */
export const stageFact = statisticsSchema.table(
  'stage_fact',
  {
    gen: integer('gen').notNull(),
    caseId: uuid('case_id').notNull(),
    stage: text('stage').notNull(),
    day: date('day').notNull(),
    requesterOrg: text('requester_org').notNull(),
    principal: text('principal').notNull(),
    /** '' when the case has no municipality (it counts everywhere but under a place filter). */
    municipality: text('municipality').notNull(),
    region: text('region').notNull(),
    ageBand: text('age_band').notNull(),
    trigger: text('trigger').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.gen, t.caseId, t.stage] }),
    index('stage_fact_org_idx').on(
      t.gen,
      t.requesterOrg,
      t.day,
      t.stage,
      t.ageBand,
      t.trigger,
      t.municipality,
      t.region,
    ),
    index('stage_fact_principal_idx').on(
      t.gen,
      t.principal,
      t.day,
      t.stage,
      t.ageBand,
      t.trigger,
      t.municipality,
      t.region,
    ),
    index('stage_fact_municipality_idx').on(
      t.gen,
      t.municipality,
      t.day,
      t.stage,
      t.ageBand,
      t.trigger,
      t.requesterOrg,
      t.principal,
    ),
  ],
);

/** One row per invitation (an organisation asked to take part) and generation. */
export const invitationFact = statisticsSchema.table(
  'invitation_fact',
  {
    gen: integer('gen').notNull(),
    invitationId: uuid('invitation_id').notNull(),
    caseId: uuid('case_id').notNull(),
    org: text('org').notNull(),
    principal: text('principal').notNull(),
    kind: text('kind').notNull(),
    createdAt: ts('created_at').notNull(),
    respondedAt: ts('responded_at'),
    response: text('response'),
    /** Attendance at the latest held meeting: null when no meeting recorded this organisation. */
    attended: boolean('attended'),
  },
  (t) => [
    primaryKey({ columns: [t.gen, t.invitationId] }),
    index('invitation_fact_case_idx').on(t.gen, t.caseId),
    index('invitation_fact_created_idx').on(t.gen, t.createdAt),
  ],
);

export const deviationFact = statisticsSchema.table(
  'deviation_fact',
  {
    gen: integer('gen').notNull(),
    deviationId: uuid('deviation_id').notNull(),
    caseId: uuid('case_id').notNull(),
    org: text('org').notNull(),
    cause: text('cause').notNull(),
    at: ts('at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.gen, t.deviationId] }),
    index('deviation_fact_at_idx').on(t.gen, t.at),
    index('deviation_fact_case_idx').on(t.gen, t.caseId),
  ],
);

export const followUpFact = statisticsSchema.table(
  'follow_up_fact',
  {
    gen: integer('gen').notNull(),
    caseId: uuid('case_id').notNull(),
    planId: uuid('plan_id').notNull(),
    due: date('due').notNull(),
    onTime: boolean('on_time').notNull(),
    at: ts('at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.gen, t.planId, t.due] }),
    index('follow_up_fact_at_idx').on(t.gen, t.at),
    index('follow_up_fact_case_idx').on(t.gen, t.caseId),
  ],
);

export const ratingFact = statisticsSchema.table(
  'rating_fact',
  {
    gen: integer('gen').notNull(),
    ratingId: uuid('rating_id').notNull(),
    caseId: uuid('case_id').notNull(),
    rating: smallint('rating').notNull(),
    at: ts('at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.gen, t.ratingId] }),
    index('rating_fact_at_idx').on(t.gen, t.at),
    index('rating_fact_case_idx').on(t.gen, t.caseId),
  ],
);

/**
 * Pre-aggregated funnel counts so any filter answers fast over a million cases: per Stockholm day, ISO week and month
 * for all cases and per region, per month by principal, municipality and requesting organisation (see
 * `ROLLUP_GRAINS`), each split by age band and trigger. A row holds one count per stage (`ROLLUP_COUNTS`); its
 * `reason` is '' for the stages, or a closure or cancellation reason whose row counts the cases closed and cancelled
 * for it (stages `closed:<reason>`, `cancelled:<reason>`).
 */
export const funnelRollup = statisticsSchema.table(
  'funnel_rollup',
  {
    gen: integer('gen').notNull(),
    grain: text('grain').$type<RollupGrain>().notNull(),
    scope: text('scope').$type<RollupScope>().notNull(),
    /** The first day of the period (a Monday for weeks). */
    period: date('period').notNull(),
    /** The region, principal, municipality or org of the scope; '' for scope all. */
    key: text('key').notNull(),
    /** The case's region for scopes principal, municipality and org; '' otherwise. */
    parent: text('parent').notNull(),
    ageBand: text('age_band').notNull(),
    trigger: text('trigger').notNull(),
    reason: text('reason').notNull(),
    identified: integer('identified').notNull().default(0),
    consented: integer('consented').notNull().default(0),
    invited: integer('invited').notNull().default(0),
    held: integer('held').notNull().default(0),
    established: integer('established').notNull().default(0),
    followedUp: integer('followed_up').notNull().default(0),
    closed: integer('closed').notNull().default(0),
    cancelled: integer('cancelled').notNull().default(0),
  },
  // Key first, then period: a funnel reads one key's periods in one range scan.
  (t) => [
    primaryKey({
      columns: [t.gen, t.scope, t.grain, t.key, t.period, t.parent, t.reason, t.ageBand, t.trigger],
    }),
  ],
);

/** Participants' ratings after closure as submitted (the source of sip.statistics.rating-recorded). */
export const rating = statisticsSchema.table(
  'rating',
  {
    id: uuid('id').primaryKey(),
    caseId: uuid('case_id').notNull(),
    org: text('org').notNull(),
    rating: smallint('rating').notNull(),
    respondent: text('respondent').notNull(),
    recordedAt: ts('recorded_at').notNull(),
  },
  (t) => [index('rating_case_idx').on(t.caseId)],
);
