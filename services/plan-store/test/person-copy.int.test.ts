// The person's copy: a printable summary in sv, easy-to-read sv, en, ar, fa, fi and so (right-to-left for ar
// and fa), chosen by the person's preferred language, checked in a real headless Chromium; and the record that
// the copy was shared with the person.
import type { CarePlan, OperationOutcome } from '@samsyn/fhir';
import { type Harness, ORGS, startHarness } from '@samsyn/testkit';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUMMARY_LANGUAGES, TEXTS } from '../src/person-copy/translations.ts';
import { createPlanStoreService } from '../src/service.ts';
import { awaitEvent, consentedCase, createPlan, fhir, json, sipPlan } from './support.ts';

let h: Harness;
let plan: CarePlan;
beforeAll(async () => {
  h = await startHarness({ label: 'plan_copy', factories: [createPlanStoreService] });
  const c = await consentedCase(h);
  plan = await createPlan(h, sipPlan(c.caseId));
});
afterAll(async () => h?.stop());

async function summary(language?: string, org: string = ORGS.regionWard) {
  return h.request(`/fhir/CarePlan/${plan.id}/$summary${language ? `?language=${language}` : ''}`, { org });
}

describe('the plan summary', () => {
  it.each(SUMMARY_LANGUAGES)('renders in %s with its own texts and direction', async (language) => {
    const res = await summary(language);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-language')).toBe(language);
    const html = await res.text();
    const t = TEXTS[language];
    expect(html).toContain(`dir="${language === 'ar' || language === 'fa' ? 'rtl' : 'ltr'}"`);
    for (const text of [
      t.title,
      t.goals,
      t.activities,
      t.yourOwn,
      t.otherActors,
      t.team,
      t.followUp,
      t.statuses.active,
    ]) {
      expect(html).toContain(text.replace(/'/g, '&#39;'));
    }
    // What the participants wrote is shown as written, in the person's own words.
    expect(html).toContain('Jag vill kunna bo kvar hemma och laga min egen mat.');
    expect(html).toContain('Klara att gå till affären själv inom tre månader.');
    expect(html).toContain('Omsorg AB');
  });

  it('has a real translation in every language, not a copy of another', () => {
    const titles = SUMMARY_LANGUAGES.map((l) => TEXTS[l].title);
    expect(new Set(titles).size).toBe(SUMMARY_LANGUAGES.length);
    for (const l of SUMMARY_LANGUAGES) {
      const keys = Object.keys(TEXTS[l]);
      expect(keys).toEqual(Object.keys(TEXTS.sv));
      for (const value of Object.values(TEXTS[l])) expect(value).toBeTruthy();
    }
  });

  it("is written in the person's preferred language when none is asked for", async () => {
    const res = await summary();
    expect(res.headers.get('content-language')).toBe('ar');
    expect(await res.text()).toContain(TEXTS.ar.title);
  });

  it('refuses a language it has no translation for, and hides the plan from units that may not read it', async () => {
    const bad = await json<OperationOutcome>(await summary('de'), 400);
    expect(bad.issue[0]?.diagnostics).toContain('sv, sv-x-easy, en, ar, fa, fi, so');
    expect((await summary('sv', ORGS.outsider)).status).toBe(404);
  });
});

describe('the summary in a real browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  afterAll(async () => browser?.close());

  it.each([
    ['sv', 'ltr'],
    ['ar', 'rtl'],
    ['fa', 'rtl'],
  ] as const)('lays out %s %s and prints to PDF', async (language, direction) => {
    const html = await (await summary(language)).text();
    const page = await browser.newPage();
    try {
      await page.setContent(html);
      // Runs in the page (the test itself is compiled without the DOM library).
      const seen = (await page.evaluate(`(() => {
        const cell = document.querySelector('#activities th');
        const table = document.querySelector('#activities table');
        return {
          dir: getComputedStyle(document.body).direction,
          lang: document.documentElement.lang,
          heading: document.querySelector('h1')?.textContent,
          rows: document.querySelectorAll('#activities tbody tr').length,
          tableStartsRight: Math.abs(cell.getBoundingClientRect().right - table.getBoundingClientRect().right) < 2,
        };
      })()`)) as { dir: string; lang: string; heading: string; rows: number; tableStartsRight: boolean };
      expect(seen.dir).toBe(direction);
      expect(seen.lang).toBe(language);
      expect(seen.heading).toBe(TEXTS[language].title);
      expect(seen.rows).toBe(2);
      // In a right-to-left page the first column starts at the right edge.
      expect(seen.tableStartsRight).toBe(direction === 'rtl');
      const pdf = await page.pdf({ format: 'A4' });
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    } finally {
      await page.close();
    }
  });
});

describe('sharing the plan with the person', () => {
  it('records that the copy was given, when and in which language, and announces it', async () => {
    const before = Date.now();
    const res = await h.request(`/fhir/CarePlan/${plan.id}/$share-with-person`, {
      method: 'POST',
      org: ORGS.municipalityHomeCare,
      body: JSON.stringify({
        resourceType: 'Parameters',
        parameter: [{ name: 'language', valueCode: 'sv-x-easy' }],
      }),
    });
    const params = await fhir<{ parameter: { name: string; valueInstant?: string; valueCode?: string }[] }>(
      res,
      200,
    );
    const sharedAt = params.parameter.find((p) => p.name === 'sharedAt')?.valueInstant as string;
    expect(Date.parse(sharedAt)).toBeGreaterThanOrEqual(before - 1000);
    const event = await awaitEvent(h, 'PLAN', 'sip.plan.shared-with-person', (b) => b.planId === plan.id);
    expect(event.body).toMatchObject({
      version: 1,
      language: 'sv-x-easy',
      byOrg: ORGS.municipalityHomeCare,
      at: sharedAt,
    });
  });

  it('defaults to the preferred language and refuses to share a draft', async () => {
    const res = await h.request(`/fhir/CarePlan/${plan.id}/$share-with-person`, {
      method: 'POST',
      org: ORGS.regionWard,
    });
    const params = await fhir<{ parameter: { name: string; valueCode?: string }[] }>(res, 200);
    expect(params.parameter.find((p) => p.name === 'language')?.valueCode).toBe('ar');
    const c = await consentedCase(h);
    const draft = await createPlan(h, sipPlan(c.caseId, { status: 'draft' }));
    const refused = await h.request(`/fhir/CarePlan/${draft.id}/$share-with-person`, {
      method: 'POST',
      org: ORGS.regionWard,
    });
    expect(refused.status).toBe(409);
  });
});
