// The statistics view of one SIP case, folded from events alone. Every field keeps the earliest (or, for an
// owner, the latest) value it has seen, so applying events in any order, or twice, gives the same state.
import type { EventName, EventPayload, StreamName } from '@samsyn/contracts';
import { stockholmDate, weekStart } from './stockholm.ts';

export type AgeBand = 'child' | 'adult' | 'older';
export type Trigger = 'discharge' | 'other';

export interface CaseDims {
  requesterOrg: string;
  principal: string;
  municipality: string | null;
  region: string | null;
  ageBand: AgeBand;
  trigger: Trigger;
}

export interface InvitationState {
  org: string;
  /** When the current owner was set (a forward moves the invitation to another unit). */
  orgAt: string;
  kind: 'summoned' | 'invited';
  createdAt: string;
  respondedAt?: string;
  response?: 'accepted' | 'rejected';
}

export interface CaseState {
  caseId: string;
  dims?: CaseDims;
  dischargeReadyAt?: string;
  identifiedAt?: string;
  consentedAt?: string;
  invitedAt?: string;
  heldAt?: string;
  establishedAt?: string;
  followedUpAt?: string;
  closedAt?: string;
  /** Reason from the plan's closure, which is more specific than the case transition's. */
  closedReasonPlan?: string;
  closedReasonCase?: string;
  cancelledAt?: string;
  cancelledReason?: string;
  sharedAt?: string;
  invitations: Record<string, InvitationState>;
  /** Attendance per organisation at the latest held meeting. */
  attendance: Record<string, { attended: boolean; at: string }>;
  deviations: Record<string, { org: string; cause: string; at: string }>;
  /** Keyed by `<planId>|<due date>`. */
  followUps: Record<string, { planId: string; due: string; onTime: boolean; at: string }>;
  ratings: Record<string, { rating: number; at: string }>;
}

export function emptyCase(caseId: string): CaseState {
  return { caseId, invitations: {}, attendance: {}, deviations: {}, followUps: {}, ratings: {} };
}

/** The principal (huvudman) of a unit: the organisation number part of its HSA-id (SE2321000032-1001 → SE2321000032). */
export function principalOf(org: string): string {
  return org.split('-')[0] ?? org;
}

/** The region (län) of a municipality: the first two digits of the municipality code (0180 → 01). */
export function regionOf(municipality: string): string {
  return municipality.slice(0, 2);
}

/**
 * Whether `s` is written `YYYY-MM-DDTHH:MM:SS[.f[f[f]]]Z`: a UTC instant to the millisecond at most (what Date.parse
 * keeps), whose text sorts as its time does among instants written alike.
 */
function isUtcText(s: string): boolean {
  return (
    s.length >= 20 &&
    s.length <= 24 &&
    s.charCodeAt(s.length - 1) === 90 && // Z
    s.charCodeAt(4) === 45 && // -
    s.charCodeAt(7) === 45 &&
    s.charCodeAt(10) === 84 && // T
    s.charCodeAt(13) === 58 && // :
    s.charCodeAt(16) === 58
  );
}

/**
 * Negative, zero or positive as instant `a` is before, at or after `b` (NaN if either is not a date, like the
 * difference of their `Date.parse`). Two UTC instants written alike (the same length, so the same fraction digits)
 * are compared as text: a rebuild compares millions of them, and parsing both was a tenth of its fold.
 */
