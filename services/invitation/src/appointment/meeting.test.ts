import { assertValidFhir, ORGS } from '@samsyn/testkit';
import { describe, expect, it } from 'vitest';
import { ATTENDANCE_EXTENSION, MEETING_MODE_SYSTEM, MEETING_PARTICIPANT_SYSTEM } from './codes.ts';
import { differences } from './compare.ts';
import {
  appointmentResource,
  meetingModel,
  RELATIVE_WITHHELD,
  readMeeting,
  type StoredMeeting,
} from './meeting.ts';

const CASE_ID = '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const HSA = 'urn:oid:1.2.752.29.4.19';

function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Appointment',
    status: 'booked',
    appointmentType: { coding: [{ system: MEETING_MODE_SYSTEM, code: 'physical' }] },
    supportingInformation: [{ reference: `Task/${CASE_ID}` }],
    start: '2026-12-01T10:00:00+01:00',
    end: '2026-12-01T11:30:00+01:00',
    contained: [{ resourceType: 'Location', id: 'place', address: { text: 'Vårdcentralen Norr, rum 3' } }],
    participant: [
      { actor: { reference: '#place' }, status: 'accepted' },
      {
        type: [{ coding: [{ system: MEETING_PARTICIPANT_SYSTEM, code: 'person' }] }],
        actor: { display: 'Personen' },
        status: 'accepted',
      },
      {
        type: [{ coding: [{ system: MEETING_PARTICIPANT_SYSTEM, code: 'relative' }] }],
        actor: { display: 'Anna Tolvansson, dotter' },
        status: 'tentative',
      },
    ],
    ...overrides,
  };
}

const stored: StoredMeeting = {
  id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  caseId: CASE_ID,
  status: 'fulfilled',
  start: new Date('2026-12-01T09:00:00Z'),
  end: new Date('2026-12-01T10:30:00Z'),
  mode: 'video',
  location: 'https://mote.region-exempel.se/sip/123',
  participants: [
    { type: 'org', org: ORGS.regionWard, answer: 'accepted', attendance: 'attended' },
    {
      type: 'org',
      org: ORGS.municipalityHomeCare,
      kind: 'summoned',
      answer: 'accepted',
      attendance: 'absent',
    },
    { type: 'org', org: ORGS.municipalitySocial, kind: 'invited', answer: 'declined', attendance: 'absent' },
    { type: 'person', answer: 'accepted', attendance: 'attended' },
    { type: 'relative', display: 'Anna Tolvansson, dotter', answer: 'accepted' },
  ],
  versionId: 3,
  lastUpdated: new Date('2026-12-01T11:00:00Z'),
  createdAt: new Date('2026-11-22T09:00:00Z'),
};

