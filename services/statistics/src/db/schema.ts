// The statistics service's tables, in its own PostgreSQL schema `statistics`: projections built only from events.
// Every projection row belongs to a generation, so a rebuild fills a new one while the live one keeps serving.
// The projection tables are partitioned by generation (migration 0003), so a query reads one generation's partition:
// their indexes leave `gen` out, and their keys (which must include it) put it last (migration 0007). Led by a
// column that is the same in every row of a partition, a rebuild's index builds compared every pair of rows column
// by column, where a leading case id or code settles most comparisons on its own.
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
    primaryKey({ columns: [t.caseId, t.gen] }),
    // The stage times an indicator selects its period by (see query/indicators.ts); the funnel reads the stage facts
    // and rollups instead, so the other stage times have none.
    index('case_fact_invited_idx').on(t.invitedAt),
    index('case_fact_held_idx').on(t.heldAt),
    index('case_fact_established_idx').on(t.establishedAt),
    index('case_fact_closed_idx').on(t.closedAt),
    index('case_fact_org_idx').on(t.requesterOrg),
    index('case_fact_principal_idx').on(t.principal),
    index('case_fact_municipality_idx').on(t.municipality),
    index('case_fact_region_idx').on(t.region),
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
  (t) => [primaryKey({ columns: [t.caseId, t.gen] })],
);

/**
 * One row per case and funnel stage it reached (`closed:<reason>` and `cancelled:<reason>` included), on the
 * Stockholm day it was reached, with the case's dimensions: what the funnel reads, index-only, for an organisation,
 * principal or municipality over the days its rollups do not cover. Each index is keyed by one dimension and the day,
 * so a question reads only that population's stages in its range, and carries the other columns the funnel reads as
 * INCLUDE columns (migration 0007; drizzle cannot declare them): in the leaves, not compared when the index is built.
 * gen is one of them: PostgreSQL checks a query's `gen = …` on every row even in the generation's own partition, and
 * an index without it cannot answer the funnel on its own.
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
    primaryKey({ columns: [t.caseId, t.stage, t.gen] }),
    // INCLUDE (stage, age_band, trigger, municipality, region, gen)
    index('stage_fact_org_idx').on(t.requesterOrg, t.day),
    // INCLUDE (stage, age_band, trigger, municipality, region, gen)
    index('stage_fact_principal_idx').on(t.principal, t.day),
    // INCLUDE (stage, age_band, trigger, requester_org, principal, gen)
    index('stage_fact_municipality_idx').on(t.municipality, t.day),
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
    primaryKey({ columns: [t.invitationId, t.gen] }),
    index('invitation_fact_case_idx').on(t.caseId),
    index('invitation_fact_created_idx').on(t.createdAt),
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
    primaryKey({ columns: [t.deviationId, t.gen] }),
    index('deviation_fact_at_idx').on(t.at),
    index('deviation_fact_case_idx').on(t.caseId),
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
    primaryKey({ columns: [t.planId, t.due, t.gen] }),
    index('follow_up_fact_at_idx').on(t.at),
    index('follow_up_fact_case_idx').on(t.caseId),
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
    primaryKey({ columns: [t.ratingId, t.gen] }),
    index('rating_fact_at_idx').on(t.at),
    index('rating_fact_case_idx').on(t.caseId),
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
      columns: [t.scope, t.grain, t.key, t.period, t.parent, t.reason, t.ageBand, t.trigger, t.gen],
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
