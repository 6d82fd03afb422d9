// What a change to a meeting touches, element by element, so each caller may change only what is theirs.
import type { MeetingInput } from './meeting.ts';

/** Whether the time or the place (or how to meet) differs: participants must hear of it again. */
export function movesMeeting(before: MeetingInput, after: MeetingInput): boolean {
  return (
    before.start.getTime() !== after.start.getTime() ||
    before.end.getTime() !== after.end.getTime() ||
    before.mode !== after.mode ||
    before.location !== after.location
  );
}

export interface CompareOptions {
  /** Leave out this organisation's answer (the caller's own). */
  exceptAnswerOf?: string;
  /** Compare the organisations' answers and attendance at all. */
  orgs?: boolean;
  /** Compare the person and relatives. */
  people?: boolean;
  status?: boolean;
  whenAndWhere?: boolean;
}

/** The elements (FHIR paths) that differ between two readings of a meeting. */
export function differences(
  before: MeetingInput,
  after: MeetingInput,
  options: CompareOptions = {},
): string[] {
  const { orgs = true, people = true, status = true, whenAndWhere = true } = options;
  const diff: string[] = [];
  if (status && before.status !== after.status) diff.push('status');
  if (whenAndWhere) {
    if (before.start.getTime() !== after.start.getTime()) diff.push('start');
    if (before.end.getTime() !== after.end.getTime()) diff.push('end');
    if (before.mode !== after.mode) diff.push('appointmentType');
    if (before.location !== after.location) diff.push('contained[Location]');
  }
  if (orgs) {
    const afterOrgs = new Map(after.orgs.map((o) => [o.org, o]));
    for (const o of before.orgs) {
      const a = afterOrgs.get(o.org);
      afterOrgs.delete(o.org);
      if (!a) {
        diff.push(`participant[${o.org}]`);
        continue;
      }
      if (o.org !== options.exceptAnswerOf && a.answer !== o.answer)
        diff.push(`participant[${o.org}].status`);
      if (a.attendance !== o.attendance) diff.push(`participant[${o.org}].extension[attendance]`);
    }
    for (const org of afterOrgs.keys()) diff.push(`participant[${org}]`);
  }
  if (people) {
    if (
      (before.person?.answer ?? 'needs-action') !== (after.person?.answer ?? 'needs-action') ||
      before.person?.attendance !== after.person?.attendance
    ) {
      diff.push('participant[person]');
    }
    const key = (r: MeetingInput['relatives'][number]) => `${r.display}|${r.answer}|${r.attendance ?? ''}`;
    if (before.relatives.map(key).join('\n') !== after.relatives.map(key).join('\n')) {
      diff.push('participant[relative]');
    }
  }
  return diff;
}
