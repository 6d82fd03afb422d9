// The case state machine of SPEC §4: legal transitions, each one a committed row change plus an event.
import { enqueue } from '@samsyn/bus';
import { type CaseStatus, events } from '@samsyn/contracts';
import type { DbOrTx } from '@samsyn/db';
import { StateConflict } from '@samsyn/fhir';
import { and, eq, sql } from 'drizzle-orm';
import { type CaseRow, cases, outbox } from '../db/schema.ts';

export const SOURCE = '/samsyn/invitation';

/** Forward moves of the process; `cancelled` is reachable from every state before `closed`. */
const NEXT: Record<CaseStatus, readonly CaseStatus[]> = {
  'awaiting-consent': ['invited'],
  invited: ['scheduled'],
  scheduled: ['held', 'invited'],
  held: ['planned', 'scheduled'],
  planned: ['followed-up', 'closed'],
  'followed-up': ['followed-up', 'closed'],
  closed: [],
  cancelled: [],
};

export function canTransition(from: CaseStatus, to: CaseStatus): boolean {
  if (to === 'cancelled') return from !== 'closed' && from !== 'cancelled';
  return NEXT[from].includes(to);
}

export interface TransitionOptions {
  reason?: string;
  byOrg?: string;
  at?: Date;
  traceparent?: string;
}

/**
 * Moves a case to `to` inside `tx`: checks legality (409 naming the current state), bumps the version and
 * enqueues sip.case.transitioned. Guards against a concurrent change with the version it read.
 */
export async function transitionCase(
  tx: DbOrTx,
  row: CaseRow,
  to: CaseStatus,
  options: TransitionOptions = {},
): Promise<CaseRow> {
  const from = row.status as CaseStatus;
  if (!canTransition(from, to)) {
    throw new StateConflict(
      'illegal-transition',
      `The case is '${from}'; it cannot become '${to}'${from === 'closed' || from === 'cancelled' ? ' (it has ended)' : ''}`,
    );
  }
  const at = options.at ?? new Date();
  const [updated] = await tx
    .update(cases)
    .set({
      status: to,
      statusReason: options.reason ?? null,
      versionId: sql`${cases.versionId} + 1`,
      lastUpdated: at,
    })
    .where(and(eq(cases.id, row.id), eq(cases.versionId, row.versionId)))
    .returning();
  if (!updated) {
    const [now] = await tx.select({ status: cases.status }).from(cases).where(eq(cases.id, row.id));
    throw new StateConflict(
      'concurrent-change',
      `The case changed meanwhile; it is now '${now?.status ?? 'unknown'}'`,
    );
  }
  await enqueue(
    tx,
    outbox,
    events.caseTransitioned,
    {
      caseId: row.id,
      from,
      to,
      ...(options.reason ? { reason: options.reason } : {}),
      ...(options.byOrg ? { byOrg: options.byOrg } : {}),
      at: at.toISOString(),
    },
    {
      aggregate: row.id,
      source: SOURCE,
      time: at,
      ...(options.traceparent ? { traceparent: options.traceparent } : {}),
    },
  );
  return updated;
}

/** Reads a case row for update (row lock), so two answers to one case serialise. */
export async function lockCase(tx: DbOrTx, caseId: string): Promise<CaseRow | undefined> {
  const [row] = await tx.select().from(cases).where(eq(cases.id, caseId)).for('update');
  return row;
}
