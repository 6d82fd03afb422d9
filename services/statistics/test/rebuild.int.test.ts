// Rebuilding the projections from the JetStream history: same numbers, old ones served until the swap, no event lost.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CE_HEADERS, dataschemaUri, events, toHeaders } from '@samsyn/contracts';
import { type Harness, natsUrl, startHarness } from '@samsyn/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnyProjected, applyEvent, emptyCase } from '../src/projection/case-state.ts';
import { liveGeneration, writeBulk } from '../src/projection/store.ts';
import { parseFilter } from '../src/query/filter.ts';
import { funnel } from '../src/query/funnel.ts';
import type { SafeStatistics } from '../src/query/suppress.ts';
import { headerLookup, rawHeaderBlock } from '../src/rebuild/history.ts';
import { HeapTooSmall, type RebuildProgress, rebuild } from '../src/rebuild/rebuild.ts';
import { createStatisticsService } from '../src/service.ts';
import { buildScenario, HOME_CARE, publish, REGION_WARD, Script } from './support/scenario.ts';
import { projected, waitForApplied, waitForDrained } from './support/wait.ts';

let h: Harness;
const scenario = buildScenario();
const QUERY = 'from=2026-01-01&to=2026-03-31&grain=week';

beforeAll(async () => {
  h = await startHarness({ label: 'statsrebuild', factories: [createStatisticsService] });
  await publish(h.bus, scenario.script.events);
  await waitForApplied(h.database, projected(scenario.script.events));
}, 90_000);
afterAll(async () => h?.stop());

async function stats(query = QUERY): Promise<SafeStatistics> {
  const res = await h.request(`/api/statistics?${query}`, { org: HOME_CARE });
  expect(res.status).toBe(200);
  return (await res.json()) as SafeStatistics;
}

/** The figures without the generation number, which a rebuild changes on purpose. */
function figures(s: SafeStatistics) {
  const { generation: _g, ...rest } = s;
  return rest;
}

function extraCases(n: number): Script {
  const s = new Script();
  for (let i = 0; i < n; i++)
    s.add('caseInitiated', {
      caseId: randomUUID(),
      requesterOrg: REGION_WARD,
      trigger: 'other',
      initiatedAt: `2026-03-0${i + 1}T12:00:00Z`,
      person: { ageBand: 'adult', municipality: '0180' },
      invitations: [{ invitationId: randomUUID(), org: HOME_CARE, kind: 'summoned' }],
    });
  return s;
}

/** A generation's facts, stage facts and non-zero rollup cells, without the generation number. */
async function projection(gen: number) {
  const db = h.database.db;
  const facts = await db.execute(
    sql`select case_id, requester_org, principal, municipality, region, age_band, trigger, discharge_ready_at,
      identified_at, consented_at, invited_at, held_at, established_at, followed_up_at, closed_at, closed_reason,
      cancelled_at, cancelled_reason, shared_at from statistics.case_fact where gen = ${gen} order by case_id`,
  );
  // The states as JSON values: the text keeps the order their keys were first set in, which the fold's order decides.
  const states = (
    (await db.execute(
      sql`select case_id, state from statistics.case_state where gen = ${gen} order by case_id`,
    )) as unknown as { case_id: string; state: string }[]
  ).map((r) => ({ case_id: r.case_id, state: JSON.parse(r.state) }));
  const invitations = await db.execute(
    sql`select invitation_id, case_id, org, principal, kind, created_at, responded_at, response, attended
      from statistics.invitation_fact where gen = ${gen} order by invitation_id`,
  );
  const stages = await db.execute(
    sql`select case_id, stage, day::text, requester_org, principal, municipality, region, age_band, trigger
      from statistics.stage_fact where gen = ${gen} order by case_id, stage`,
  );
  const cells = await db.execute(
    sql`select scope, grain, key, period::text, parent, reason, age_band, trigger, identified, consented, invited,
        held, established, followed_up, closed, cancelled from statistics.funnel_rollup
      where gen = ${gen} and (identified, consented, invited, held, established, followed_up, closed, cancelled)
        <> (0, 0, 0, 0, 0, 0, 0, 0)
      order by scope, grain, key, period, parent, reason, age_band, trigger`,
  );
  return { facts, states, invitations, stages, cells };
}

