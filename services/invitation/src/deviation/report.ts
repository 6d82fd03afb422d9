// Reports an avvikelse (deviation): one row, addressed to an organisation and the initiator, and its event.
import { randomUUID } from 'node:crypto';
import { enqueue } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import type { DbOrTx } from '@samsyn/db';
import { SOURCE } from '../case/transition.ts';
import { type DeviationRow, deviations, outbox } from '../db/schema.ts';

export const DEVIATION_CAUSES = [
  'absent-from-meeting',
  'summons-deadline-missed',
  'invitation-unanswered',
] as const;
export type DeviationCause = (typeof DEVIATION_CAUSES)[number];

export interface DeviationReport {
  caseId: string;
  /** The organisation the deviation is about (and addressed to). */
  org: string;
  requesterOrg: string;
  cause: DeviationCause;
  appointmentId?: string;
  at: Date;
  traceparent?: string;
}

/**
 * Writes the deviation and sip.deviation.reported inside `tx`. A deviation already reported for the same case,
 * organisation, cause and meeting is not reported again (returns undefined).
 */
export async function reportDeviation(
  tx: DbOrTx,
  report: DeviationReport,
): Promise<DeviationRow | undefined> {
  const [row] = await tx
    .insert(deviations)
    .values({
      id: randomUUID(),
      caseId: report.caseId,
      org: report.org,
      requesterOrg: report.requesterOrg,
      cause: report.cause,
      appointmentId: report.appointmentId ?? null,
      createdAt: report.at,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) return undefined;
  await enqueue(
    tx,
    outbox,
    events.deviationReported,
    {
      deviationId: row.id,
      caseId: row.caseId,
      org: row.org,
      requesterOrg: row.requesterOrg,
      cause: report.cause,
      ...(row.appointmentId ? { appointmentId: row.appointmentId } : {}),
      at: report.at.toISOString(),
    },
    {
      aggregate: row.caseId,
      source: SOURCE,
      time: report.at,
      ...(report.traceparent ? { traceparent: report.traceparent } : {}),
    },
  );
  return row;
}
