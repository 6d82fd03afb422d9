// The citizen kallelse: a printable letter in the person's language, from the booked meeting's event.
import { randomUUID } from 'node:crypto';
import type { Binary, OperationOutcome } from '@samsyn/fhir';
import { assertValidFhir, eventually, type Harness, ORGS, startHarness } from '@samsyn/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LETTERS } from '../src/kallelse/letter.ts';
import { createNotificationService } from '../src/service.ts';
import { initiated, publish, waitFor } from './support.ts';

let h: Harness;
const c = initiated();
const appointmentId = randomUUID();
const protectedAppointment = randomUUID();

beforeAll(async () => {
  h = await startHarness({ label: 'notifykallelse', factories: [createNotificationService] });
  await publish(h, 'caseInitiated', c);
  await publish(h, 'meetingScheduled', {
    caseId: c.caseId,
    appointmentId,
    at: '2026-11-21T09:00:00.000Z',
    start: '2026-11-24T13:00:00.000Z',
    end: '2026-11-24T14:00:00.000Z',
    mode: 'physical',
    orgs: [ORGS.regionWard, ORGS.municipalityHomeCare],
    rescheduled: false,
    location: { place: 'Vårdcentralen Norr, Storgatan 1' },
    language: 'ar',
    orgNames: { [ORGS.regionWard]: 'Medicinavdelning 3', [ORGS.municipalityHomeCare]: 'Hemtjänst Norr' },
  });
  await publish(h, 'meetingScheduled', {
    caseId: c.caseId,
    appointmentId: protectedAppointment,
    at: '2026-11-21T09:00:00.000Z',
    start: '2026-11-25T08:00:00.000Z',
    end: '2026-11-25T09:00:00.000Z',
    mode: 'video',
    orgs: [ORGS.regionWard],
    rescheduled: false,
    location: { url: 'https://video.example.se/m/123' },
    language: 'fi-FI',
    personProtected: true,
  });
  await waitFor(h, ORGS.regionWard, 'kallelse-ready', c.caseId);
  await eventually(
    async () =>
      (
        await h.request(`/fhir/Communication/$kallelse?appointment=${protectedAppointment}`, {
          org: ORGS.regionWard,
        })
      ).status === 200
        ? true
        : undefined,
    20_000,
    'second meeting',
  );
});
afterAll(async () => h?.stop());

async function letter(
  query: string,
  org: string = ORGS.regionWard,
): Promise<{ status: number; body: string }> {
  const res = await h.request(`/fhir/Communication/$kallelse?${query}`, {
    org,
    headers: { accept: 'text/html' },
  });
  return { status: res.status, body: await res.text() };
}

describe('the kallelse', () => {
  it('is written in the person’s preferred language, right-to-left for Arabic, with time, place, units and rights', async () => {
    const { status, body } = await letter(`appointment=${appointmentId}`);
    expect(status).toBe(200);
    expect(body).toMatch(/<html lang="ar" dir="rtl">/);
    const ar = LETTERS.ar as (typeof LETTERS)['sv'];
    expect(body).toContain(ar.title);
    expect(body).toContain('المكان: Vårdcentralen Norr, Storgatan 1');
    expect(body).toContain('<li>Medicinavdelning 3</li>');
    expect(body).toContain('<li>Hemtjänst Norr</li>');
    for (const right of ar.rights) expect(body).toContain(right);
    expect(body).toContain('تواصل مع Medicinavdelning 3.');
    expect(body).toMatch(/@media print \{ \.staff \{ display: none; \}/);
    expect(body).not.toMatch(/Tolvan|191212121212/);
  });

  it('can be printed in each of the seven languages, each a different real text', async () => {
    const titles = new Set<string>();
    for (const [code, t] of Object.entries(LETTERS)) {
      const { status, body } = await letter(`appointment=${appointmentId}&language=${code}`);
      expect(status, code).toBe(200);
      expect(body, code).toContain(t.title);
      expect(body, code).toContain(t.rights[2]);
      expect(body, code).toMatch(new RegExp(`dir="${code === 'ar' || code === 'fa' ? 'rtl' : 'ltr'}"`));
      titles.add(t.title);
    }
    expect(titles.size).toBe(7);
    expect((await letter(`appointment=${appointmentId}&language=sv`)).body).toContain(
      'tisdag 24 november 2026, 14:00–15:00',
    );
    expect((await letter(`appointment=${appointmentId}&language=sv-x-lattlast`)).body).toContain(
      'Mötet är här: Vårdcentralen Norr, Storgatan 1',
    );
  });

  it('for a protected person tells the unit that it, not Samsyn, delivers the letter, and uses the video link', async () => {
    const { body } = await letter(`appointment=${protectedAppointment}`);
    expect(body).toMatch(/<html lang="fi" dir="ltr">/);
    expect(body).toContain('Kokous pidetään videoyhteydellä. Liity tästä: https://video.example.se/m/123');
    expect(body).toContain('Personen har skyddad identitet. Samsyn skickar inte kallelsen');
  });

  it('is a valid FHIR Binary when asked for FHIR JSON', async () => {
    const res = await h.request(`/fhir/Communication/$kallelse?appointment=${appointmentId}&language=en`, {
      org: ORGS.regionWard,
    });
    expect(res.status).toBe(200);
    const binary = (await res.json()) as Binary;
    assertValidFhir(binary);
    expect(binary.contentType).toBe('text/html; charset=utf-8');
    expect(Buffer.from(binary.data ?? '', 'base64').toString('utf8')).toContain('Your rights');
  });

  it('answers an unknown language or parameter with 400, and a unit outside the case or an unknown meeting with 404', async () => {
    let res = await letter(`appointment=${appointmentId}&language=xx`);
    expect(res.status).toBe(400);
    expect((JSON.parse(res.body) as OperationOutcome).issue[0]?.diagnostics ?? '').toMatch(
      /No kallelse in 'xx'/,
    );
    res = await letter(`appointment=${appointmentId}&colour=red`);
    expect(res.status).toBe(400);
    expect((await letter(`appointment=${appointmentId}`, ORGS.outsider)).status).toBe(404);
    expect((await letter(`appointment=${randomUUID()}`)).status).toBe(404);
    expect((await letter('appointment=nope')).status).toBe(404);
  });
});
