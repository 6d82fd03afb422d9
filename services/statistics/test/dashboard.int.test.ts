// The Swedish dashboard in headless Chromium: the funnel and trend charts, the filters, masking and the token.
import { listen, type RunningServer } from '@samsyn/platform';
import { type Harness, startHarness } from '@samsyn/testkit';
import type { Hono } from 'hono';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStatisticsService } from '../src/service.ts';
import { buildScenario, HOME_CARE, publish } from './support/scenario.ts';
import { projected, waitForApplied } from './support/wait.ts';

let h: Harness;
let server: RunningServer;
let browser: Browser;
let page: Page;
const scenario = buildScenario();

beforeAll(async () => {
  h = await startHarness({ label: 'statsdashboard', factories: [createStatisticsService] });
  await publish(h.bus, scenario.script.events);
  await waitForApplied(h.database, projected(scenario.script.events));
  server = await listen(h.app as unknown as Hono, { port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage();
}, 90_000);
afterAll(async () => {
  await browser?.close();
  await server?.close(1000);
  await h?.stop();
});

async function show(filters: Record<string, string>): Promise<void> {
  for (const [name, value] of Object.entries(filters)) {
    const field = page.locator(`[name="${name}"]`);
    if ((await field.evaluate((e) => e.tagName)) === 'SELECT') await field.selectOption(value);
    else await field.fill(value);
  }
  await page.getByRole('button', { name: 'Visa' }).click();
  await page.locator('#status').filter({ hasText: 'Period' }).waitFor();
}

const value = (stage: string) => page.locator(`#funnel-chart [data-value="${stage}"]`).textContent();

describe('the dashboard', () => {
  it('draws the funnel per stage in Swedish, with fewer than 5 shown as <5', async () => {
    await page.goto(`http://127.0.0.1:${server.port}/statistik`);
    expect(await page.locator('html').getAttribute('lang')).toBe('sv');
    await expect(page.getByRole('heading', { name: 'SIP-statistik' }).isVisible()).resolves.toBe(true);
    await show({ token: await h.token(HOME_CARE), from: '2026-01-01', to: '2026-02-28', grain: 'month' });
    expect(await value('identified')).toBe('18');
    expect(await value('held')).toBe('8');
    expect(await value('closed')).toBe('5');
    expect(await value('cancelled')).toBe('<5');
    expect(await page.locator('#funnel-chart').textContent()).toContain('Möte hållet');
  });

  it('draws a trend line per series over the periods', async () => {
    const labels = await page.locator('#trend-chart text').allTextContents();
    expect(labels).toEqual(expect.arrayContaining(['2026-01-01', '2026-02-01', 'Identifierade']));
    const points = await page.locator('#trend-chart [data-series="identified"]').getAttribute('points');
    expect(points?.split(' ')).toHaveLength(2);
  });

  it('lists the indicators with their Swedish names and masks small groups', async () => {
    const row = page.locator('tr[data-indicator="sip-lead-time-initiative-to-meeting"][data-group="median"]');
    expect(await row.locator('td').allTextContents()).toEqual([
      'Ledtid initiativ till möte (dagar)',
      'median',
      '13,5 dagar',
      '8',
    ]);
    const share = page.locator('tr[data-indicator="sip-discharge-summons-within-3-days"] td');
    expect(await share.nth(2).textContent()).toBe('75 %');
  });

  it('filters by municipality and target group', async () => {
    await show({ municipality: '1480' });
    expect(await value('identified')).toBe('6');
    expect(await value('held')).toBe('0');
    await show({ municipality: '', ageBand: 'child' });
    expect(await value('identified')).toBe('<5');
  });

  it('says so when the token is missing or wrong, and shows no numbers', async () => {
    await page.goto(`http://127.0.0.1:${server.port}/statistik`);
    await page.evaluate('sessionStorage.clear()');
    await page.reload();
    await page.locator('[name="token"]').fill('not-a-token');
    await page.getByRole('button', { name: 'Visa' }).click();
    await page.locator('#status.error').waitFor();
    expect(await page.locator('#status').textContent()).toBe('Token saknas eller är ogiltig.');
    expect(await page.locator('#results').isHidden()).toBe(true);
  });
});
