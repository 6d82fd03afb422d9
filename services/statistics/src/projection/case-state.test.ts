// The fold is the ground the whole projection stands on: any order, any repetition, the same state and cells.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AnyProjected,
  applyEvent,
  contributions,
  emptyCase,
  instantOrder,
  principalOf,
  regionOf,
  rollupDelta,
  rollupRowDelta,
  rollupSlot,
  slotStage,
} from './case-state.ts';
import { stockholmDate, stockholmMonth } from './stockholm.ts';

const caseId = '6f1c0d7e-3a51-4c54-9b0a-2f4a6f0f7d11';
const inv = '0b3c3f43-5d8e-4b53-9a37-3b8f4c6e2a10';
const ward = 'SE2321000032-1001';
const homeCare = 'SE2120000415-2001';

const history: AnyProjected[] = [
  {
    name: 'caseInitiated',
    data: {
      caseId,
      requesterOrg: ward,
      trigger: 'discharge',
      initiatedAt: '2026-01-31T23:30:00Z',
      person: { ageBand: 'older', municipality: '0180' },
      invitations: [{ invitationId: inv, org: homeCare, kind: 'summoned' }],
    },
  },
  {
    name: 'consentGiven',
    data: {
      consentId: '9d6c1a2e-1f0b-4e8a-8a55-0d2a3f9c4b21',
      caseId,
      at: '2026-02-01T10:00:00Z',
      coveredOrgs: [ward, homeCare],
      periodStart: '2026-02-01T10:00:00Z',
      grantor: 'person',
    },
  },
  {
    name: 'caseTransitioned',
    data: { caseId, from: 'awaiting-consent', to: 'invited', at: '2026-02-01T10:00:00Z' },
  },
  {
    name: 'invitationForwarded',
    data: {
      caseId,
      invitationId: inv,
      org: homeCare,
      kind: 'summoned',
      toOrg: 'SE2120000415-2002',
      requesterOrg: ward,
      at: '2026-02-01T11:00:00Z',
    },
  },
  {
    name: 'invitationAccepted',
    data: {
      caseId,
      invitationId: inv,
      org: 'SE2120000415-2002',
      kind: 'summoned',
      requesterOrg: ward,
      at: '2026-02-01T12:00:00Z',
    },
  },
  {
    name: 'meetingHeld',
    data: {
      caseId,
      appointmentId: '1a2b3c4d-1111-4222-8333-444455556666',
      at: '2026-02-10T09:00:00Z',
      attendance: [{ org: 'SE2120000415-2002', attended: false }],
    },
  },
  { name: 'caseTransitioned', data: { caseId, from: 'scheduled', to: 'held', at: '2026-02-10T09:05:00Z' } },
  {
    name: 'planClosed',
    data: {
      planId: '7e8f9a0b-2222-4333-8444-555566667777',
      caseId,
      at: '2026-03-01T08:00:00Z',
      reason: 'moved',
      byOrg: ward,
      participantOrgs: [ward],
    },
  },
];

function fold(list: AnyProjected[]) {
  return list.reduce((s, e) => applyEvent(s, e), emptyCase(caseId));
}

describe('instant order', () => {
  // The fold keeps the earliest or latest of two instants; compared as text where both are UTC and written alike.
  const formats: ((ms: number) => string)[] = [
    (ms) => new Date(ms).toISOString(),
    (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    (ms) => new Date(ms).toISOString().replace(/\d{2}Z$/, 'Z'),
    (ms) => new Date(ms).toISOString().replace(/Z$/, '123Z'),
    (ms) => {
      const local = new Date(ms + 3_600_000).toISOString();
      return `${local.slice(0, 23)}+01:00`;
    },
  ];
  const instant = fc
    .tuple(fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) }), fc.nat(formats.length - 1))
    .map(([ms, f]) => (formats[f] as (ms: number) => string)(ms));

  it('agrees with the order of Date.parse for instants in every form the contracts accept', () => {
    fc.assert(
      fc.property(instant, instant, (a, b) => {
        expect(Math.sign(instantOrder(a, b))).toBe(Math.sign(Date.parse(a) - Date.parse(b)));
        expect(Math.sign(instantOrder(a, a))).toBe(0);
      }),
      { numRuns: 5000 },
    );
    // Close instants, where text and time could disagree first: the same second, fractions of different lengths.
    expect(instantOrder('2026-03-02T09:00:00.5Z', '2026-03-02T09:00:00.45Z')).toBeGreaterThan(0);
    expect(instantOrder('2026-03-02T09:00:00Z', '2026-03-02T09:00:00.000Z')).toBe(0);
    expect(instantOrder('2026-03-02T10:00:00+01:00', '2026-03-02T09:00:00Z')).toBe(0);
    expect(instantOrder('2026-03-02T09:00:00.9Z', '2026-03-02T09:00:01.0Z')).toBeLessThan(0);
    expect(Number.isNaN(instantOrder('not a date', '2026-03-02T09:00:00Z'))).toBe(true);
  });
});

