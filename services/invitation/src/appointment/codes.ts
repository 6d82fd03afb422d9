// The codes and extensions of the SIP meeting (Appointment) and deviation (Flag) profiles, as record systems see them.

import type { CodeSystem } from '@samsyn/fhir';
import { SAMSYN_CS } from '@samsyn/fhir';

export const SAMSYN_SD = 'https://samsyn.se/fhir/StructureDefinition';

/** Appointment.appointmentType: how the meeting is held. */
export const MEETING_MODE_SYSTEM = `${SAMSYN_CS}/sip-meeting-mode`;
/** Appointment.participant.type for the participants that are not invited organisations. */
export const MEETING_PARTICIPANT_SYSTEM = `${SAMSYN_CS}/sip-meeting-participant`;
/** Flag.code: why a deviation was reported. */
export const DEVIATION_SYSTEM = `${SAMSYN_CS}/sip-deviation`;
/** Values of the attendance extension. */
export const ATTENDANCE_SYSTEM = `${SAMSYN_CS}/sip-attendance`;

/** Appointment.participant extension, valueCode attended | absent, recorded after the meeting. */
export const ATTENDANCE_EXTENSION = `${SAMSYN_SD}/attendance`;
/** Flag extension, valueReference Task/<case id>: the SIP case the deviation belongs to. */
export const DEVIATION_CASE_EXTENSION = `${SAMSYN_SD}/sip-case`;
/** Flag extension, valueReference Appointment/<id>: the meeting an absence was recorded at. */
export const DEVIATION_MEETING_EXTENSION = `${SAMSYN_SD}/sip-meeting`;

export const MEETING_MODES = ['physical', 'video', 'phone'] as const;
export type MeetingMode = (typeof MEETING_MODES)[number];
export const ATTENDANCES = ['attended', 'absent'] as const;
export type Attendance = (typeof ATTENDANCES)[number];

export const MEETING_MODE_DISPLAY: Record<MeetingMode, string> = {
  physical: 'In person',
  video: 'Video',
  phone: 'Telephone',
};

export const PARTICIPANT_DISPLAY = {
  initiator: 'Initiating unit',
  person: 'The person',
  relative: 'Relative',
} as const;

export const DEVIATION_DISPLAY = {
  'absent-from-meeting': 'Summoned organisation absent from the SIP meeting',
  'summons-deadline-missed': 'Discharge summons deadline missed',
  'invitation-unanswered': 'Invitation unanswered',
} as const;

function codeSystem(
  id: string,
  title: string,
  description: string,
  concept: { code: string; display: string; definition: string }[],
): CodeSystem {
  return {
    resourceType: 'CodeSystem',
    id,
    url: `${SAMSYN_CS}/${id}`,
    version: '1.0.0',
    name: id
      .split('-')
      .map((p) => p[0]?.toUpperCase() + p.slice(1))
      .join(''),
    title,
    status: 'active',
    experimental: false,
    publisher: 'Samsyn',
    description,
    caseSensitive: true,
    content: 'complete',
    count: concept.length,
    concept,
  };
}

/** The code systems meetings and deviations add; served with the others at /fhir/CodeSystem/<id>. */
export const MEETING_CODE_SYSTEMS: readonly CodeSystem[] = [
  codeSystem(
    'sip-meeting-mode',
    'SIP meeting modes',
    'How a SIP meeting is held (Appointment.appointmentType).',
    [
      {
        code: 'physical',
        display: MEETING_MODE_DISPLAY.physical,
        definition: 'The participants meet at a place.',
      },
      {
        code: 'video',
        display: MEETING_MODE_DISPLAY.video,
        definition: 'A video meeting reached by a link.',
      },
      {
        code: 'phone',
        display: MEETING_MODE_DISPLAY.phone,
        definition: 'A telephone meeting reached by a number.',
      },
    ],
  ),
  codeSystem(
    'sip-meeting-participant',
    'SIP meeting participant roles',
    'Participants of a SIP meeting that are not invited organisations (those use sip-task-input).',
    [
      {
        code: 'initiator',
        display: PARTICIPANT_DISPLAY.initiator,
        definition: 'The unit that initiated the SIP and booked the meeting.',
      },
      {
        code: 'person',
        display: PARTICIPANT_DISPLAY.person,
        definition: 'The person the plan is for; takes part where possible.',
      },
      {
        code: 'relative',
        display: PARTICIPANT_DISPLAY.relative,
        definition: 'A relative, guardian or representative the person wants present.',
      },
    ],
  ),
  codeSystem('sip-attendance', 'SIP meeting attendance', 'Whether a participant attended the SIP meeting.', [
    { code: 'attended', display: 'Attended', definition: 'Took part in the meeting.' },
    { code: 'absent', display: 'Absent', definition: 'Did not take part in the meeting.' },
  ]),
  codeSystem(
    'sip-deviation',
    'SIP deviations',
    'Why Samsyn reported a deviation (avvikelse), in Flag.code.',
    [
      {
        code: 'absent-from-meeting',
        display: DEVIATION_DISPLAY['absent-from-meeting'],
        definition: 'A summoned organisation (kallelse) did not attend the SIP meeting.',
      },
      {
        code: 'summons-deadline-missed',
        display: DEVIATION_DISPLAY['summons-deadline-missed'],
        definition:
          'No SIP meeting was booked within the deadline after the ready-for-discharge notice (Lag 2017:612).',
      },
      {
        code: 'invitation-unanswered',
        display: DEVIATION_DISPLAY['invitation-unanswered'],
        definition: 'An invitation was not answered before it was escalated to the initiator.',
      },
    ],
  ),
];

/** The code systems of the initiative and invitation Tasks beyond the shared ones. */
export const CASE_CODE_SYSTEMS: readonly CodeSystem[] = [
  codeSystem(
    'sip-task-output',
    'SIP invitation answers',
    'What an invited unit names when it answers its invitation (Task.output.type).',
    [
      {
        code: 'substitute',
        display: 'Substitute unit',
        definition:
          'The unit of the same principal that comes instead of the rejecting one; it gets an invitation of its own.',
      },
    ],
  ),
  codeSystem(
    'sip-case-status-reason',
    'SIP case end reasons',
    'Why a SIP case was cancelled or closed (Task.statusReason of the initiative).',
    [
      { code: 'withdrawn', display: 'Withdrawn', definition: 'The initiating unit withdrew the initiative.' },
      {
        code: 'consent-refused',
        display: 'Consent refused',
        definition: 'The person (or guardian) refused consent.',
      },
      {
        code: 'consent-withdrawn',
        display: 'Consent withdrawn',
        definition: 'The person revoked the consent.',
      },
      { code: 'goals-met', display: 'Goals met', definition: 'The plan was closed with its goals met.' },
      {
        code: 'person-declined',
        display: 'Person declined',
        definition: 'The person ended the SIP.',
      },
      { code: 'moved', display: 'Moved', definition: 'The person moved away.' },
      { code: 'deceased', display: 'Deceased', definition: 'The person died.' },
      { code: 'other', display: 'Other', definition: 'Another reason, given in the plan.' },
    ],
  ),
];
