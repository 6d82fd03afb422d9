// Use case: a participant of a case records the person's consent (or refusal); the Consent, its access-log entry
// and sip.consent.given / sip.consent.refused commit together.
import { randomUUID } from 'node:crypto';
import { enqueue } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import type { Db } from '@samsyn/db';
import { BusinessRuleViolation, Forbidden, HSA_SYSTEM } from '@samsyn/fhir';
import { patientKey } from '@samsyn/platform';
import { caseParticipants, takesPart } from '../case-participants/participants.ts';
import { type AccessContext, logAccess, SOURCE } from '../consent/access.ts';
import { type ConsentRow, consents, consentVersions, outbox } from '../db/schema.ts';
import type { ConsentCommand } from './consent-resource.ts';
import { checkGrantors } from './grantors.ts';

export async function giveConsent(db: Db, command: ConsentCommand, ctx: AccessContext): Promise<ConsentRow> {
  const org = ctx.auth.org;
  const id = randomUUID();
  const person = {
    caseId: command.caseId,
    patientSystem: command.patient.system,
    patientValue: command.patient.value,
  };
  const participants = await caseParticipants(db, command.caseId);
  if (!participants || !takesPart(participants, org)) {
    // Unknown and foreign cases answer alike, so case ids cannot be probed; the attempt is logged.
    await logAccess(db, ctx, 'create', person, { outcome: '4' });
    throw new Forbidden(
      `Task/${command.caseId} is not a SIP case that ${org} initiated or was invited to; only its participants record consent (a case initiated a moment ago may take a second to arrive)`,
    );
  }
  const outside = command.coveredOrgs.filter((o) => !takesPart(participants, o));
  if (outside.length > 0) {
    throw new BusinessRuleViolation(
      'org-not-in-case',
      outside.map((o) => ({
        diagnostics: `Consent.provision.actor: ${o} takes no part in Task/${command.caseId} (it neither initiated it nor is invited); a consent covers only the case's organisations — invite it first`,
        expression: ['Consent.provision.actor'],
        code: 'business-rule' as const,
      })),
    );
  }
  const grantor = checkGrantors(command);

  const now = ctx.now ?? new Date();
  const row = {
    id,
    caseId: command.caseId,
    status: command.status,
    patientSystem: command.patient.system,
    patientValue: command.patient.value,
    patientKey: patientKey(ctx.patientKeySecret, command.patient.system, command.patient.value),
    grantor,
    coveredOrgs: command.coveredOrgs,
    periodStart: command.periodStart,
    periodEnd: command.periodEnd ?? null,
    recordedByOrg: org,
    recordedBy: ctx.auth.subject,
    revokedAt: null,
    revokedByOrg: null,
    versionId: 1,
    createdAt: now,
    lastUpdated: now,
    resource: {
      ...command.resource,
      // The organisation that recorded the consent manages it (Consent.organization), unless the sender said.
      organization: (command.resource.organization as unknown[] | undefined) ?? [
        { identifier: { system: HSA_SYSTEM, value: org } },
      ],
    },
  } satisfies ConsentRow;
  const meta = {
    aggregate: command.caseId,
    source: SOURCE,
    time: now,
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
  };
  await db.transaction(async (tx) => {
    await tx.insert(consents).values(row);
    await tx.insert(consentVersions).values({
      consentId: id,
      versionId: 1,
      status: row.status,
      lastUpdated: now,
      resource: row.resource,
    });
    await logAccess(tx, ctx, 'create', { ...person, id });
    const at = now.toISOString();
    if (command.status === 'active') {
      await enqueue(
        tx,
        outbox,
        events.consentGiven,
        {
          consentId: id,
          caseId: command.caseId,
          at,
          coveredOrgs: command.coveredOrgs,
          periodStart: command.periodStart.toISOString(),
          ...(command.periodEnd ? { periodEnd: command.periodEnd.toISOString() } : {}),
          grantor,
        },
        meta,
      );
    } else if (command.status === 'rejected') {
      await enqueue(
        tx,
        outbox,
        events.consentRefused,
        { consentId: id, caseId: command.caseId, at, byOrg: org },
        meta,
      );
    }
  });
  return row;
}
