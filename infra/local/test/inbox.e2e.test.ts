// The staff inbox in a real browser (Debian's Chromium through playwright-core, never a downloaded browser): a
// notification caused by an event appears live without a reload and is answered from the page, over HTTP against
// all five services on a listening server.
import { existsSync } from 'node:fs';
import type { Bundle, Communication, Task } from '@samsyn/fhir';
import { listen, type RunningServer } from '@samsyn/platform';
import { eventually, type Harness, ORGS, sipInitiative, startHarness } from '@samsyn/testkit';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_FACTORIES } from '../src/samsyn.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let h: Harness;
let server: RunningServer;
let browser: Browser;
let base = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  h = await startHarness({ label: 'inbox', factories: Object.values(SERVICE_FACTORIES) });
  server = await listen(h.app, { port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${server.port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close(1000);
  await h?.stop();
});

async function signIn(page: Page, org: string): Promise<void> {
  await page.goto(`${base}/inbox`);
  // Not signed in: the inbox sends the browser to the sign-in page.
  expect(new URL(page.url()).pathname).toBe('/inbox/signin');
  await page.getByLabel('Enhet').selectOption(org);
  await page.getByRole('button', { name: 'Logga in som vald enhet' }).click();
  await page.waitForURL(`${base}/inbox`);
  await expect(page.getByRole('heading', { name: 'Inkorg' }).isVisible()).resolves.toBe(true);
}

async function initiate(identifier: string): Promise<Task> {
  const res = await h.request('/fhir/Task', {
    method: 'POST',
    org: ORGS.regionWard,
    body: JSON.stringify(sipInitiative({ identifier })),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Task;
}

async function notificationsOf(org: string, query: string): Promise<Communication[]> {
  const res = await h.request(`/fhir/Communication?${query}`, { org });
  return (((await res.json()) as Bundle).entry ?? []).map((e) => e.resource as Communication);
}

/** Initiates a case inviting home care, signs `page` in as home care, and waits for its notification. */
async function invitedToNewCase(page: Page, identifier: string): Promise<Task> {
  const task = await initiate(identifier);
  await signIn(page, ORGS.municipalityHomeCare);
  await eventually(
    async () =>
      (await notificationsOf(ORGS.municipalityHomeCare, `about=Task/${task.id}`)).length ? true : undefined,
    20_000,
  );
  return task;
}

describe('the staff inbox in Chromium', () => {
  it('shows a new invitation live, without a reload, and announces it to screen readers', async () => {
    const page = await browser.newPage();
    try {
      await signIn(page, ORGS.municipalityHomeCare);
      const marker = await page.evaluate('window.marker = 42');
      const task = await initiate('inbox-live-1');
      const item = page.locator('#notes li', {
        hasText: 'Er enhet är kallad till en samordnad individuell plan',
      });
      await item.first().waitFor({ timeout: 20_000 });
      // Still the same document: it arrived over the live stream, not through a reload.
      expect(await page.evaluate('window.marker')).toBe(marker);
      expect(await page.locator('#live').textContent()).toMatch(
        /^Ny notis: Inbjudan eller kallelse till SIP\./,
      );
      expect(await item.first().getAttribute('class')).toBe('unread');
      expect(task.id).toBeTruthy();
    } finally {
      await page.close();
    }
  }, 90_000);

  it('lets a summoned unit open the case and accept, and the initiator hears of it', async () => {
    const page = await browser.newPage();
    try {
      const task = await invitedToNewCase(page, 'inbox-accept-1');
      await page.goto(`${base}/inbox?case=${task.id}`);
      await page
        .getByRole('link', { name: /Öppna ärendet/ })
        .first()
        .click();
      await expect(page.getByRole('heading', { name: 'Er kallelse till SIP' }).isVisible()).resolves.toBe(
        true,
      );
      await page.getByRole('button', { name: 'Acceptera' }).click();
      await page.waitForURL(/\?ok=accept$/);
      expect(await page.getByRole('status').first().textContent()).toBe('Inbjudan är accepterad.');
      expect(await page.locator('[data-field="invitation-status"]').textContent()).toBe('Accepterad');
      const heard = await eventually(
        async () => {
          const list = await notificationsOf(
            ORGS.regionWard,
            `category=invitation-accepted&about=Task/${task.id}`,
          );
          return list[0];
        },
        20_000,
        'initiator notified',
      );
      expect(heard.payload?.[0]?.contentString).toMatch(/har accepterat kallelsen/);
    } finally {
      await page.close();
    }
  }, 90_000);

  it('lets an invited unit reject with a reason, and shows the API’s refusal in Swedish when a rule is broken', async () => {
    const page = await browser.newPage();
    try {
      const task = await initiate('inbox-reject-1');
      await signIn(page, ORGS.municipalitySocial);
      await eventually(
        async () =>
          (await notificationsOf(ORGS.municipalitySocial, `about=Task/${task.id}`)).length ? true : undefined,
        20_000,
      );
      await page.goto(`${base}/inbox/case/${task.id}`);
      await page.getByLabel('Skäl (obligatoriskt)').fill('Personen har redan stöd från oss via annan insats');
      await page.getByRole('button', { name: 'Avböj' }).click();
      await page.waitForURL(/\?ok=reject$/);
      expect(await page.locator('[data-field="invitation-status"]').textContent()).toBe('Avböjd');
      // Answering again is refused by the invitation service; the page says so instead of failing.
      const res = await page.request.post(`${base}/inbox/case/${task.id}/answer`, {
        form: {
          invitation: (await invitationOf(task.id as string, ORGS.municipalitySocial)).id as string,
          answer: 'accept',
        },
      });
      expect(res.status()).toBe(400);
      expect(await res.text()).toMatch(/Svaret kunde inte sparas: .*already (&#39;|')rejected/);
    } finally {
      await page.close();
    }
  }, 90_000);

  it('lets a wrong recipient forward to another unit of its principal, which then sees it', async () => {
    const page = await browser.newPage();
    try {
      const task = await invitedToNewCase(page, 'inbox-forward-1');
      await page.goto(`${base}/inbox/case/${task.id}`);
      await page.getByLabel('Enhetens HSA-id (samma huvudman)').fill(ORGS.municipalityOtherUnit);
      await page.getByRole('button', { name: 'Vidarebefordra' }).click();
      await page.waitForLoadState('load');
      expect(await page.getByRole('alert').count(), await page.content()).toBe(0);
      await page.waitForURL(/\?ok=forward$/);
      const forwarded = await eventually(
        async () => {
          const list = await notificationsOf(
            ORGS.municipalityOtherUnit,
            `category=invitation-forwarded&about=Task/${task.id}`,
          );
          return list[0];
        },
        20_000,
        'new owner notified',
      );
      expect(forwarded.payload?.[0]?.contentString).toMatch(/vidarebefordrats till er enhet/);
    } finally {
      await page.close();
    }
  }, 90_000);

  it('marks notifications read and done from the list, and is usable with the keyboard', async () => {
    const page = await browser.newPage();
    try {
      await signIn(page, ORGS.municipalityHomeCare);
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement?.textContent')).toBe('Hoppa till innehållet');
      const first = page.locator('#notes li').first();
      const id = await first.getAttribute('data-id');
      await first.getByRole('button', { name: /^Markera som klar/ }).focus();
      await page.keyboard.press('Enter');
      // The form posts and the list reloads; the page is already 'loaded' before that navigation starts, so wait
      // for what the user waits for: the item shown as done.
      const done = page.locator(`#notes li[data-id="${id}"]`);
      await expect.poll(() => done.getAttribute('class'), { timeout: 15_000 }).toBe('done');
      await expect
        .poll(() => done.locator('[data-field="state"]').textContent(), { timeout: 15_000 })
        .toBe('Klar');
      await page.getByLabel('Status').selectOption('done');
      await page.getByRole('button', { name: 'Filtrera' }).click();
      await page.waitForURL(/status=done/);
      expect(await page.locator('#notes li').count()).toBe(1);
      // Every form control has a label.
      const unlabelled = await page.evaluate(
        "[...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter((el) => !el.labels?.length).length",
      );
      expect(unlabelled).toBe(0);
    } finally {
      await page.close();
    }
  }, 90_000);

  it('refuses a sign-in with a token the API does not accept', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${base}/inbox/signin`);
      await page
        .getByLabel('Åtkomsttoken (Bearer JWT)')
        .fill('eyJhbGciOiJub25lIn0.eyJvcmciOiJTRTIxMjAwMDA0MTUtMjAwMSJ9.x');
      await page.getByRole('button', { name: 'Logga in med token' }).click();
      expect(await page.getByRole('alert').textContent()).toMatch(/Inloggningen nekades/);
      await page.goto(`${base}/inbox`);
      expect(new URL(page.url()).pathname).toBe('/inbox/signin');
    } finally {
      await page.close();
    }
  }, 60_000);
});

async function invitationOf(caseId: string, org: string): Promise<Task> {
  const res = await h.request(`/fhir/Task?part-of=Task/${caseId}&owner=${org}`, { org });
  const task = (((await res.json()) as Bundle).entry ?? [])[0]?.resource as Task | undefined;
  if (!task) throw new Error(`no invitation for ${org}`);
  return task;
}