describe('reading an Appointment', () => {
  it('reads the case, the mode, the place, the person and the relatives', () => {
    const meeting = readMeeting(body());
    expect(meeting).toMatchObject({
      caseId: CASE_ID,
      status: 'booked',
      mode: 'physical',
      location: 'Vårdcentralen Norr, rum 3',
      person: { answer: 'accepted' },
      relatives: [{ display: 'Anna Tolvansson, dotter', answer: 'tentative' }],
      orgs: [],
    });
    expect(meeting.start.toISOString()).toBe('2026-12-01T09:00:00.000Z');
  });

  it('refuses a start without a time zone and an end before the start, naming both', () => {
    expect(() => readMeeting(body({ start: '2026-12-01T10:00:00', end: '2026-12-01T09:00:00Z' }))).toThrow(
      /Appointment.start: .*time zone/,
    );
    expect(() => readMeeting(body({ end: '2026-12-01T09:00:00+01:00' }))).toThrow(
      /Appointment.end: must be after Appointment.start/,
    );
  });

  it('refuses a case named in basedOn, which R4 reserves for ServiceRequest, and says where it goes', () => {
    const sent = body({ basedOn: [{ reference: `Task/${CASE_ID}` }] });
    delete sent.supportingInformation;
    expect(() => readMeeting(sent)).toThrow(/supportingInformation/);
  });

  it('refuses elements Samsyn would silently drop', () => {
    expect(() => readMeeting(body({ description: 'Agenda' }))).toThrow(
      /Appointment.description: Samsyn does not store/,
    );
  });

  it('requires an https link for a video meeting and a number for a phone meeting', () => {
    const video = (value: string) =>
      body({
        appointmentType: { coding: [{ system: MEETING_MODE_SYSTEM, code: 'video' }] },
        contained: [{ resourceType: 'Location', id: 'place', telecom: [{ system: 'url', value }] }],
      });
    expect(readMeeting(video('https://mote.example.se/abc')).location).toBe('https://mote.example.se/abc');
    expect(() => readMeeting(video('http://mote.example.se/abc'))).toThrow(/not an https link/);
    const phone = body({
      appointmentType: { coding: [{ system: MEETING_MODE_SYSTEM, code: 'phone' }] },
      contained: [
        {
          resourceType: 'Location',
          id: 'place',
          telecom: [{ system: 'phone', value: '+46 8 123 456 78,,4321#' }],
        },
      ],
    });
    expect(readMeeting(phone).location).toBe('+46 8 123 456 78,,4321#');
  });

  it('refuses an organisation named by something other than an HSA-id', () => {
    const sent = body({
      participant: [
        {
          actor: { identifier: { system: 'urn:oid:2.16.840.1.113883.4.1', value: 'X' } },
          status: 'accepted',
        },
      ],
    });
    expect(() => readMeeting(sent)).toThrow(/HSA-id/);
  });

  it('reads attendance from the Samsyn extension and refuses other codes', () => {
    const sent = body({
      participant: [
        {
          actor: { identifier: { system: HSA, value: ORGS.municipalityHomeCare } },
          status: 'accepted',
          extension: [{ url: ATTENDANCE_EXTENSION, valueCode: 'absent' }],
        },
      ],
    });
    expect(readMeeting(sent).orgs).toEqual([
      { org: ORGS.municipalityHomeCare, answer: 'accepted', attendance: 'absent' },
    ]);
    (sent.participant as { extension: { valueCode: string }[] }[])[0]?.extension.splice(0, 1, {
      valueCode: 'late',
      url: ATTENDANCE_EXTENSION,
    } as never);
    expect(() => readMeeting(sent)).toThrow(/attended or absent/);
  });
});

describe('rendering an Appointment', () => {
  it('renders valid FHIR R4 with the place, attendance and required per invitee kind', () => {
    const resource = appointmentResource(stored, true);
    assertValidFhir(resource);
    const home = resource.participant.find((p) => p.actor?.identifier?.value === ORGS.municipalityHomeCare);
    expect(home?.required).toBe('required');
    expect(home?.extension).toEqual([{ url: ATTENDANCE_EXTENSION, valueCode: 'absent' }]);
    const social = resource.participant.find((p) => p.actor?.identifier?.value === ORGS.municipalitySocial);
    expect(social?.required).toBe('optional');
    expect(resource.contained?.[0]).toMatchObject({ telecom: [{ system: 'url', value: stored.location }] });
  });

  it('withholds relatives’ names from an organisation the consent does not cover', () => {
    const resource = appointmentResource(stored, false);
    expect(JSON.stringify(resource)).not.toContain('Anna');
    expect(resource.participant.some((p) => p.actor?.display === RELATIVE_WITHHELD)).toBe(true);
  });

  it('reads back what it renders unchanged, so a participant can PUT what it read', () => {
    for (const shown of [true, false]) {
      const again = readMeeting(appointmentResource(stored, shown) as unknown as Record<string, unknown>);
      expect(differences(meetingModel(stored, shown), again)).toEqual([]);
    }
  });
});
