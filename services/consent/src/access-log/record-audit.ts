// Use case: store every service's access-log entry (sip.audit.recorded) for log review, keyed by the pseudonym.
import type { ConsumedEvent } from '@samsyn/bus';
import type { Tx } from '@samsyn/db';
import { auditEvents } from '../db/schema.ts';

/** The principal of an organisation unit: the organisation number inside its HSA-id (SE<10 digits>-…). */
export function principalOf(hsaId: string): string {
  const m = /^SE(\d{10})-/.exec(hsaId);
  if (!m?.[1]) throw new RangeError(`${hsaId} is not an HSA-id with an organisation number`);
  return m[1];
}

/**
 * The log keeps the pseudonym, never the personnummer (docs/decisions.md). A producer that put one in a query
 * string by mistake does not get it stored: anything shaped like a personnummer or samordningsnummer is masked.
 */
export function redactPersonNumbers(text: string): string {
  // Bounded by anything but letters, digits and hyphens, so the hex groups of a UUID are never taken for one.
  return text.replace(/(?<![0-9A-Za-z-])(?:18|19|20)\d{6}[-+]?\d{4}(?![0-9A-Za-z])/g, '[redacted]');
}

export async function recordAuditEntry(event: ConsumedEvent<'auditRecorded'>, tx: Tx): Promise<void> {
  const { data } = event;
  await tx
    .insert(auditEvents)
    .values({
      id: data.auditId,
      recordedAt: new Date(data.recordedAt),
      action: data.action,
      interaction: data.interaction,
      outcome: data.outcome,
      userId: data.userId,
      userName: data.userName ?? null,
      orgUnit: data.orgUnit,
      orgNumber: principalOf(data.orgUnit),
      patientKey: data.patientKey ?? null,
      caseId: data.caseId ?? null,
      resource: data.resource ? redactPersonNumbers(data.resource) : null,
      query: data.query ? redactPersonNumbers(data.query) : null,
      service: data.service,
    })
    // The inbox applies an event once; this also absorbs a replay under a new consumer name.
    .onConflictDoNothing();
}
