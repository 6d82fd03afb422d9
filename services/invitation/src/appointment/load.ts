// Loads a meeting for a change, locked together with its case, as the caller may see it.
import type { Tx } from '@samsyn/db';
import { NotFound, requireIfMatch, StateConflict } from '@samsyn/fhir';
import { eq } from 'drizzle-orm';
import { lockCase } from '../case/transition.ts';
import {
  type AppointmentRow,
  appointments,
  type CaseRow,
  type InvitationRow,
  invitations,
} from '../db/schema.ts';
import { canSeeCase, meetingParticipants, seesPersonData } from './access.ts';
import { type MeetingInput, meetingModel } from './meeting.ts';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface LockedMeeting {
  /** The stored meeting, its organisations brought up to date with the case's invitations while booked. */
  meeting: AppointmentRow;
  row: CaseRow;
  invitations: InvitationRow[];
  /** The meeting as the caller sees it (what a PUT from the caller is compared with). */
  view: MeetingInput;
  /** Whether the caller may see the relatives' names (the initiator, or a unit the consent covers). */
  showRelatives: boolean;
}

export interface LockOptions {
  callerOrg: string;
  ifMatch?: string;
  /** PUT needs If-Match (SPEC §5: 412 without one); PATCH checks it only when sent. */
  requireIfMatch?: boolean;
  now: Date;
}

/** Locks the case first, then the meeting (the order booking uses too), so concurrent changes serialise. */
export async function lockMeeting(tx: Tx, id: string, options: LockOptions): Promise<LockedMeeting> {
  if (!UUID_RE.test(id)) throw new NotFound('Appointment', id);
  const [found] = await tx
    .select({ caseId: appointments.caseId })
    .from(appointments)
    .where(eq(appointments.id, id));
  const row = found ? await lockCase(tx, found.caseId) : undefined;
  // A meeting of a case the caller takes no part in answers exactly like a missing one (SPEC §7).
  if (!row || !(await canSeeCase(tx, row, options.callerOrg))) throw new NotFound('Appointment', id);
  const [stored] = await tx.select().from(appointments).where(eq(appointments.id, id)).for('update');
  if (!stored) throw new NotFound('Appointment', id);
  if (options.requireIfMatch || options.ifMatch !== undefined)
    requireIfMatch(options.ifMatch, stored.versionId);
  if (row.status === 'cancelled' || row.status === 'closed') {
    throw new StateConflict('case-ended', `The case is '${row.status}'; its meetings can no longer change`);
  }
  const list = await tx.select().from(invitations).where(eq(invitations.caseId, row.id));
  const meeting =
    stored.status === 'booked'
      ? { ...stored, participants: meetingParticipants(stored.participants, row, list) }
      : stored;
  const showRelatives = await seesPersonData(tx, row, options.callerOrg, options.now);
  return { meeting, row, invitations: list, view: meetingModel(meeting, showRelatives), showRelatives };
}
