// Generates realistic SIP cases as statistics events: 21 regions, 290 municipalities, their units, target groups,
// triggers and stage drop-off, with a seeded PRNG so every run makes the same history.
import type { AnyProjected } from '@samsyn/statistics/internals';

export { prng } from '@samsyn/testkit/prng';

const REGION_CODES = [
  '01',
  '03',
  '04',
  '05',
  '06',
  '07',
  '08',
  '09',
  '10',
  '12',
  '13',
  '14',
  '17',
  '18',
  '19',
  '20',
  '21',
  '22',
  '23',
  '24',
  '25',
];

export interface Geography {
  municipalities: { code: string; region: string; units: string[] }[];
  regionUnits: Map<string, string[]>;
}

/** 290 municipalities spread over 21 regions; each municipality has 2 units, each region 3 wards. */
export function geography(): Geography {
  const municipalities: Geography['municipalities'] = [];
  const regionUnits = new Map<string, string[]>();
  REGION_CODES.forEach((region, r) => {
    const orgNr = `23210000${String(r + 10).padStart(2, '0')}`;
    regionUnits.set(
      region,
      [1, 2, 3].map((u) => `SE${orgNr}-${1000 + u}`),
    );
  });
  for (let i = 0; i < 290; i++) {
    const region = REGION_CODES[i % REGION_CODES.length] ?? '01';
    const code = `${region}${String(10 + Math.floor(i / REGION_CODES.length)).padStart(2, '0')}`;
    const orgNr = `2120000${String(i).padStart(3, '0')}`;
    municipalities.push({ code, region, units: [`SE${orgNr}-2001`, `SE${orgNr}-3001`] });
  }
  return { municipalities, regionUnits };
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const START = Date.parse('2025-01-01T00:00:00Z');
const SPAN_DAYS = 730;

function uuidFrom(rand: () => number): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The events of one case, in the order the services would publish them. */
export function caseEvents(rand: () => number, geo: Geography): AnyProjected[] {
  const muni = geo.municipalities[Math.floor(rand() * geo.municipalities.length)] ?? geo.municipalities[0];
  if (!muni) throw new Error('no municipalities');
  const wards = geo.regionUnits.get(muni.region) ?? [];
  const fromRegion = rand() < 0.6;
  const requesterOrg = fromRegion
    ? (wards[Math.floor(rand() * wards.length)] ?? '')
    : (muni.units[Math.floor(rand() * 2)] ?? '');
  const invitee = fromRegion ? (muni.units[0] ?? '') : (wards[0] ?? '');
  const other = muni.units[1] ?? '';
  const age = rand();
  const ageBand = age < 0.2 ? 'child' : age < 0.6 ? 'adult' : 'older';
  const trigger = fromRegion && rand() < 0.7 ? 'discharge' : 'other';
  const caseId = uuidFrom(rand);
  const t0 = START + Math.floor(rand() * SPAN_DAYS * DAY);
  const inv1 = uuidFrom(rand);
  const inv2 = uuidFrom(rand);
  const out: AnyProjected[] = [
    {
      name: 'caseInitiated',
      data: {
        caseId,
        requesterOrg,
        trigger,
        ...(trigger === 'discharge' ? { dischargeReadyAt: iso(t0 - 6 * HOUR) } : {}),
        initiatedAt: iso(t0),
        person: { ageBand, municipality: muni.code },
        invitations: [
          { invitationId: inv1, org: invitee, kind: 'summoned' },
          { invitationId: inv2, org: other, kind: 'invited' },
        ],
      },
    },
  ];
  if (rand() < 0.1) {
    out.push({
      name: 'caseTransitioned',
      data: {
        caseId,
        from: 'awaiting-consent',
        to: 'cancelled',
        reason: 'consent-refused',
        at: iso(t0 + DAY),
      },
    });
    return out;
  }
  const consentAt = t0 + Math.floor(rand() * 3 * DAY);
  out.push({
    name: 'consentGiven',
    data: {
      consentId: uuidFrom(rand),
      caseId,
      at: iso(consentAt),
      coveredOrgs: [requesterOrg, invitee],
      periodStart: iso(consentAt),
      grantor: ageBand === 'child' ? 'guardians' : 'person',
    },
  });
  out.push({
    name: 'caseTransitioned',
    data: { caseId, from: 'awaiting-consent', to: 'invited', at: iso(consentAt) },
  });
  const answer = consentAt + Math.floor(rand() * 72) * HOUR;
  if (rand() < 0.9)
    out.push({
      name: 'invitationAccepted',
      data: { caseId, invitationId: inv1, org: invitee, kind: 'summoned', requesterOrg, at: iso(answer) },
    });
  if (rand() < 0.6)
    out.push({
      name: 'invitationAccepted',
      data: { caseId, invitationId: inv2, org: other, kind: 'invited', requesterOrg, at: iso(answer + HOUR) },
    });
  if (rand() < 0.15) return out;
  const heldAt = consentAt + Math.floor((3 + rand() * 25) * DAY);
  const absent = rand() < 0.1;
  out.push({
    name: 'meetingHeld',
    data: {
      caseId,
      appointmentId: uuidFrom(rand),
      at: iso(heldAt),
      attendance: [
        { org: invitee, kind: 'summoned', attended: !absent },
        { org: other, kind: 'invited', attended: rand() < 0.8 },
      ],
    },
  });
  if (absent)
    out.push({
      name: 'deviationReported',
      data: {
        deviationId: uuidFrom(rand),
        caseId,
        org: invitee,
        requesterOrg,
        cause: 'absent-from-meeting',
        at: iso(heldAt + HOUR),
      },
    });
  if (rand() < 0.1) return out;
  const planId = uuidFrom(rand);
  const establishedAt = heldAt + Math.floor(rand() * 10 * DAY);
  const due = new Date(establishedAt + 90 * DAY).toISOString().slice(0, 10);
  out.push({
    name: 'planEstablished',
    data: {
      planId,
      caseId,
      at: iso(establishedAt),
      version: 1,
      leadOrg: requesterOrg,
      participantOrgs: [requesterOrg, invitee],
      followUpDue: due,
    },
  });
  if (rand() < 0.6)
    out.push({
      name: 'planSharedWithPerson',
      data: { planId, caseId, at: iso(establishedAt + DAY), version: 1, language: 'sv', byOrg: requesterOrg },
    });
  if (rand() < 0.25) return out;
  const followedUpAt = establishedAt + Math.floor((80 + rand() * 20) * DAY);
  out.push({
    name: 'planFollowedUp',
    data: {
      planId,
      caseId,
      at: iso(followedUpAt),
      followUpDue: due,
      onTime: followedUpAt <= Date.parse(`${due}T23:59:59Z`),
      byOrg: requesterOrg,
      participantOrgs: [requesterOrg, invitee],
    },
  });
  if (rand() < 0.3) return out;
  const closedAt = followedUpAt + Math.floor(rand() * 30 * DAY);
  const reasons = ['goals-met', 'goals-met', 'goals-met', 'person-declined', 'moved', 'other'] as const;
  out.push({
    name: 'planClosed',
    data: {
      planId,
      caseId,
      at: iso(closedAt),
      reason: reasons[Math.floor(rand() * reasons.length)] ?? 'other',
      byOrg: requesterOrg,
      participantOrgs: [requesterOrg, invitee],
    },
  });
  if (rand() < 0.5)
    out.push({
      name: 'ratingRecorded',
      data: {
        ratingId: uuidFrom(rand),
        caseId,
        rating: 1 + Math.floor(rand() * 5),
        respondent: 'person',
        org: requesterOrg,
        at: iso(closedAt + 2 * DAY),
      },
    });
  return out;
}
