// The SIP meeting as FHIR Appointment: reading what a record system sends, and rendering what it may see.

import type { FhirErrorDetail } from '@samsyn/fhir';
import {
  type Appointment,
  type AppointmentParticipant,
  checkHsaId,
  dt,
  HSA_SYSTEM,
  InvalidRequest,
  isHsaSystem,
  type Location,
  TASK_INPUT_SYSTEM,
} from '@samsyn/fhir';
import type { AppointmentParticipant as StoredParticipant } from '../db/schema.ts';
import {
  ATTENDANCE_EXTENSION,
  ATTENDANCES,
  type Attendance,
  MEETING_MODE_DISPLAY,
  MEETING_MODE_SYSTEM,
  MEETING_MODES,
  MEETING_PARTICIPANT_SYSTEM,
  type MeetingMode,
  PARTICIPANT_DISPLAY,
} from './codes.ts';

export type Answer = StoredParticipant['answer'];
export type MeetingStatus = 'booked' | 'cancelled' | 'fulfilled';
const ANSWERS: readonly Answer[] = ['needs-action', 'accepted', 'declined', 'tentative'];
const STATUSES: readonly MeetingStatus[] = ['booked', 'cancelled', 'fulfilled'];

/** The one contained Location that says where (or how) to meet. */
export const PLACE_ID = 'place';
/** What an organisation the person's consent does not cover sees instead of a relative's name (SPEC §3). */
export const RELATIVE_WITHHELD = 'Närstående';
const MAX_MEETING_MS = 24 * 3_600_000;

/** A meeting as Samsyn understands it, whether sent by a record system or read back from storage. */
export interface MeetingInput {
  caseId: string;
  status: MeetingStatus;
  start: Date;
  end: Date;
  mode: MeetingMode;
  /** The place (physical), the https link (video) or the number to call (phone). */
  location: string;
  orgs: { org: string; answer: Answer; attendance?: Attendance }[];
  person?: { answer: Answer; attendance?: Attendance };
  relatives: { display: string; answer: Answer; attendance?: Attendance }[];
  /** Names of units as the booking gave them (actor.display), for the kallelse only; not stored. */
  orgNames?: Record<string, string>;
}