export function instantOrder(a: string, b: string): number {
  if (a.length === b.length && isUtcText(a) && isUtcText(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Date.parse(a) - Date.parse(b);
}

function earliest(current: string | undefined, next: string): string {
  if (!current) return next;
  return instantOrder(next, current) < 0 ? next : current;
}

function later(current: string | undefined, next: string): boolean {
  return !current || instantOrder(next, current) >= 0;
}

/** The events the projection reads, each a pure change of the case state. */
export const PROJECTED_EVENTS = [
  'caseInitiated',
  'caseTransitioned',
  'invitationCreated',
  'invitationAccepted',
  'invitationRejected',
  'invitationForwarded',
  'meetingHeld',
  'deviationReported',
  'consentGiven',
  'planEstablished',
  'planFollowedUp',
  'planClosed',
  'planSharedWithPerson',
  'ratingRecorded',
] as const satisfies readonly EventName[];
export type ProjectedEvent = (typeof PROJECTED_EVENTS)[number];

/** The streams those events are published on: what the live consumers follow and a rebuild reads. */
export const PROJECTED_STREAMS: readonly StreamName[] = ['INVITATION', 'CONSENT', 'PLAN', 'STATISTICS'];

export type AnyProjected = { [N in ProjectedEvent]: { name: N; data: EventPayload<N> } }[ProjectedEvent];

/** Applies one event to a case state, returning a new state (the input is not changed unless `inPlace`). */
export function applyEvent(
  prev: CaseState,
  event: AnyProjected,
  options: { inPlace?: boolean } = {},
): CaseState {
  const s: CaseState = options.inPlace ? prev : structuredClone(prev);
  switch (event.name) {
    case 'caseInitiated': {
      const d = event.data;
      const municipality = d.person.municipality ?? null;
      s.dims = {
        requesterOrg: d.requesterOrg,
        principal: principalOf(d.requesterOrg),
        municipality,
        region: municipality ? regionOf(municipality) : null,
        ageBand: d.person.ageBand,
        trigger: d.trigger,
      };
      s.identifiedAt = earliest(s.identifiedAt, d.initiatedAt);
      if (d.dischargeReadyAt) s.dischargeReadyAt = d.dischargeReadyAt;
      for (const inv of d.invitations) addInvitation(s, inv.invitationId, inv.org, inv.kind, d.initiatedAt);
      break;
    }
    case 'caseTransitioned': {
      const d = event.data;
      switch (d.to) {
        case 'invited':
          s.invitedAt = earliest(s.invitedAt, d.at);
          break;
        case 'held':
          s.heldAt = earliest(s.heldAt, d.at);
          break;
        case 'planned':
          s.establishedAt = earliest(s.establishedAt, d.at);
          break;
        case 'followed-up':
          s.followedUpAt = earliest(s.followedUpAt, d.at);
          break;
        case 'closed':
          s.closedAt = earliest(s.closedAt, d.at);
          if (d.reason) s.closedReasonCase = d.reason;
          break;
        case 'cancelled':
          if (!s.cancelledAt || instantOrder(d.at, s.cancelledAt) <= 0) {
            s.cancelledAt = d.at;
            if (d.reason) s.cancelledReason = d.reason;
          }
          break;
        case 'awaiting-consent':
        case 'scheduled':
          break;
        default: {
          const never: never = d.to;
          throw new Error(`unknown case status ${String(never)}`);
        }
      }
      break;
    }
    case 'invitationCreated':
      addInvitation(s, event.data.invitationId, event.data.org, event.data.kind, event.data.at);
      break;
    case 'invitationAccepted':
    case 'invitationRejected': {
      const d = event.data;
      const inv = s.invitations[d.invitationId] ?? addInvitation(s, d.invitationId, d.org, d.kind, d.at);
      if (!inv.respondedAt || instantOrder(d.at, inv.respondedAt) < 0) {
        inv.respondedAt = d.at;
        inv.response = event.name === 'invitationAccepted' ? 'accepted' : 'rejected';
      }
      if (later(inv.orgAt, d.at)) {
        inv.org = d.org;
        inv.orgAt = d.at;
      }
      break;
    }
    case 'invitationForwarded': {
      const d = event.data;
      const inv = s.invitations[d.invitationId] ?? addInvitation(s, d.invitationId, d.org, d.kind, d.at);
      if (later(inv.orgAt, d.at)) {
        inv.org = d.toOrg;
        inv.orgAt = d.at;
      }
      break;
    }
    case 'meetingHeld': {
      const d = event.data;
      s.heldAt = earliest(s.heldAt, d.at);
      for (const a of d.attendance) {
        if (later(s.attendance[a.org]?.at, d.at)) s.attendance[a.org] = { attended: a.attended, at: d.at };
      }
      break;
    }
    case 'deviationReported': {
      const d = event.data;
      s.deviations[d.deviationId] = { org: d.org, cause: d.cause, at: d.at };
      break;
    }
    case 'consentGiven':
      s.consentedAt = earliest(s.consentedAt, event.data.at);
      break;
    case 'planEstablished':
      s.establishedAt = earliest(s.establishedAt, event.data.at);
      break;
    case 'planFollowedUp': {
      const d = event.data;
      s.followedUpAt = earliest(s.followedUpAt, d.at);
      const key = `${d.planId}|${d.followUpDue}`;
      const existing = s.followUps[key];
      if (!existing || instantOrder(d.at, existing.at) < 0)
        s.followUps[key] = { planId: d.planId, due: d.followUpDue, onTime: d.onTime, at: d.at };
      break;
    }
    case 'planClosed':
      s.closedAt = earliest(s.closedAt, event.data.at);
      s.closedReasonPlan = event.data.reason;
      break;
    case 'planSharedWithPerson':
      s.sharedAt = earliest(s.sharedAt, event.data.at);
      break;
    case 'ratingRecorded':
      s.ratings[event.data.ratingId] = { rating: event.data.rating, at: event.data.at };
      break;
    default: {
      const never: never = event;
      throw new Error(`unprojected event ${String((never as { name: string }).name)}`);
    }
  }
  return s;
}

function addInvitation(
  s: CaseState,
  id: string,
  org: string,
  kind: 'summoned' | 'invited',
  at: string,
): InvitationState {
  const existing = s.invitations[id];
  if (existing) {
    existing.createdAt = earliest(existing.createdAt, at);
    return existing;
  }
  const inv: InvitationState = { org, orgAt: at, kind, createdAt: at };
  s.invitations[id] = inv;
  return inv;
}

export function closedReason(s: CaseState): string | undefined {
  if (!s.closedAt) return undefined;
  return s.closedReasonPlan ?? s.closedReasonCase ?? 'unspecified';
}

export function cancelledReason(s: CaseState): string | undefined {
  if (!s.cancelledAt) return undefined;
  return s.cancelledReason ?? 'unspecified';
}

/** The funnel stages (SPEC §8) in process order. */
export const STAGES = [
  'identified',
  'consented',
  'invited',
  'held',
  'established',
  'followed-up',
  'closed',
  'cancelled',
] as const;
export type Stage = (typeof STAGES)[number];

/** When the case reached each stage, plus `closed:<reason>` and `cancelled:<reason>` breakdowns. */
export function stageTimes(s: CaseState): [string, string][] {
  const out: [string, string][] = [];
  const push = (stage: string, at: string | undefined) => {
    if (at) out.push([stage, at]);
  };
  push('identified', s.identifiedAt);
  push('consented', s.consentedAt);
  push('invited', s.invitedAt);
  push('held', s.heldAt);
  push('established', s.establishedAt);
  push('followed-up', s.followedUpAt);
  push('closed', s.closedAt);
  push(`closed:${closedReason(s)}`, s.closedAt);
  push('cancelled', s.cancelledAt);
  push(`cancelled:${cancelledReason(s)}`, s.cancelledAt);
  return out;
}

/** The grains a rollup keeps: a funnel by week or month reads whole weeks or months and only its edges by day. */
export type RollupGrain = 'day' | 'week' | 'month';
/**
 * What a rollup is keyed by besides the target group and trigger: nothing (all cases), a region, or a principal,
 * municipality or requesting organisation with the case's region as parent.
 */
export type RollupScope = 'all' | 'region' | 'principal' | 'municipality' | 'org';

/**
 * The grains kept per scope. All cases and a region have large populations and are kept at every grain; a principal,
 * municipality or organisation is kept by month, and the days it needs besides read its stage facts.
 */
export const ROLLUP_GRAINS: Record<RollupScope, readonly RollupGrain[]> = {
  all: ['day', 'week', 'month'],
  region: ['day', 'week', 'month'],
  principal: ['month'],
  municipality: ['month'],
  org: ['month'],
};

/** One rollup cell a case contributes 1 to; as a string `grain|scope|stage|period|key|parent|ageBand|trigger`. */
export interface RollupKey {
  grain: RollupGrain;
  scope: RollupScope;
  stage: string;
  period: string;
  key: string;
  parent: string;
  ageBand: string;
  trigger: string;
}

export function parseRollupKey(s: string): RollupKey {
  const [grain, scope, stage, period, key, parent, ageBand, trigger] = s.split('|') as string[];
  return {
    grain: grain as RollupKey['grain'],
    scope: scope as RollupKey['scope'],
    stage: stage ?? '',
    period: period ?? '',
    key: key ?? '',
    parent: parent ?? '',
    ageBand: ageBand ?? '',
    trigger: trigger ?? '',
  };
}

/** The scopes a case counts in, as [scope, key, parent]; a case without a municipality has no region cells. */
export function rollupScopes(dims: CaseDims): [RollupScope, string, string][] {
  const out: [RollupScope, string, string][] = [
    ['all', '', ''],
    ['principal', dims.principal, dims.region ?? ''],
    ['municipality', dims.municipality ?? '', dims.region ?? ''],
    ['org', dims.requesterOrg, dims.region ?? ''],
  ];
  if (dims.region) out.push(['region', dims.region, '']);
  return out;
}

/**
 * The Stockholm day each stage was reached (`closed:<reason>` and `cancelled:<reason>` included): the case's rows in
 * the stage facts and the source of its rollup cells. A case counts only once its initiative (and so its dimensions)
 * is known.
 */
export function stageDays(s: CaseState): [string, string][] {
  if (!s.dims) return [];
  return stageTimes(s).map(([stage, at]) => [stage, stockholmDate(at)]);
}

/** Receives one rollup cell a case counts in. */
export type ContributionCallback = (
  grain: RollupGrain,
  scope: RollupScope,
  stage: string,
  period: string,
  key: string,
  parent: string,
  /** Which of the case's scopes and stages this cell is of (0, 1, …), for callers that cache per case. */
  scopeIndex: number,
  stageIndex: number,
) => void;

/** Calls `cell` once for every rollup cell a case counts in (the case's target group and trigger complete the key). */
export function eachContribution(s: CaseState, cell: ContributionCallback): void {
  if (s.dims) eachContributionOf(s.dims, stageDays(s), cell);
}

/** The same, from what a case's cells depend on: its dimensions and its `stageDays()`. */
export function eachContributionOf(
  dims: CaseDims,
  stages: readonly (readonly [string, string])[],
  cell: ContributionCallback,
): void {
  const scopes = rollupScopes(dims);
  for (let i = 0; i < stages.length; i++) {
    const [stage, day] = stages[i] as readonly [string, string];
    const periods: Record<RollupGrain, string> = {
      day,
      week: weekStart(day),
      month: `${day.slice(0, 7)}-01`,
    };
    for (let j = 0; j < scopes.length; j++) {
      const [scope, key, parent] = scopes[j] as [RollupScope, string, string];
      for (const grain of ROLLUP_GRAINS[scope]) cell(grain, scope, stage, periods[grain], key, parent, j, i);
    }
  }
}

/** The rollup cells a case counts in, as `grain|scope|stage|period|key|parent|ageBand|trigger`. */
export function contributions(s: CaseState): string[] {
  const out: string[] = [];
  const tail = s.dims ? `|${s.dims.ageBand}|${s.dims.trigger}` : '';
  eachContribution(s, (grain, scope, stage, period, key, parent) =>
    out.push(`${grain}|${scope}|${stage}|${period}|${key}|${parent}${tail}`),
  );
  return out;
}

/**
 * The counts of a rollup row, one column per funnel stage (`STAGES`, `followed-up` as `followed_up`). A row counts
 * either the stages (its `reason` is '') or, for one closure or cancellation reason, the cases closed and cancelled
 * for it: one row per cell and reason instead of one per stage made the rollups three times fewer rows.
 */
export const ROLLUP_COUNTS = [
  'identified',
  'consented',
  'invited',
  'held',
  'established',
  'followed_up',
  'closed',
  'cancelled',
] as const;

// `slotStage()` reads a column's stage by its index: the two lists must stay in step.
if (ROLLUP_COUNTS.some((column, i) => column !== STAGES[i]?.replace('-', '_')))
  throw new Error('ROLLUP_COUNTS must name the STAGES in their order');

const CLOSED = ROLLUP_COUNTS.indexOf('closed');
const CANCELLED = ROLLUP_COUNTS.indexOf('cancelled');

/** Where a stage of `stageTimes()` is counted in a rollup: its row's reason and the index of its count column. */
export function rollupSlot(stage: string): { reason: string; column: number } {
  const colon = stage.indexOf(':');
  if (colon < 0) {
    const column = (STAGES as readonly string[]).indexOf(stage);
    if (column < 0) throw new Error(`not a funnel stage: ${stage}`);
    return { reason: '', column };
  }
  const kind = stage.slice(0, colon);
  const reason = stage.slice(colon + 1);
  if ((kind !== 'closed' && kind !== 'cancelled') || reason === '')
    throw new Error(`not a funnel stage: ${stage}`);
  return { reason, column: kind === 'closed' ? CLOSED : CANCELLED };
}

/** The stage a rollup count stands for: the inverse of `rollupSlot()`. */
export function slotStage(reason: string, column: number): string {
  const stage = STAGES[column];
  if (stage === undefined) throw new Error(`not a rollup count column: ${column}`);
  return reason === '' ? stage : `${stage}:${reason}`;
}

/** A rollup row's key: `grain|scope|period|key|parent|ageBand|trigger|reason`. */
export type RollupRowKey = string;

/** Cell changes (`rollupDelta()`) gathered into the rows they change: per row, the change of each count column. */
export function rollupRowDelta(delta: Map<string, number>): Map<RollupRowKey, number[]> {
  const rows = new Map<RollupRowKey, number[]>();
  for (const [cell, n] of delta) {
    const k = parseRollupKey(cell);
    const { reason, column } = rollupSlot(k.stage);
    const row = [k.grain, k.scope, k.period, k.key, k.parent, k.ageBand, k.trigger, reason].join('|');
    let counts = rows.get(row);
    if (!counts) {
      counts = ROLLUP_COUNTS.map(() => 0);
      rows.set(row, counts);
    }
    counts[column] = (counts[column] ?? 0) + n;
  }
  return rows;
}

/** Rollup changes between two states of one case: +1 for cells it entered, -1 for cells it left. */
export function rollupDelta(before: CaseState | undefined, after: CaseState): Map<string, number> {
  const delta = new Map<string, number>();
  for (const k of before ? contributions(before) : []) delta.set(k, (delta.get(k) ?? 0) - 1);
  for (const k of contributions(after)) delta.set(k, (delta.get(k) ?? 0) + 1);
  for (const [k, v] of delta) if (v === 0) delta.delete(k);
  return delta;
}
