// The alert rules and the dashboard only use metrics the services really export, and the metrics behind the
// event alerts move when the thing they watch happens (a dead letter, consumer lag, an HTTP request).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_FACTORIES } from '@samsyn/local/src/samsyn.ts';
import { unwatchBus, watchBus } from '@samsyn/platform';
import { eventually, type Harness, ORGS, sipInitiative, startHarness } from '@samsyn/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateObject } from '../src/schemas.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const rule = parse(readFileSync(join(ROOT, 'infra/observability/alerts.yaml'), 'utf8'));
const dashboard = JSON.parse(
  readFileSync(join(ROOT, 'infra/observability/grafana-dashboard.json'), 'utf8'),
) as {
  panels: { title: string; targets: { expr: string }[] }[];
};
const alerts = (
  rule.spec.groups as { rules: { alert: string; expr: string; annotations: { runbook: string } }[] }[]
).flatMap((g) => g.rules);
/** Metrics the services export themselves (kube_* come from kube-state-metrics and are not ours to check). */
const OURS = /\b((?:samsyn|process|nodejs)_[a-z0-9_]+)/g;

function metricNames(expr: string): string[] {
  return [...expr.matchAll(OURS)].map((m) => m[1] as string);
}

/** Sample names a scrape exposes, histograms and summaries with their series suffixes. */
function exported(scrape: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name as string);
    if (type === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(`${name}${s}`);
    if (type === 'summary') for (const s of ['_count', '_sum']) names.add(`${name}${s}`);
  }
  return names;
}

function sample(scrape: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of scrape.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.split(' ').at(-1));
  }
  return undefined;
}

let h: Harness;
const scrape = async () => (await h.app.request('http://samsyn.test/metrics')).text();

beforeAll(async () => {
  h = await startHarness({ label: 'observe', factories: Object.values(SERVICE_FACTORIES) });
  watchBus(h.bus, 'observe');
});
afterAll(async () => {
  if (h) unwatchBus(h.bus);
  await h?.stop();
});

describe('the alert rules and the dashboard', () => {
  it('are a valid PrometheusRule whose every alert has a runbook section', async () => {
    expect(await validateObject(rule)).toEqual([]);
    const runbook = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    for (const a of alerts) {
      expect(a.annotations.runbook).toBe(`docs/operations.md#${a.alert.toLowerCase()}`);
      expect(runbook, a.alert).toMatch(new RegExp(`^#### ${a.alert}$`, 'm'));
    }
  });

  it('use only metrics the services export', async () => {
    const res = await h.request('/fhir/Task', {
      method: 'POST',
      org: ORGS.regionWard,
      body: JSON.stringify(sipInitiative({ identifier: 'observe-1' })),
    });
    expect(res.status).toBe(201);
    const names = exported(await scrape());
    const used = [
      ...alerts.flatMap((a) => metricNames(a.expr).map((m) => [a.alert, m])),
      ...dashboard.panels.flatMap((p) =>
        p.targets.flatMap((t) => metricNames(t.expr).map((m) => [p.title, m])),
      ),
    ];
    expect(used.length).toBeGreaterThan(15);
    const missing = used.filter(([, m]) => !names.has(m as string)).map(([where, m]) => `${where}: ${m}`);
    expect(missing).toEqual([]);
  });
});

describe('the event metrics', () => {
  it('count HTTP requests by route and report each consumer with its lag', async () => {
    const text = await scrape();
    expect(
      sample(text, 'samsyn_http_request_duration_seconds_count', { route: '/fhir/Task', method: 'POST' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'samsyn_consumer_pending_messages', { stream: 'INVITATION', consumer: 'notification' }),
    ).toBeGreaterThanOrEqual(0);
  });

  it('show a dead letter as soon as a consumer gives up on a message', async () => {
    expect(sample(await scrape(), 'samsyn_dead_letter_messages', { service: 'observe' })).toBe(0);
    // An event without its CloudEvents headers can never be applied: notification dead-letters it.
    await h.bus.publishRaw('sip.case.initiated', new TextEncoder().encode('{}'), {});
    await eventually(
      async () =>
        (sample(await scrape(), 'samsyn_dead_letter_messages', { service: 'observe' }) ?? 0) > 0
          ? true
          : undefined,
      10_000,
      'dead letter counted',
    );
  });
});
