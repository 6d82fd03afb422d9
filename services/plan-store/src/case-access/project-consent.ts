// Use case: keep what the person's consent covers for each case, from the consent stream (SPEC §3).
// Revocation is applied the moment its event arrives; every read checks coverage at that instant.
import type { ConsumedEvent } from '@samsyn/bus';
import type { Tx } from '@samsyn/db';
import { eq } from 'drizzle-orm';
import { caseConsents } from '../db/schema.ts';

export async function recordConsentGiven(event: ConsumedEvent<'consentGiven'>, tx: Tx): Promise<void> {
  const { data } = event;
  await tx
    .insert(caseConsents)
    .values({
      consentId: data.consentId,
      caseId: data.caseId,
      coveredOrgs: data.coveredOrgs,
      periodStart: new Date(data.periodStart),
      periodEnd: data.periodEnd ? new Date(data.periodEnd) : null,
      status: 'active',
      updatedAt: new Date(data.at),
    })
    // A revocation applied first must not be undone by the late arrival of the consent it revoked.
    .onConflictDoUpdate({
      target: caseConsents.consentId,
      set: {
        coveredOrgs: data.coveredOrgs,
        periodStart: new Date(data.periodStart),
        periodEnd: data.periodEnd ? new Date(data.periodEnd) : null,
      },
    });
}

export async function recordConsentEnded(
  event: ConsumedEvent<'consentRevoked'> | ConsumedEvent<'consentRefused'>,
  tx: Tx,
  status: 'revoked' | 'refused',
): Promise<void> {
  const { data } = event;
  const at = new Date(data.at);
  const updated = await tx
    .update(caseConsents)
    .set({ status, updatedAt: at })
    .where(eq(caseConsents.consentId, data.consentId))
    .returning({ id: caseConsents.consentId });
  if (updated.length === 0) {
    await tx
      .insert(caseConsents)
      .values({
        consentId: data.consentId,
        caseId: data.caseId,
        coveredOrgs: [],
        periodStart: at,
        status,
        updatedAt: at,
      })
      .onConflictDoNothing();
  }
}
