// A realistic, scripted set of SIP cases as the other services publish them (real contracts, real subjects),
// with every timestamp spelled out so the tests can assert exact numbers worked out by hand.
import { randomUUID } from 'node:crypto';
import type { Bus } from '@samsyn/bus';
import { dataschemaUri, type EventName, type EventPayload, events, toHeaders } from '@samsyn/contracts';
import { ORGS } from '@samsyn/testkit';

export const REGION_WARD = ORGS.regionWard; // SE2321000032-1001, principal SE2321000032
export const HOME_CARE = ORGS.municipalityHomeCare; // SE2120000415-2001, principal SE2120000415
export const SOCIAL = ORGS.municipalitySocial; // SE2120000415-3001

export interface Published {
  id: string;
  name: EventName;
  data: unknown;
}

const H = 3600_000;
const D = 24 * H;
const iso = (ms: number) => new Date(ms).toISOString();

export class Script {
  readonly events: Published[] = [];
  add<N extends EventName>(name: N, data: EventPayload<N>): void {
    this.events.push({ id: randomUUID(), name, data: events[name].schema.parse(data) });
  }
}

export interface ScenarioCase {
  caseId: string;
  group: 'A' | 'B' | 'C' | 'D';
  index: number;
}

/**
 * Group A: 8 discharge cases of older people in municipality 0180, from the region ward, carried all the way.
 * Group B: 4 children's cases (municipality 0114) from the social unit, cancelled when consent was refused.
 * Group C: 1 case initiated 2026-01-31T23:30Z, which is 1 February in Stockholm (municipality 1480).
 * Group D: 5 adult cases initiated in February (municipality 1480), nothing else happened yet.
 */