/** Elements Samsyn stores or derives; anything else would be lost, so it is refused instead. */
const KNOWN_ELEMENTS = new Set([
  'resourceType',
  'id',
  'meta',
  'text',
  'contained',
  'status',
  'appointmentType',
  'supportingInformation',
  'start',
  'end',
  'created',
  'participant',
]);

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PHONE_RE = /^\+?[0-9][0-9 ()\-,#*]{4,39}$/;

/** Reads an Appointment body into a meeting, listing every problem in one 400. */
export function readMeeting(body: Record<string, unknown>): MeetingInput {
  const problems: FhirErrorDetail[] = [];
  const problem: Problem = (expression, diagnostics, code = 'invalid') => {
    problems.push({ diagnostics: `${expression}: ${diagnostics}`, expression: [expression], code });
  };
  const a = body as Partial<Appointment> & Record<string, unknown>;

  for (const key of Object.keys(body)) {
    if (key === 'basedOn') {
      problem(
        'Appointment.basedOn',
        "R4 lets Appointment.basedOn reference only a ServiceRequest; name the SIP case in supportingInformation: [{ reference: 'Task/<id>' }]",
        'value',
      );
    } else if (!KNOWN_ELEMENTS.has(key)) {
      problem(
        `Appointment.${key}`,
        'Samsyn does not store this element, so it would be lost; leave it out (docs/meetings-and-deadlines.md lists the supported elements)',
        'not-supported',
      );
    }
  }

  const status = a.status as string | undefined;
  if (!status)
    problem('Appointment.status', 'is required: booked (or cancelled / fulfilled on update)', 'required');
  else if (!STATUSES.includes(status as MeetingStatus)) {
    problem(
      'Appointment.status',
      `'${status}' is not used for SIP meetings; use booked, cancelled or fulfilled`,
      'value',
    );
  }

  const start = instant(a.start, 'Appointment.start', problem);
  const end = instant(a.end, 'Appointment.end', problem);
  if (start && end) {
    if (end.getTime() <= start.getTime())
      problem('Appointment.end', 'must be after Appointment.start', 'invariant');
    else if (end.getTime() - start.getTime() > MAX_MEETING_MS) {
      problem('Appointment.end', 'a SIP meeting lasts at most 24 hours', 'value');
    }
  }

  let caseId: string | undefined;
  const support = Array.isArray(a.supportingInformation) ? a.supportingInformation : [];
  const taskRefs = support.flatMap((r) => {
    const id = /(?:^|\/)Task\/([^/]+)$/.exec(r?.reference ?? '')?.[1];
    return id ? [id] : [];
  });
  if (taskRefs.length !== 1) {
    problem(
      'Appointment.supportingInformation',
      "must name the SIP case as exactly one reference 'Task/<id>' (the initiative Task)",
      'required',
    );
  } else if (!UUID_RE.test(taskRefs[0] as string)) {
    problem('Appointment.supportingInformation', `Task/${taskRefs[0]} is not a Samsyn case id`, 'value');
  } else caseId = (taskRefs[0] as string).toLowerCase();

  const modes = (a.appointmentType?.coding ?? []).filter((c) => c.system === MEETING_MODE_SYSTEM);
  const mode = modes[0]?.code as MeetingMode | undefined;
  if (modes.length !== 1 || !mode || !MEETING_MODES.includes(mode)) {
    problem(
      'Appointment.appointmentType',
      `must carry one coding of ${MEETING_MODE_SYSTEM}: physical, video or phone`,
      modes.length === 0 ? 'required' : 'value',
    );
  }

  const contained = Array.isArray(a.contained) ? a.contained : [];
  const places = contained.filter((r): r is Location => r?.resourceType === 'Location');
  if (contained.length !== places.length) {
    problem('Appointment.contained', 'only one Location (where or how to meet) may be contained', 'value');
  }
  let location: string | undefined;
  if (places.length !== 1) {
    problem(
      'Appointment.contained',
      'must hold exactly one Location saying where to meet (address.text), or the video link or phone number (telecom)',
      'required',
    );
  } else if (mode && MEETING_MODES.includes(mode)) {
    location = readPlace(places[0] as Location, mode, problem);
  }

  const orgs: MeetingInput['orgs'] = [];
  const orgNames: Record<string, string> = {};
  const relatives: MeetingInput['relatives'] = [];
  let person: MeetingInput['person'];
  const participants = Array.isArray(a.participant) ? a.participant : [];
  const placeRef = places[0]?.id ? `#${places[0].id}` : undefined;
  for (const [i, p] of participants.entries()) {
    const at = `Appointment.participant[${i}]`;
    if (typeof p !== 'object' || p === null) {
      problem(at, 'must be an object');
      continue;
    }
    if (p.actor?.reference && p.actor.reference === placeRef) continue; // The place itself; Samsyn renders it.
    const answer = p.status as Answer;
    if (!ANSWERS.includes(answer)) {
      problem(
        `${at}.status`,
        'must be needs-action, accepted, declined or tentative',
        p.status ? 'value' : 'required',
      );
    }
    const attendance = readAttendance(p, at, problem);
    const extra = attendance ? { attendance } : {};
    const roles = (p.type ?? []).flatMap((t) => t.coding ?? []);
    const role = roles.find((c) => c.system === MEETING_PARTICIPANT_SYSTEM)?.code;
    if (role === 'person') {
      if (person) problem(at, 'the person takes part once', 'value');
      person = { answer, ...extra };
    } else if (role === 'relative') {
      const display = p.actor?.display?.trim();
      if (!display)
        problem(`${at}.actor.display`, "name the relative (e.g. 'Anna Tolvansson, dotter')", 'required');
      else relatives.push({ display, answer, ...extra });
    } else if (p.actor?.identifier) {
      const id = p.actor.identifier;
      if (!isHsaSystem(id.system)) {
        problem(
          `${at}.actor.identifier.system`,
          `an organisation is named by its HSA-id (${HSA_SYSTEM})`,
          'value',
        );
        continue;
      }
      const hsa = checkHsaId(id.value ?? '');
      if (!hsa.ok) problem(`${at}.actor.identifier.value`, hsa.reason, 'value');
      else if (orgs.some((o) => o.org === hsa.value)) problem(at, `${hsa.value} is listed twice`, 'value');
      else {
        orgs.push({ org: hsa.value, answer, ...extra });
        const name = p.actor.display?.trim();
        if (name) orgNames[hsa.value] = name.slice(0, 200);
      }
    } else {
      problem(
        at,
        `say who takes part: an organisation by actor.identifier (HSA-id), or type ${MEETING_PARTICIPANT_SYSTEM} person or relative`,
        'required',
      );
    }
  }

  if (problems.length > 0 || !status || !start || !end || !caseId || !mode || location === undefined) {
    throw new InvalidRequest(
      'invalid-resource',
      problems.length > 0 ? problems : 'Appointment is incomplete',
    );
  }
  return {
    caseId,
    status: status as MeetingStatus,
    start,
    end,
    mode,
    location,
    orgs,
    ...(person ? { person } : {}),
    relatives,
    ...(Object.keys(orgNames).length > 0 ? { orgNames } : {}),
  };
}

type Problem = (expression: string, diagnostics: string, code?: FhirErrorDetail['code']) => void;

function instant(value: unknown, expression: string, problem: Problem): Date | undefined {
  if (value === undefined) {
    problem(expression, 'is required', 'required');
    return undefined;
  }
  const parsed = dt.fhirInstant.safeParse(value);
  if (!parsed.success) {
    problem(
      expression,
      `${parsed.error.issues[0]?.message ?? 'is not an instant'}, with a time zone`,
      'value',
    );
    return undefined;
  }
  return new Date(parsed.data);
}

function readPlace(place: Location, mode: MeetingMode, problem: Problem): string | undefined {
  const at = 'Appointment.contained[Location]';
  const telecom = (system: string) => (place.telecom ?? []).find((t) => t.system === system)?.value?.trim();
  switch (mode) {
    case 'physical': {
      const address = place.address;
      const text =
        address?.text?.trim() ||
        [...(address?.line ?? []), [address?.postalCode, address?.city].filter(Boolean).join(' ')]
          .filter((s) => s?.trim())
          .join(', ') ||
        place.name?.trim();
      if (!text) problem(`${at}.address.text`, 'a meeting in person needs the place to meet', 'required');
      return text || undefined;
    }
    case 'video': {
      const link = telecom('url');
      if (!link)
        problem(`${at}.telecom`, "a video meeting needs its link as telecom with system 'url'", 'required');
      else if (!/^https:\/\/[^\s]+$/.test(link) || !URL.canParse(link)) {
        problem(`${at}.telecom.value`, `${link} is not an https link`, 'value');
      } else return link;
      return undefined;
    }
    case 'phone': {
      const number = telecom('phone');
      if (!number)
        problem(
          `${at}.telecom`,
          "a telephone meeting needs the number as telecom with system 'phone'",
          'required',
        );
      else if (!PHONE_RE.test(number)) {
        problem(
          `${at}.telecom.value`,
          `${number} is not a telephone number (digits, spaces, + ( ) - , # *)`,
          'value',
        );
      } else return number;
      return undefined;
    }
  }
}

function readAttendance(p: AppointmentParticipant, at: string, problem: Problem): Attendance | undefined {
  const found = (p.extension ?? []).filter((e) => e.url === ATTENDANCE_EXTENSION);
  if (found.length === 0) return undefined;
  const code = found[0]?.valueCode as Attendance | undefined;
  if (found.length > 1 || !code || !ATTENDANCES.includes(code)) {
    problem(`${at}.extension`, `${ATTENDANCE_EXTENSION} takes one valueCode: attended or absent`, 'value');
    return undefined;
  }
  return code;
}

// ---- Rendering ------------------------------------------------------------------------------------------

export interface StoredMeeting {
  id: string;
  caseId: string;
  status: string;
  start: Date;
  end: Date;
  mode: string;
  location: string;
  participants: StoredParticipant[];
  versionId: number;
  lastUpdated: Date;
  createdAt: Date;
}

/** The meeting as `viewer` may see it; relatives' names only where the person's consent reaches (SPEC §3). */
export function meetingModel(meeting: StoredMeeting, showRelatives: boolean): MeetingInput {
  const withAttendance = <T extends object>(value: T, p: StoredParticipant) =>
    p.attendance ? { ...value, attendance: p.attendance } : value;
  const person = meeting.participants.find((p) => p.type === 'person');
  return {
    caseId: meeting.caseId,
    status: meeting.status as MeetingStatus,
    start: meeting.start,
    end: meeting.end,
    mode: meeting.mode as MeetingMode,
    location: meeting.location,
    orgs: meeting.participants
      .filter((p) => p.type === 'org' && p.org)
      .map((p) => withAttendance({ org: p.org as string, answer: p.answer }, p)),
    ...(person ? { person: withAttendance({ answer: person.answer }, person) } : {}),
    relatives: meeting.participants
      .filter((p) => p.type === 'relative')
      .map((p) =>
        withAttendance(
          { display: showRelatives ? (p.display ?? RELATIVE_WITHHELD) : RELATIVE_WITHHELD, answer: p.answer },
          p,
        ),
      ),
  };
}

export function appointmentResource(meeting: StoredMeeting, showRelatives: boolean): Appointment {
  const mode = meeting.mode as MeetingMode;
  const place: Location = {
    resourceType: 'Location',
    id: PLACE_ID,
    status: 'active',
    mode: 'instance',
    ...(mode === 'physical'
      ? { address: { text: meeting.location } }
      : { telecom: [{ system: mode === 'video' ? 'url' : 'phone', value: meeting.location }] }),
  };
  const attendance = (p: StoredParticipant) =>
    p.attendance ? { extension: [{ url: ATTENDANCE_EXTENSION, valueCode: p.attendance }] } : {};
  const role = (code: keyof typeof PARTICIPANT_DISPLAY) => [
    { coding: [{ system: MEETING_PARTICIPANT_SYSTEM, code, display: PARTICIPANT_DISPLAY[code] }] },
  ];
  const participant: AppointmentParticipant[] = [
    { actor: { reference: `#${PLACE_ID}` }, required: 'information-only', status: 'accepted' },
  ];
  for (const p of meeting.participants) {
    if (p.type === 'org') {
      participant.push({
        ...attendance(p),
        type: p.kind ? [{ coding: [{ system: TASK_INPUT_SYSTEM, code: p.kind }] }] : role('initiator'),
        actor: { identifier: { system: HSA_SYSTEM, value: p.org as string } },
        // A summoned principal must come (kallelse); an invited actor may (inbjudan).
        required: p.kind === 'invited' ? 'optional' : 'required',
        status: p.answer,
      });
    } else if (p.type === 'person') {
      participant.push({
        ...attendance(p),
        type: role('person'),
        actor: { display: 'Personen' },
        // The person takes part where possible; the meeting is not refused without them.
        required: 'optional',
        status: p.answer,
      });
    } else {
      participant.push({
        ...attendance(p),
        type: role('relative'),
        actor: { display: showRelatives ? (p.display ?? RELATIVE_WITHHELD) : RELATIVE_WITHHELD },
        required: 'optional',
        status: p.answer,
      });
    }
  }
  return {
    resourceType: 'Appointment',
    id: meeting.id,
    meta: { versionId: String(meeting.versionId), lastUpdated: meeting.lastUpdated.toISOString() },
    contained: [place],
    status: meeting.status as Appointment['status'],
    appointmentType: {
      coding: [{ system: MEETING_MODE_SYSTEM, code: mode, display: MEETING_MODE_DISPLAY[mode] }],
    },
    supportingInformation: [{ reference: `Task/${meeting.caseId}`, type: 'Task' }],
    start: meeting.start.toISOString(),
    end: meeting.end.toISOString(),
    created: meeting.createdAt.toISOString(),
    participant,
  };
}
