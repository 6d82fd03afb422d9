// Use case: an invited organisation answers whether it comes to the meeting (its own participant.status only).
import type { Tx } from '@samsyn/db';
import { Forbidden, InvalidRequest, NotFound } from '@samsyn/fhir';
import { eq, sql } from 'drizzle-orm';
import { differences } from '../appointment/compare.ts';
import type { LockedMeeting } from '../appointment/load.ts';
import type { MeetingInput } from '../appointment/meeting.ts';
import { appointments } from '../db/schema.ts';
import { assertStillBooked, type MeetingContext, type MeetingResult } from './schedule-meeting.ts';

export async function answerParticipation(
  tx: Tx,
  locked: LockedMeeting,
  incoming: MeetingInput,
  ctx: MeetingContext & { now: Date },
): Promise<MeetingResult> {
  const { meeting, row, view } = locked;
  const me = ctx.callerOrg;
  const mine = view.orgs.find((o) => o.org === me);
  if (!mine) {
    throw new Forbidden(
      `${me} does not take part in this meeting; only the initiating unit ${row.requesterOrg} changes it`,
    );
  }
  const answer = incoming.orgs.find((o) => o.org === me)?.answer;
  if (!answer) {
    throw new InvalidRequest(
      'own-participant-missing',
      `Appointment.participant: keep the participant for ${me} (actor.identifier) and set its status`,
    );
  }
  const other = differences(view, incoming, { exceptAnswerOf: me });
  if (other.length > 0) {
    throw new Forbidden(
      `As ${me} you may change only your own participant.status; the initiating unit ${row.requesterOrg} changes ${other.join(', ')}`,
    );
  }
  if (answer === mine.answer) return { meeting, row, changed: false };
  assertStillBooked(meeting);
  const [updated] = await tx
    .update(appointments)
    .set({
      participants: meeting.participants.map((p) =>
        p.type === 'org' && p.org === me ? { ...p, answer } : p,
      ),
      versionId: sql`${appointments.versionId} + 1`,
      lastUpdated: ctx.now,
    })
    .where(eq(appointments.id, meeting.id))
    .returning();
  if (!updated) throw new NotFound('Appointment', meeting.id);
  return { meeting: updated, row, changed: true };
}