describe('the case fold', () => {
  it('reaches the same state and rollup cells in any order and with any event repeated', () => {
    const expected = fold(history);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(history, { minLength: history.length, maxLength: history.length }),
        fc.array(fc.nat(history.length - 1), { maxLength: 6 }),
        (shuffled, repeats) => {
          const list = [...shuffled, ...repeats.map((i) => history[i] as AnyProjected)];
          const state = fold(list);
          expect(contributions(state).sort()).toEqual(contributions(expected).sort());
          expect(state.invitations).toEqual(expected.invitations);
          expect(state.heldAt).toBe('2026-02-10T09:00:00Z');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps the earliest stage time, the latest owner and the plan closure reason', () => {
    const s = fold(history);
    expect(s.identifiedAt).toBe('2026-01-31T23:30:00Z');
    expect(s.heldAt).toBe('2026-02-10T09:00:00Z');
    expect(s.invitations[inv]).toMatchObject({ org: 'SE2120000415-2002', response: 'accepted' });
    expect(s.closedReasonPlan).toBe('moved');
  });

  it('counts nothing for a case whose initiative has not arrived', () => {
    const s = fold(history.slice(1));
    expect(contributions(s)).toEqual([]);
    expect(rollupDelta(s, fold(history)).size).toBeGreaterThan(0);
  });

  it('does not change the state it was given', () => {
    const before = fold(history.slice(0, 2));
    const copy = structuredClone(before);
    applyEvent(before, history[2] as AnyProjected);
    expect(before).toEqual(copy);
  });
});

describe('rollup rows', () => {
  it('count each stage in its column and each reason in a row of its own, and name them back', () => {
    for (const stage of [
      'identified',
      'followed-up',
      'closed',
      'cancelled',
      'closed:goals-met',
      'cancelled:withdrawn',
    ]) {
      const { reason, column } = rollupSlot(stage);
      expect(slotStage(reason, column)).toBe(stage);
    }
    expect(rollupSlot('followed-up')).toEqual({ reason: '', column: 5 });
    expect(rollupSlot('closed:moved')).toEqual({ reason: 'moved', column: 6 });
    expect(rollupSlot('cancelled:moved')).toEqual({ reason: 'moved', column: 7 });
    for (const stage of ['shared', 'held:late', 'closed:', ''])
      expect(() => rollupSlot(stage), stage).toThrow(/not a funnel stage/);
  });

  it('gather the cell changes of a case into the rows they change', () => {
    const delta = new Map([
      ['month|all|closed|2026-03-01|||adult|other', 1],
      ['month|all|closed:moved|2026-03-01|||adult|other', 1],
      ['month|all|held|2026-03-01|||adult|other', -1],
      ['month|all|held|2026-02-01|||adult|other', 1],
    ]);
    expect(rollupRowDelta(delta)).toEqual(
      new Map([
        ['month|all|2026-03-01|||adult|other|', [0, 0, 0, -1, 0, 0, 1, 0]],
        ['month|all|2026-03-01|||adult|other|moved', [0, 0, 0, 0, 0, 0, 1, 0]],
        ['month|all|2026-02-01|||adult|other|', [0, 0, 0, 1, 0, 0, 0, 0]],
      ]),
    );
  });
});

describe('Stockholm calendar and codes', () => {
  it('puts 23:30Z on the last day of January in February, and handles summer time', () => {
    expect(stockholmDate('2026-01-31T23:30:00Z')).toBe('2026-02-01');
    expect(stockholmMonth('2026-01-31T23:30:00Z')).toBe('2026-02-01');
    expect(stockholmDate('2026-06-30T22:30:00Z')).toBe('2026-07-01');
    expect(stockholmDate('2026-06-30T21:30:00Z')).toBe('2026-06-30');
  });

  it('gives an instant the same date written in UTC, with an offset or as a Date, around both clock changes', () => {
    // Stockholm's midnight is 23:00Z in winter and 22:00Z in summer; 2026's changes are on 29 March and 25 October.
    const instants: [string, string][] = [
      ['2026-03-28T22:59:59.999Z', '2026-03-28'],
      ['2026-03-28T23:00:00Z', '2026-03-29'],
      ['2026-03-29T21:59:59Z', '2026-03-29'],
      ['2026-03-29T22:00:00.000Z', '2026-03-30'],
      ['2026-10-24T21:59:59Z', '2026-10-24'],
      ['2026-10-24T22:00:00Z', '2026-10-25'],
      ['2026-10-25T22:59:59Z', '2026-10-25'],
      ['2026-10-25T23:00:00Z', '2026-10-26'],
    ];
    for (const [utc, date] of instants) {
      const ms = Date.parse(utc);
      const local = new Date(ms + 5 * 3_600_000).toISOString().replace('Z', '+05:00');
      expect([stockholmDate(utc), stockholmDate(local), stockholmDate(new Date(ms))]).toEqual([
        date,
        date,
        date,
      ]);
    }
  });

  it('derives the principal from the HSA-id and the region from the municipality code', () => {
    expect(principalOf('SE2321000032-1001')).toBe('SE2321000032');
    expect(regionOf('0180')).toBe('01');
    expect(regionOf('1480')).toBe('14');
  });
});
