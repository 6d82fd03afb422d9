// Use case: when a case is initiated, each invited unit gets a notification in its inbox (SPEC §9).
import { randomUUID } from 'node:crypto';
import type { ConsumedEvent } from '@samsyn/bus';
import type { Tx } from '@samsyn/db';
import { communications } from '../db/schema.ts';

/** Swedish staff texts; no person data: the unit learns who the person is once consent covers it. */
function invitationText(kind: 'summoned' | 'invited', requesterOrg: string, discharge: boolean): string {
  const what =
    kind === 'summoned'
      ? 'Er enhet är kallad till en samordnad individuell plan (SIP).'
      : 'Er enhet är inbjuden till en samordnad individuell plan (SIP).';
  const urgency = discharge
    ? ' Personen är utskrivningsklar: kallelse till SIP-möte ska ske inom tre dagar.'
    : '';
  return `${what} Initiativet kommer från ${requesterOrg}.${urgency} Svara på inbjudan i Samsyn.`;
}

export async function notifyInvitedOrgs(event: ConsumedEvent<'caseInitiated'>, tx: Tx): Promise<void> {
  const { data, attrs } = event;
  const sentAt = new Date(attrs.time);
  await tx
    .insert(communications)
    .values(
      data.invitations.map((inv) => ({
        id: randomUUID(),
        recipientOrg: inv.org,
        senderOrg: data.requesterOrg,
        category: 'invitation-received',
        caseId: data.caseId,
        about: `Task/${inv.invitationId}`,
        priority: data.trigger === 'discharge' ? 'urgent' : 'routine',
        text: invitationText(inv.kind, data.requesterOrg, data.trigger === 'discharge'),
        sourceEventId: attrs.id,
        sentAt,
        lastUpdated: sentAt,
      })),
    )
    // The inbox already makes the event apply once; this guards against a replay under a new consumer name.
    .onConflictDoNothing();
}
