// Use case: revoke a consent (SPEC §3: revocable at any time, by any participant of the case). The new version,
// its access-log entry and sip.consent.revoked commit together; any other change is refused.
import { enqueue } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import type { Db } from '@samsyn/db';
import {
  BusinessRuleViolation,
  InvalidRequest,
  NotFound,
  PreconditionFailed,
  requireIfMatch,
  StateConflict,
} from '@samsyn/fhir';
import { and, eq, sql } from 'drizzle-orm';
import { caseParticipants, takesPart } from '../case-participants/participants.ts';
import { type AccessContext, logAccess, SOURCE } from '../consent/access.ts';
import { type ConsentRow, consents, consentVersions, outbox } from '../db/schema.ts';
import { changedElements } from './changes.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Statuses that can still be revoked; `rejected` was never given and `inactive` is revoked already. */
const REVOCABLE = new Set(['active', 'draft', 'proposed']);

export async function updateConsent(
  db: Db,
  id: string,
  body: Record<string, unknown>,
  ifMatch: string | undefined,
  ctx: AccessContext,
): Promise<ConsentRow> {
  if (!UUID_RE.test(id)) throw new NotFound('Consent', id);
  const [row] = await db.select().from(consents).where(eq(consents.id, id)).limit(1);
  if (!row) throw new NotFound('Consent', id);
  const person = { id, caseId: row.caseId, patientSystem: row.patientSystem, patientValue: row.patientValue };
  const participants = await caseParticipants(db, row.caseId);
  if (!participants || !takesPart(participants, ctx.auth.org)) {
    // Like a read: a Consent of someone else's case does not exist for the caller. The attempt is logged.
    await logAccess(db, ctx, 'update', person, { outcome: '4' });
    throw new NotFound('Consent', id);
  }
  requireIfMatch(ifMatch, row.versionId);
  if (body.id !== undefined && body.id !== id) {
    throw new InvalidRequest(
      'invalid-resource',
      `Consent.id '${String(body.id)}' does not match the URL's id ${id}`,
    );
  }
  const changed = changedElements(row.resource, body);
  if (changed.length > 0) {
    throw new BusinessRuleViolation(
      'consent-immutable',
      `A recorded Consent cannot be changed (it documents what was agreed); it differs in ${changed.join(', ')}. The only update allowed is status 'inactive' (revocation); record a new Consent for anything else`,
    );
  }
  if (body.status !== 'inactive') {
    throw new BusinessRuleViolation(
      'consent-immutable',
      `Consent.status: the only update allowed is revocation, status 'inactive' (it is '${row.status}'); record a new Consent for anything else`,
    );
  }
  if (!REVOCABLE.has(row.status)) {
    throw new StateConflict(
      'consent-not-revocable',
      `Consent/${id} is '${row.status}'${row.status === 'inactive' ? ' (revoked already)' : ' (it was refused, never given)'}; there is nothing to revoke`,
    );
  }

  const now = ctx.now ?? new Date();
  return db.transaction(async (tx) => {
    const [updated] = await tx
      .update(consents)
      .set({
        status: 'inactive',
        revokedAt: now,
        revokedByOrg: ctx.auth.org,
        versionId: sql`${consents.versionId} + 1`,
        lastUpdated: now,
      })
      .where(and(eq(consents.id, id), eq(consents.versionId, row.versionId)))
      .returning();
    if (!updated) {
      throw new PreconditionFailed(
        `Consent/${id} changed while this update ran; read it again and reapply your change`,
      );
    }
    await tx.insert(consentVersions).values({
      consentId: id,
      versionId: updated.versionId,
      status: updated.status,
      lastUpdated: now,
      resource: updated.resource,
    });
    await logAccess(tx, ctx, 'update', person);
    // Only a consent that was given is withdrawn downstream; a draft never reached anyone.
    if (row.status === 'active') {
      await enqueue(
        tx,
        outbox,
        events.consentRevoked,
        { consentId: id, caseId: row.caseId, at: now.toISOString(), byOrg: ctx.auth.org },
        {
          aggregate: row.caseId,
          source: SOURCE,
          time: now,
          ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
        },
      );
    }
    return updated;
  });
}