export function buildScenario(): { script: Script; cases: ScenarioCase[]; closedA: string[] } {
  const s = new Script();
  const cases: ScenarioCase[] = [];
  const closedA: string[] = [];
  for (let i = 0; i < 8; i++) {
    const caseId = randomUUID();
    cases.push({ caseId, group: 'A', index: i });
    const t0 = Date.parse('2026-01-05T08:00:00Z') + i * D;
    const homeInv = randomUUID();
    const socialInv = randomUUID();
    s.add('caseInitiated', {
      caseId,
      requesterOrg: REGION_WARD,
      trigger: 'discharge',
      dischargeReadyAt: iso(t0 - 12 * H),
      initiatedAt: iso(t0),
      person: { ageBand: 'older', municipality: '0180' },
      invitations: [
        { invitationId: homeInv, org: HOME_CARE, kind: 'summoned' },
        { invitationId: socialInv, org: SOCIAL, kind: 'invited' },
      ],
    });
    const consentAt = t0 + D;
    s.add('consentGiven', {
      consentId: randomUUID(),
      caseId,
      at: iso(consentAt),
      coveredOrgs: [REGION_WARD, HOME_CARE, SOCIAL],
      periodStart: iso(consentAt),
      grantor: 'person',
    });
    // Six are summoned 1.5 days after the notice, two 4.5 days after it.
    const invitedAt = t0 + (i < 6 ? 1 : 4) * D;
    s.add('caseTransitioned', { caseId, from: 'awaiting-consent', to: 'invited', at: iso(invitedAt) });
    s.add('invitationAccepted', {
      caseId,
      invitationId: homeInv,
      org: HOME_CARE,
      kind: 'summoned',
      requesterOrg: REGION_WARD,
      at: iso(t0 + 2 * H),
    });
    if (i < 5)
      s.add('invitationAccepted', {
        caseId,
        invitationId: socialInv,
        org: SOCIAL,
        kind: 'invited',
        requesterOrg: REGION_WARD,
        at: iso(t0 + 4 * H),
      });
    // Meeting 10 + i days after the initiative: lead times 10..17 days.
    const heldAt = t0 + (10 + i) * D;
    const appointmentId = randomUUID();
    s.add('caseTransitioned', { caseId, from: 'invited', to: 'scheduled', at: iso(heldAt - 3 * D) });
    s.add('meetingHeld', {
      caseId,
      appointmentId,
      at: iso(heldAt),
      attendance: [
        { org: HOME_CARE, kind: 'summoned', attended: i < 3 },
        { org: SOCIAL, kind: 'invited', attended: true },
        { org: REGION_WARD, attended: true },
      ],
      personAttended: true,
    });
    s.add('caseTransitioned', { caseId, from: 'scheduled', to: 'held', byOrg: REGION_WARD, at: iso(heldAt) });
    if (i >= 3)
      s.add('deviationReported', {
        deviationId: randomUUID(),
        caseId,
        org: HOME_CARE,
        requesterOrg: REGION_WARD,
        cause: 'absent-from-meeting',
        appointmentId,
        at: iso(heldAt + H),
      });
    const planId = randomUUID();
    const establishedAt = heldAt + 2 * D;
    s.add('planEstablished', {
      planId,
      caseId,
      at: iso(establishedAt),
      version: 1,
      leadOrg: REGION_WARD,
      participantOrgs: [REGION_WARD, HOME_CARE, SOCIAL],
      followUpDue: '2026-03-15',
    });
    s.add('caseTransitioned', { caseId, from: 'held', to: 'planned', at: iso(establishedAt) });
    if (i < 6)
      s.add('planSharedWithPerson', {
        planId,
        caseId,
        at: iso(establishedAt + H),
        version: 1,
        language: 'sv',
        byOrg: REGION_WARD,
      });
    if (i < 6) {
      const followedUpAt = establishedAt + 30 * D;
      s.add('planFollowedUp', {
        planId,
        caseId,
        at: iso(followedUpAt),
        followUpDue: '2026-02-20',
        onTime: i < 5,
        byOrg: REGION_WARD,
        participantOrgs: [REGION_WARD, HOME_CARE],
      });
      s.add('caseTransitioned', { caseId, from: 'planned', to: 'followed-up', at: iso(followedUpAt) });
    }
    if (i < 5) {
      const closedAt = Date.parse('2026-02-27T10:00:00Z') + i * H;
      s.add('planClosed', {
        planId,
        caseId,
        at: iso(closedAt),
        reason: 'goals-met',
        byOrg: REGION_WARD,
        participantOrgs: [REGION_WARD, HOME_CARE],
      });
      s.add('caseTransitioned', { caseId, from: 'followed-up', to: 'closed', at: iso(closedAt) });
      closedA.push(caseId);
    }
  }
  for (let i = 0; i < 4; i++) {
    const caseId = randomUUID();
    cases.push({ caseId, group: 'B', index: i });
    const t0 = Date.parse('2026-01-20T09:00:00Z') + i * D;
    s.add('caseInitiated', {
      caseId,
      requesterOrg: SOCIAL,
      trigger: 'other',
      initiatedAt: iso(t0),
      person: { ageBand: 'child', municipality: '0114' },
      invitations: [
        { invitationId: randomUUID(), org: HOME_CARE, kind: 'summoned' },
        { invitationId: randomUUID(), org: REGION_WARD, kind: 'summoned' },
      ],
    });
    s.add('consentRefused', { consentId: randomUUID(), caseId, at: iso(t0 + D), byOrg: SOCIAL });
    s.add('caseTransitioned', {
      caseId,
      from: 'awaiting-consent',
      to: 'cancelled',
      reason: 'consent-refused',
      byOrg: SOCIAL,
      at: iso(t0 + D),
    });
  }
  const boundary = [{ at: '2026-01-31T23:30:00Z', group: 'C' as const }];
  for (let i = 0; i < 5; i++)
    boundary.push({ at: iso(Date.parse('2026-02-10T10:00:00Z') + i * D), group: 'D' as never });
  boundary.forEach((b, i) => {
    const caseId = randomUUID();
    cases.push({ caseId, group: b.group, index: i });
    s.add('caseInitiated', {
      caseId,
      requesterOrg: REGION_WARD,
      trigger: 'other',
      initiatedAt: b.at,
      person: { ageBand: 'adult', municipality: '1480' },
      invitations: [
        { invitationId: randomUUID(), org: HOME_CARE, kind: 'summoned' },
        { invitationId: randomUUID(), org: SOCIAL, kind: 'invited' },
      ],
    });
  });
  return { script: s, cases, closedA };
}

/** Publishes events as their producers do: CloudEvents headers, contract-checked JSON body. */
export async function publish(bus: Bus, list: Published[], options: { msgIdSuffix?: string } = {}) {
  const encoder = new TextEncoder();
  await Promise.all(
    list.map((e) => {
      const def = events[e.name];
      const headers = toHeaders({
        id: e.id,
        type: def.type,
        source: `/samsyn/${def.stream.toLowerCase()}`,
        time: new Date().toISOString(),
        subject: (e.data as { caseId: string }).caseId,
        dataschema: dataschemaUri(def),
      });
      // A replay re-sends the same CloudEvent (same ce-id) past JetStream's duplicate window.
      if (options.msgIdSuffix) headers['Nats-Msg-Id'] = `${e.id}${options.msgIdSuffix}`;
      return bus.publishRaw(def.subject, encoder.encode(JSON.stringify(e.data)), headers);
    }),
  );
}