describe('the rebuild', () => {
  it('reads the envelope headers from the raw header block exactly as nats.js parses them', async () => {
    const consumer = await h.bus.js.consumers.get(h.bus.naming.stream('INVITATION'));
    const batch = await consumer.fetch({ max_messages: 20, expires: 2000 });
    let seen = 0;
    for await (const msg of batch) {
      // The fast path is in use: a nats.js upgrade that moves the raw block shows up here, not as a slow rebuild.
      expect(rawHeaderBlock(msg)).toBeInstanceOf(Uint8Array);
      const lookup = headerLookup(msg);
      for (const name of [...Object.values(CE_HEADERS), 'x-absent'])
        expect(lookup(name), name).toBe(msg.headers?.get(name) || undefined);
      seen += 1;
      if (seen === 20) break;
    }
    expect(seen).toBe(20);
  });

  it('gives the same numbers from the history, serving the old generation until it swaps', async () => {
    const before = await stats();
    const janFeb = figures(await stats('from=2026-01-01&to=2026-02-28&grain=week'));
    const oldGen = await liveGeneration(h.database.db);
    const progress: RebuildProgress[] = [];
    const late = extraCases(6);
    const result = await rebuild({
      db: h.database.db,
      bus: h.bus,
      onProgress: (p) => progress.push(p),
      beforeSwap: async () => {
        // The new generation is written but not live: callers still get the old one.
        expect(await liveGeneration(h.database.db)).toBe(oldGen);
        expect(figures(await stats())).toEqual(figures(before));
        // Events arriving now go to the live generation and must also reach the new one at the swap.
        await publish(h.bus, late.events);
        await waitForDrained(h.bus);
        expect((await stats('from=2026-03-01&to=2026-03-31')).funnel.total.identified).toEqual({
          value: 6,
          suppressed: false,
        });
      },
    });
    expect(result.generation).toBeGreaterThan(oldGen);
    expect(result.retired).toBe(oldGen);
    expect(result.read).toBe(scenario.script.events.length);
    expect(result.applied).toBe(projected(scenario.script.events));
    expect(result.cases).toBe(scenario.cases.length);
    expect(result.caughtUp).toBe(6);
    expect(progress.at(-1)).toMatchObject({ phase: 'done', read: result.read, total: result.read });
    expect(await liveGeneration(h.database.db)).toBe(result.generation);
    const after = await stats();
    expect(after.generation).toBe(result.generation);
    const march = await stats('from=2026-03-01&to=2026-03-31');
    expect(march.funnel.total.identified).toEqual({ value: 6, suppressed: false });
    // Everything before March is exactly what the live projection had.
    expect(figures(await stats('from=2026-01-01&to=2026-02-28&grain=week'))).toEqual(janFeb);
    // Row for row: the bulk-written generation holds the same facts and rollup cells the live consumers built.
    expect(await projection(result.generation)).toEqual(await projection(oldGen));
  });

  it('restores the numbers after the live projection was damaged, and a second rebuild changes nothing', async () => {
    const good = figures(await stats());
    const gen = await liveGeneration(h.database.db);
    await h.database.db.execute(sql`delete from statistics.funnel_rollup where gen = ${gen}`);
    await h.database.db.execute(sql`delete from statistics.invitation_fact where gen = ${gen}`);
    expect(figures(await stats())).not.toEqual(good);
    await rebuild({ db: h.database.db, bus: h.bus });
    expect(figures(await stats())).toEqual(good);
    await rebuild({ db: h.database.db, bus: h.bus });
    expect(figures(await stats())).toEqual(good);
    const generations = (await h.database.db.execute(
      sql`select status, count(*)::int as n from statistics.generation group by status order by status`,
    )) as unknown as { status: string; n: number }[];
    expect(generations.find((g) => g.status === 'live')?.n).toBe(1);
    // Only the generation retired by the last swap still has rows; older ones were freed.
    const withRows = (await h.database.db.execute(
      sql`select count(distinct gen)::int as n from statistics.case_fact`,
    )) as unknown as { n: number }[];
    expect(withRows[0]?.n).toBe(2);
  });

  it('adds bulk-written cases to a generation that has rollups already', async () => {
    const gen = await liveGeneration(h.database.db);
    const filter = parseFilter({ from: '2026-03-01', to: '2026-03-31', grain: 'week' });
    const before = await funnel(h.database.db, gen, filter);
    const extra = extraCases(3).events.map((e) => {
      const state = emptyCase((e.data as { caseId: string }).caseId);
      return applyEvent(state, { name: 'caseInitiated', data: e.data } as AnyProjected);
    });
    await writeBulk(h.database.db, gen, extra);
    const after = await funnel(h.database.db, gen, filter);
    expect(after.source).toBe('rollup-all');
    expect(after.total.identified).toBe((before.total.identified ?? 0) + 3);
    expect(after).toEqual({
      ...(await funnel(h.database.db, gen, filter, { source: 'facts' })),
      source: 'rollup-all',
    });
  });

  it('refuses a history too large for its heap before writing anything, and says how to run it', async () => {
    const live = await liveGeneration(h.database.db);
    const [{ n: generations } = { n: 0 }] = (await h.database.db.execute(
      sql`select count(*)::int as n from statistics.generation`,
    )) as unknown as { n: number }[];
    const error = await rebuild({ db: h.database.db, bus: h.bus, heapLimit: 64 * 1024 * 1024 }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(HeapTooSmall);
    expect((error as Error).message).toMatch(
      /^rebuild: the streams hold \d+ events, which need a heap of about \d+ MB to fold; this process may use 64 MB\. Run it with NODE_OPTIONS=--max-old-space-size=\d+/,
    );
    const [{ n: after } = { n: 0 }] = (await h.database.db.execute(
      sql`select count(*)::int as n from statistics.generation`,
    )) as unknown as { n: number }[];
    expect(after).toBe(generations);
    expect(await liveGeneration(h.database.db)).toBe(live);
  });

  it('as a command, runs itself again with a larger heap when the history needs one, once', async () => {
    const exec = promisify(execFile);
    const cli = fileURLToPath(new URL('../src/rebuild/cli.ts', import.meta.url));
    const env = {
      ...process.env,
      DATABASE_URL: h.database.url,
      NATS_URL: natsUrl(),
      NATS_NAMESPACE: h.namespace,
    };
    // A 200 MB heap is below the 256 MB any rebuild asks for.
    const args = ['--max-old-space-size=200', '--import', 'tsx', cli];
    const { stdout, stderr } = await exec(process.execPath, args, { env, timeout: 60_000 });
    expect(stderr).toMatch(/running again with --max-old-space-size=2\d\d for a history of \d+ events\n/);
    expect(stdout).toMatch(/^Rebuilt statistics generation \d+ from \d+ events/);
    // Restarted already (or no memory to spare): it stops with the advice instead of restarting again.
    const again = await exec(process.execPath, args, {
      env: { ...env, SAMSYN_REBUILD_RESTARTED: '1' },
      timeout: 60_000,
    }).catch((err: unknown) => err as { code: number; stderr: string });
    expect(again).toMatchObject({ code: 1 });
    expect((again as { stderr: string }).stderr).toMatch(
      /rebuild failed: rebuild: the streams hold \d+ events, which need a heap of about \d+ MB to fold/,
    );
  });

  it('runs as a command that shows progress and prints the final count', async () => {
    const exec = promisify(execFile);
    const cli = fileURLToPath(new URL('../src/rebuild/cli.ts', import.meta.url));
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', cli], {
      env: {
        ...process.env,
        DATABASE_URL: h.database.url,
        NATS_URL: natsUrl(),
        NATS_NAMESPACE: h.namespace,
      },
      timeout: 60_000,
    });
    const bars = [...stderr.matchAll(/\[[#-]+\]\s+(\d+)% (\d+)\/(\d+) events, \d+ events\/s/g)];
    const final = bars.at(-1);
    expect(final?.[1]).toBe('100');
    expect(final?.[2]).toBe(final?.[3]);
    expect(stdout).toMatch(
      new RegExp(`^Rebuilt statistics generation \\d+ from ${final?.[2]} events \\(\\d+ applied`),
    );
    expect(stdout).toMatch(/into \d+ cases; 0 caught up at the swap/);
    // The phases after reading, each on its own line.
    expect(stderr).toMatch(/\nwriting \d+\/\d+ cases into the new generation\n/);
    expect(stderr).toMatch(/\nbuilding the indexes of the new generation \(\d+ cases\)\n/);
  });
  it('decodes on its history thread exactly what it decodes in process, skipping the same broken messages', async () => {
    const before = await rebuild({ db: h.database.db, bus: h.bus });
    expect(before.readOn).toBe('thread');
    const rows = await projection(before.generation);
    // Three messages the live consumer dead-letters: not JSON, JSON against the contract, no CloudEvents type.
    const def = events.caseInitiated;
    const caseId = randomUUID();
    const send = (body: string, without?: string) => {
      const { [without ?? '']: _dropped, ...headers } = toHeaders({
        id: randomUUID(),
        type: def.type,
        source: '/samsyn/invitation',
        time: new Date().toISOString(),
        subject: caseId,
        dataschema: dataschemaUri(def),
      });
      return h.bus.publishRaw(def.subject, new TextEncoder().encode(body), headers);
    };
    await send('{"caseId": ');
    await send(JSON.stringify({ caseId, trigger: 'bored' }));
    await send(JSON.stringify({ caseId }), CE_HEADERS.type);
    const onThread = await rebuild({ db: h.database.db, bus: h.bus });
    // A history thread that cannot start: the rebuild reads the history itself instead.
    const inProcess = await rebuild({
      db: h.database.db,
      bus: h.bus,
      historyThread: new URL('./no-such-worker.mjs', import.meta.url),
    });
    expect(onThread.readOn).toBe('thread');
    expect(inProcess.readOn).toBe('main');
    for (const r of [onThread, inProcess]) {
      expect(r.read).toBe(before.read + 3);
      expect(r.skipped).toBe(before.skipped + 3);
      expect(r.applied).toBe(before.applied);
      expect(r.cases).toBe(before.cases);
    }
    expect(await projection(inProcess.generation)).toEqual(await projection(onThread.generation));
    // The broken messages changed nothing.
    expect(await projection(onThread.generation)).toEqual(rows);
  });
});
