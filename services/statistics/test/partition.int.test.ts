// One partition per generation: the migration that introduced them keeps the live numbers, a rebuild that fails
// part-way leaves nothing behind, and retired generations are dropped whole.
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Database, migrate, openPostgres } from '@samsyn/db';
import { createTestDatabase, type Harness, startHarness, type TestDatabase } from '@samsyn/testkit';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnyProjected, applyEvent, type CaseState, emptyCase } from '../src/projection/case-state.ts';
import { ParentStatistics } from '../src/projection/parent-statistics.ts';
import {
  analyzeParents,
  createLoadTables,
  dropPartitions,
  indexAndAttach,
  LOAD_STATISTICS_TARGET,
  PARENT_STATISTICS_TARGET,
  PROJECTION_TABLES,
} from '../src/projection/partition.ts';
import { applyLive, clientOf, liveGeneration, loadGeneration, YIELD_EVERY } from '../src/projection/store.ts';
import { parseFilter } from '../src/query/filter.ts';
import { funnel } from '../src/query/funnel.ts';
import { rebuild } from '../src/rebuild/rebuild.ts';
import { createStatisticsService } from '../src/service.ts';
import { buildScenario, HOME_CARE, publish } from './support/scenario.ts';
import { projected, waitForApplied } from './support/wait.ts';

const MIGRATIONS = fileURLToPath(new URL('../src/db/migrations', import.meta.url));
const CASE = '0b0c6c3e-4f7e-4c55-9a55-2f0b7f5d1a01';

let h: Harness;
const scenario = buildScenario();

beforeAll(async () => {
  h = await startHarness({ label: 'statspartition', factories: [createStatisticsService] });
  await publish(h.bus, scenario.script.events);
  await waitForApplied(h.database, projected(scenario.script.events));
}, 90_000);
afterAll(async () => h?.stop());

function databaseUrl(): string {
  if (!h.database.url) throw new Error('the harness database has no URL');
  return h.database.url;
}

/** The tables named like a generation's partitions, and which of them are attached. */
async function partitionsOf(client: postgres.Sql, gen: number) {
  return client<{ name: string; attached: boolean }[]>`
    select c.relname as name, exists (select 1 from pg_inherits i where i.inhrelid = c.oid) as attached
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'statistics' and c.relkind = 'r' and c.relname like ${`%\\_g${gen}`}
    order by c.relname`;
}

/** A case folded from its initiative alone: an adult's, from HOME_CARE, in municipality 0180. */
function initiated(
  caseId: string,
  invitations: { invitationId: string; org: string; kind: 'invited' | 'summoned' }[] = [],
): CaseState {
  return applyEvent(emptyCase(caseId), {
    name: 'caseInitiated',
    data: {
      caseId,
      requesterOrg: HOME_CARE,
      trigger: 'other',
      initiatedAt: '2026-03-02T09:00:00Z',
      person: { ageBand: 'adult', municipality: '0180' },
      invitations,
    },
  } as unknown as AnyProjected);
}

/** Runs `fn` with the load tables of generation `gen` created and two reserved lanes, then frees both lanes. */
async function withLoadTables(
  gen: number,
  fn: (client: postgres.Sql, lanes: postgres.ReservedSql[]) => Promise<void>,
): Promise<void> {
  const client = postgres(databaseUrl(), { max: 3, onnotice: () => {} });
  const lanes = [await client.reserve(), await client.reserve()];
  try {
    await createLoadTables(lanes[0] as postgres.ReservedSql, gen);
    await fn(client, lanes);
  } finally {
    for (const lane of lanes) lane.release();
    await client.end({ timeout: 1 });
  }
}

async function stats(): Promise<unknown> {
  const res = await h.request('/api/statistics?from=2026-01-01&to=2026-03-31&grain=week', { org: HOME_CARE });
  expect(res.status).toBe(200);
  const { generation: _g, ...figures } = (await res.json()) as Record<string, unknown>;
  return figures;
}

/** A copy of the migrations folder as it was before migration `tag` (its journal cut there); removed after all. */
const folders: string[] = [];
function migrationsBefore(tag: string): string {
  const folder = mkdtempSync(join(tmpdir(), 'statistics-migrations-'));
  folders.push(folder);
  cpSync(MIGRATIONS, folder, { recursive: true });
  const journalPath = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  journal.entries = journal.entries.filter((e) => e.tag < tag);
  writeFileSync(journalPath, JSON.stringify(journal));
  return folder;
}
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/**
 * A database migrated up to the migration `tag`, with the live generation 1 and a retired generation 2 whose
 * partition of `table` is not dropped yet: what a migration of the projection finds on a running installation.
 */
async function beforeMigration(
  label: string,
  tag: string,
  table: string,
  fn: (database: Database, client: postgres.Sql) => Promise<void>,
): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  const database = openPostgres({ url: db.url, max: 2 });
  const client = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await migrate(database, { schema: 'statistics', migrationsFolder: migrationsBefore(tag) });
    await client.unsafe(`insert into statistics.generation (id, status) values (2, 'retired')`);
    await client.unsafe(
      `create table statistics.${table}_g2 partition of statistics.${table} for values in (2)`,
    );
    await fn(database, client);
  } finally {
    await client.end({ timeout: 1 });
    await database.close();
  }
  return db;
}

/**
 * A test of migration `tag` on a database migrated up to it, with the live generation 1 and a retired generation 2
 * whose partition of `table` is not dropped yet (see beforeMigration); the database is dropped afterwards.
 */
function migrationTest(
  tag: string,
  title: string,
  behaviour: string,
  table: string,
  fn: (database: Database, client: postgres.Sql) => Promise<void>,
): void {
  describe(`migration ${tag} (${title})`, () => {
    let db: TestDatabase | undefined;
    afterAll(async () => db?.drop());

    it(behaviour, async () => {
      db = await beforeMigration(`statsmigration${Number(tag)}`, tag, table, fn);
    });
  });
}

describe('migration 0003 (partition per generation)', () => {
  let db: TestDatabase;
  afterAll(async () => db?.drop());

  it("keeps the live generation's rows, drops the others' and fails a generation that was being built", async () => {
    db = await createTestDatabase('statsmigration');
    const folder = migrationsBefore('0003');
    const database = openPostgres({ url: db.url, max: 2 });
    try {
      await migrate(database, { schema: 'statistics', migrationsFolder: folder });
      const run = (q: string) => database.db.execute(sql.raw(q));
      await run(`insert into statistics.generation (id, status) values (2, 'retired'), (3, 'building')`);
      for (const gen of [1, 2, 3]) {
        await run(`insert into statistics.case_fact (gen, case_id, requester_org, state)
          values (${gen}, '${CASE}', 'SE2321000032-1001', '{}')`);
        await run(`insert into statistics.funnel_rollup
          values (${gen}, 'month', 'all', 'identified', '2026-01-01', '', '', 'adult', 'other', ${gen * 10})`);
      }

      await migrate(database, { schema: 'statistics', migrationsFolder: MIGRATIONS });

      const rows = (await run(
        'select gen, identified as n from statistics.funnel_rollup order by gen',
      )) as unknown as {
        gen: number;
        n: number;
      }[];
      expect(rows).toEqual([{ gen: 1, n: 10 }]);
      const facts = (await run(
        'select gen, requester_org from statistics.case_fact',
      )) as unknown as unknown[];
      expect(facts).toEqual([{ gen: 1, requester_org: 'SE2321000032-1001' }]);
      const generations = (await run(
        'select id, status, dropped_at is not null as dropped from statistics.generation order by id',
      )) as unknown as unknown[];
      expect(generations).toEqual([
        { id: 1, status: 'live', dropped: false },
        { id: 2, status: 'retired', dropped: true },
        { id: 3, status: 'failed', dropped: true },
      ]);
      // Every table is partitioned with the live generation's partition attached, keys and indexes in place.
      const client = postgres(db.url, { max: 1, onnotice: () => {} });
      try {
        expect((await partitionsOf(client, 1)).map((p) => p.name)).toEqual(
          [...PROJECTION_TABLES].map((t) => `${t}_g1`).sort(),
        );
        expect((await partitionsOf(client, 1)).every((p) => p.attached)).toBe(true);
        const [indexes] = await client<{ parent: number; partition: number }[]>`
          select (select count(*)::int from pg_indexes where schemaname = 'statistics' and tablename = 'case_fact')
            as parent,
          (select count(*)::int from pg_indexes where schemaname = 'statistics' and tablename = 'case_fact_g1')
            as partition`;
        // The key and eight indexes since migration 0007 (thirteen in all before it).
        expect(indexes?.parent).toBe(9);
        expect(indexes?.partition).toBe(9);
        // The live consumers' upsert still finds its key through the parent.
        await client`insert into statistics.funnel_rollup (gen, grain, scope, period, key, parent, age_band, trigger,
            reason, identified)
          values (1, 'month', 'all', '2026-01-01', '', '', 'adult', 'other', '', 1)
          on conflict (gen, scope, grain, key, period, parent, reason, age_band, trigger)
          do update set identified = funnel_rollup.identified + excluded.identified`;
        const [cell] = await client<{ n: number }[]>`select identified as n from statistics.funnel_rollup`;
        expect(cell?.n).toBe(11);
      } finally {
        await client.end({ timeout: 1 });
      }
    } finally {
      await database.close();
    }
  });
});

/** CASE as its `caseInitiated` event folds it: what the migration tests put in the tables before migrating. */
function initiatedState(): CaseState {
  return applyEvent(emptyCase(CASE), {
    name: 'caseInitiated',
    data: {
      caseId: CASE,
      requesterOrg: 'SE2321000032-1001',
      trigger: 'other',
      initiatedAt: '2026-03-02T09:00:00Z',
      person: { ageBand: 'adult', municipality: '0180' },
      invitations: [],
    },
  } as unknown as AnyProjected);
}

/** CASE's consent on 2026-03-03, folded by the live path after a migration. */
async function consentLive(database: Database): Promise<void> {
  await database.db.transaction(async (tx) =>
    applyLive(tx, CASE, {
      name: 'consentGiven',
      data: { caseId: CASE, consentId: randomUUID(), at: '2026-03-03T10:00:00Z' },
    } as unknown as AnyProjected),
  );
}

migrationTest(
  '0004',
  'case state apart',
  "moves every generation's case states into case_state partitions and keeps the live upsert working",
  'case_fact',
  async (database, client) => {
    const state = initiatedState();
    for (const gen of [1, 2])
      await client`insert into statistics.case_fact (gen, case_id, requester_org, identified_at, state)
      values (${gen}, ${CASE}, 'SE2321000032-1001', '2026-03-02T09:00:00Z', ${client.json(state as never)})`;

    await migrate(database, { schema: 'statistics', migrationsFolder: MIGRATIONS });

    // As JSON values: migration 0006 made the state text.
    const states = await client<{ gen: number; state: unknown }[]>`
    select gen, state::jsonb as state from statistics.case_state order by gen`;
    expect(states).toEqual([
      { gen: 1, state },
      { gen: 2, state },
    ]);
    const partitions = await client<{ name: string }[]>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'statistics.case_state'::regclass order by 1`;
    expect(partitions.map((p) => p.name)).toEqual(['case_state_g1', 'case_state_g2']);
    const [column] = await client<{ n: number }[]>`
    select count(*)::int as n from information_schema.columns
    where table_schema = 'statistics' and table_name like 'case_fact%' and column_name = 'state'`;
    expect(column?.n).toBe(0);
    // The next event of the case folds into the moved state: its consent shows in the case row and the state.
    await consentLive(database);
    const [row] = await client<{ consented: Date; identified: Date; state: { consentedAt: string } }[]>`
    select f.consented_at as consented, f.identified_at as identified, s.state::jsonb as state
    from statistics.case_fact f join statistics.case_state s using (gen, case_id) where f.gen = 1`;
    expect(row?.consented.toISOString()).toBe('2026-03-03T10:00:00.000Z');
    expect(row?.identified.toISOString()).toBe('2026-03-02T09:00:00.000Z');
    expect(row?.state.consentedAt).toBe('2026-03-03T10:00:00Z');
    // Dropping the retired generation takes its case_state partition with it.
    await dropPartitions(client, 2);
    expect(await partitionsOf(client, 2)).toEqual([]);
  },
);

migrationTest(
  '0005',
  'rollup rows per reason',
  "gathers every generation's rollup cells into rows of stage counts, one per reason",
  'funnel_rollup',
  async (database, client) => {
    const cells: [number, string, string, string, string, string, string, string, string, number][] = [
      [1, 'month', 'all', 'identified', '2026-01-01', '', '', 'adult', 'other', 10],
      [1, 'month', 'all', 'closed', '2026-01-01', '', '', 'adult', 'other', 3],
      [1, 'month', 'all', 'closed:moved', '2026-01-01', '', '', 'adult', 'other', 2],
      [1, 'month', 'all', 'closed:other', '2026-01-01', '', '', 'adult', 'other', 1],
      [1, 'month', 'all', 'cancelled', '2026-01-01', '', '', 'adult', 'other', 4],
      [1, 'month', 'all', 'cancelled:consent-refused', '2026-01-01', '', '', 'adult', 'other', 4],
      [1, 'day', 'region', 'followed-up', '2026-01-05', '01', '', 'child', 'discharge', 7],
      [2, 'month', 'all', 'identified', '2026-01-01', '', '', 'adult', 'other', 5],
    ];
    for (const cell of cells)
      await client`insert into statistics.funnel_rollup
      (gen, grain, scope, stage, period, key, parent, age_band, trigger, n) values ${client([cell])}`;

    await migrate(database, { schema: 'statistics', migrationsFolder: MIGRATIONS });

    const rows = await client`
    select gen, grain, scope, period::text, key, parent, age_band, trigger, reason, identified, consented, invited,
      held, established, followed_up, closed, cancelled
    from statistics.funnel_rollup order by gen, grain, reason`;
    const row = (gen: number, grain: string, scope: string, period: string, key: string, reason: string) => ({
      gen,
      grain,
      scope,
      period,
      key,
      parent: '',
      age_band: grain === 'day' ? 'child' : 'adult',
      trigger: grain === 'day' ? 'discharge' : 'other',
      reason,
      identified: 0,
      consented: 0,
      invited: 0,
      held: 0,
      established: 0,
      followed_up: 0,
      closed: 0,
      cancelled: 0,
    });
    expect(rows).toEqual([
      { ...row(1, 'day', 'region', '2026-01-05', '01', ''), followed_up: 7 },
      { ...row(1, 'month', 'all', '2026-01-01', '', ''), identified: 10, closed: 3, cancelled: 4 },
      { ...row(1, 'month', 'all', '2026-01-01', '', 'consent-refused'), cancelled: 4 },
      { ...row(1, 'month', 'all', '2026-01-01', '', 'moved'), closed: 2 },
      { ...row(1, 'month', 'all', '2026-01-01', '', 'other'), closed: 1 },
      { ...row(2, 'month', 'all', '2026-01-01', '', ''), identified: 5 },
    ]);
    const partitions = await client<{ name: string }[]>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'statistics.funnel_rollup'::regclass order by 1`;
    expect(partitions.map((p) => p.name)).toEqual(['funnel_rollup_g1', 'funnel_rollup_g2']);
    // The funnel reads the stages back under their names, the reasons included.
    const january = await funnel(
      database.db,
      1,
      parseFilter({ from: '2026-01-01', to: '2026-01-31', grain: 'month' }),
    );
    expect(january.source).toBe('rollup-all');
    expect(january.total).toEqual({
      identified: 10,
      closed: 3,
      'closed:moved': 2,
      'closed:other': 1,
      cancelled: 4,
      'cancelled:consent-refused': 4,
    });
  },
);

migrationTest(
  '0006',
  'state as text, codes in the "C" collation',
  "keeps every generation's states and stage facts, and the live fold and the funnel work on them",
  'case_state',
  async (database, client) => {
    const state = initiatedState();
    for (const gen of [1, 2])
      await client`insert into statistics.case_state (gen, case_id, state)
      values (${gen}, ${CASE}, ${client.json(state as never)})`;
    await client`insert into statistics.case_fact (gen, case_id, requester_org, principal, municipality, region,
      age_band, trigger, identified_at)
    values (1, ${CASE}, 'SE2321000032-1001', 'SE2321000032', '0180', '01', 'adult', 'other', '2026-03-02T09:00:00Z')`;
    await client`insert into statistics.stage_fact (gen, case_id, stage, day, requester_org, principal, municipality,
      region, age_band, trigger)
    values (1, ${CASE}, 'identified', '2026-03-02', 'SE2321000032-1001', 'SE2321000032', '0180', '01', 'adult',
      'other')`;

    await migrate(database, { schema: 'statistics', migrationsFolder: MIGRATIONS });

    // The states are JSON text now, the same values.
    const states = await client<{ gen: number; state: string; type: string }[]>`
    select gen, state, pg_typeof(state)::text as type from statistics.case_state order by gen`;
    expect(states.map((r) => [r.gen, r.type, JSON.parse(r.state)])).toEqual([
      [1, 'text', state],
      [2, 'text', state],
    ]);
    // Every text column of every projection table, parents and partitions, compares bytes.
    const columns = await client<{ table: string; column: string; collation: string }[]>`
    select c.relname as table, a.attname as column, coalesce(co.collname, '') as collation
    from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      left join pg_collation co on co.oid = a.attcollation
    where n.nspname = 'statistics' and c.relkind in ('p', 'r') and a.attnum > 0 and not a.attisdropped
      and a.atttypid = 'text'::regtype and c.relname ~ ${`^(${PROJECTION_TABLES.join('|')})(_g[0-9]+)?$`}
      and not (c.relname like 'case_state%' and a.attname = 'state')`;
    expect(columns.length).toBeGreaterThanOrEqual(2 * 28);
    expect(columns.filter((c) => c.collation !== 'C')).toEqual([]);

    // The next event of the case folds into the migrated state and reaches the case row, stage facts and rollups.
    await consentLive(database);
    const [row] = await client<{ consented: Date; state: string }[]>`
    select f.consented_at as consented, s.state
    from statistics.case_fact f join statistics.case_state s using (gen, case_id) where f.gen = 1`;
    expect(row?.consented.toISOString()).toBe('2026-03-03T10:00:00.000Z');
    expect(JSON.parse(row?.state ?? '{}')).toEqual({ ...state, consentedAt: '2026-03-03T10:00:00Z' });
    // The funnel from the stage facts alone, and from a month of the rollups with the stage facts for the days
    // before it (one query over both; the rollups hold only what the fold added after the migration).
    const stages = await funnel(
      database.db,
      1,
      parseFilter({ from: '2026-03-01', to: '2026-03-31', org: 'SE2321000032-1001', municipality: '0180' }),
    );
    expect(stages.source).toBe('stages');
    expect(stages.total).toEqual({ identified: 1, consented: 1 });
    const mixed = await funnel(
      database.db,
      1,
      parseFilter({ from: '2026-02-15', to: '2026-03-31', org: 'SE2321000032-1001' }),
    );
    expect(mixed.source).toBe('rollup-org+stages');
    expect(mixed.total).toEqual({ consented: 1 });
  },
);

migrationTest(
  '0007',
  'index keys without gen',
  "rebuilds every generation's keys and indexes without gen in front, and the live fold and the funnel work on them",
  'stage_fact',
  async (database, client) => {
    for (const gen of [1, 2])
      await client`insert into statistics.stage_fact (gen, case_id, stage, day, requester_org, principal,
        municipality, region, age_band, trigger)
      values (${gen}, ${CASE}, 'identified', '2026-03-02', 'SE2321000032-1001', 'SE2321000032', '0180', '01',
        'adult', 'other')`;
    await client`insert into statistics.case_state (gen, case_id, state)
    values (1, ${CASE}, ${JSON.stringify(initiatedState())})`;

    await migrate(database, { schema: 'statistics', migrationsFolder: MIGRATIONS });

    // Every projection table, parent and partitions alike: gen leads no index, and ends every key.
    const indexes = await client<{ table: string; definition: string; key: boolean }[]>`
    select t.relname as table, regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', '') as definition,
      i.indisprimary as key
    from pg_index i join pg_class t on t.oid = i.indrelid join pg_namespace n on n.oid = t.relnamespace
    where n.nspname = 'statistics' and t.relname ~ ${`^(${PROJECTION_TABLES.join('|')})(_g[12])?$`}`;
    const of = (table: string) =>
      indexes
        .filter((i) => i.table === table)
        .map((i) => i.definition)
        .sort();
    for (const table of PROJECTION_TABLES) {
      expect(of(table).length, table).toBeGreaterThan(0);
      expect(of(`${table}_g1`), table).toEqual(of(table));
      if (table === 'stage_fact') expect(of(`${table}_g2`), table).toEqual(of(table));
    }
    expect(indexes.filter((i) => i.definition.startsWith('btree (gen'))).toEqual([]);
    expect(indexes.filter((i) => i.key && !i.definition.endsWith(', gen)'))).toEqual([]);
    // The funnel's columns in the leaves, gen among them: a query's `gen = …` is checked on every row it reads.
    expect(of('stage_fact')).toEqual([
      'btree (case_id, stage, gen)',
      'btree (municipality, day) INCLUDE (stage, age_band, trigger, requester_org, principal, gen)',
      'btree (principal, day) INCLUDE (stage, age_band, trigger, municipality, region, gen)',
      'btree (requester_org, day) INCLUDE (stage, age_band, trigger, municipality, region, gen)',
    ]);
    // Each of them answers the funnel's scan of its population alone (the columns piecesQuery reads: gen, the
    // dimensions, the day and the stage), as an index-only scan (planned as one once the table is all-visible).
    await client.unsafe('vacuum analyze statistics.stage_fact_g1');
    await client.begin(async (tx) => {
      await tx`set local enable_seqscan = off`;
      await tx`set local enable_bitmapscan = off`;
      for (const [index, where] of [
        ['requester_org', `requester_org = 'x' and region = '01'`],
        ['principal', `principal = 'x' and region = '01'`],
        ['municipality', `municipality = 'x'`],
      ]) {
        const plan = JSON.stringify(
          await tx.unsafe(`explain (format json) select stage, day, count(*) from statistics.stage_fact
          where gen = 1 and ${where} and age_band = 'adult' and trigger = 'other'
            and day between '2026-03-01' and '2026-03-31' group by stage, day`),
        );
        expect(plan, index).toContain('"Node Type":"Index Only Scan"');
        expect(plan, index).toMatch(new RegExp(`"Index Name":"stage_fact_g1_${index}_day_`));
      }
    });
    // The stage times no indicator selects its period by have no index any more.
    expect(of('case_fact')).toEqual([
      'btree (case_id, gen)',
      'btree (closed_at)',
      'btree (established_at)',
      'btree (held_at)',
      'btree (invited_at)',
      'btree (municipality)',
      'btree (principal)',
      'btree (region)',
      'btree (requester_org)',
    ]);

    // The live fold's upserts find their conflicts through the reordered keys; the funnel reads the stage facts
    // through the new indexes, by organisation and by municipality.
    await client`insert into statistics.case_fact (gen, case_id, requester_org, principal, municipality, region,
      age_band, trigger, identified_at)
    values (1, ${CASE}, 'SE2321000032-1001', 'SE2321000032', '0180', '01', 'adult', 'other', '2026-03-02T09:00:00Z')`;
    await consentLive(database);
    const [row] = await client<{ consented: Date }[]>`
    select consented_at as consented from statistics.case_fact where gen = 1 and case_id = ${CASE}`;
    expect(row?.consented.toISOString()).toBe('2026-03-03T10:00:00.000Z');
    for (const filter of [
      { org: 'SE2321000032-1001', ageBand: 'adult' },
      { municipality: '0180', trigger: 'other' },
      { principal: 'SE2321000032' },
    ]) {
      const stages = await funnel(
        database.db,
        1,
        parseFilter({ from: '2026-03-01', to: '2026-03-31', grain: 'day', ...filter }),
      );
      expect(stages.source, JSON.stringify(filter)).toBe('stages');
      expect(stages.total, JSON.stringify(filter)).toEqual({ identified: 1, consented: 1 });
    }
    const other = await funnel(
      database.db,
      1,
      parseFilter({
        from: '2026-03-01',
        to: '2026-03-31',
        grain: 'day',
        org: 'SE2321000032-1001',
        ageBand: 'child',
      }),
    );
    expect(other.total).toEqual({});
  },
);

describe("the partitioned parents' statistics", () => {
  /** Tables whose parent has statistics on case_id (what the indicators' joins are planned with). */
  async function parentsWithStatistics(client: postgres.Sql): Promise<string[]> {
    const rows = await client<{ table: string }[]>`
      select tablename as table from pg_stats
      where schemaname = 'statistics' and attname = 'case_id' and inherited order by 1`;
    return rows.map((r) => r.table);
  }
  const joined = ['case_fact', 'deviation_fact', 'follow_up_fact', 'invitation_fact', 'rating_fact'];

  it('are gathered by a rebuild and kept by the running service, which autovacuum never does', async () => {
    const client = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
    const forget = () =>
      client.unsafe(`delete from pg_statistic where stainherit and starelid in
        (${joined.map((t) => `'statistics.${t}'::regclass`).join(', ')})`);
    const log = { warn: () => {} };
    try {
      await forget();
      expect(await parentsWithStatistics(client)).toEqual([]);
      await rebuild({ db: h.database.db, bus: h.bus });
      // Only tables with rows get statistics; the scenario has cases, invitations, follow-ups and ratings.
      const afterRebuild = await parentsWithStatistics(client);
      expect(afterRebuild).toEqual(expect.arrayContaining(['case_fact', 'invitation_fact']));
      expect(afterRebuild.every((t) => joined.includes(t))).toBe(true);

      await forget();
      const keeper = new ParentStatistics({ client, log, firstMs: 10, everyMs: 50 });
      keeper.start();
      try {
        // Twice in a row: it goes on after its first run.
        for (let round = 0; round < 2; round++) {
          await forget();
          const deadline = Date.now() + 10_000;
          while ((await parentsWithStatistics(client)).length === 0 && Date.now() < deadline)
            await new Promise((r) => setTimeout(r, 20));
          expect(await parentsWithStatistics(client)).toEqual(afterRebuild);
        }
      } finally {
        await keeper.stop();
      }
      // Stopped: no more runs.
      await forget();
      await new Promise((r) => setTimeout(r, 200));
      expect(await parentsWithStatistics(client)).toEqual([]);
    } finally {
      await client.end({ timeout: 1 });
    }
  });
});

describe('a generation being built', () => {
  it('fails whole when a key cannot be built: nothing attached, the other lane stopped, all of it droppable', async () => {
    const gen = 9_001;
    await withLoadTables(gen, async (client, lanes) => {
      // Two rows for one case: the case table's primary key cannot be built.
      for (let i = 0; i < 2; i++)
        await client.unsafe(
          `insert into statistics.case_fact_g${gen} (gen, case_id) values (${gen}, '${CASE}')`,
        );
      await expect(indexAndAttach(lanes, gen)).rejects.toThrow(/duplicate key|unique/i);
      const tables = await partitionsOf(client, gen);
      expect(tables).toHaveLength(PROJECTION_TABLES.length);
      expect(tables.some((t) => t.attached)).toBe(false);
      // The lanes are usable again and their memory setting is back to the default.
      for (const lane of lanes) {
        const [row] = await lane<
          { setting: string }[]
        >`select current_setting('maintenance_work_mem') as setting`;
        expect(row?.setting).not.toBe('256MB');
      }
      await dropPartitions(client, gen);
      expect(await partitionsOf(client, gen)).toEqual([]);
    });
  });

  it("is analyzed from a smaller sample than the server's default, and so are the parents; the lanes get theirs back", async () => {
    const gen = 9_005;
    await withLoadTables(gen, async (client, lanes) => {
      const [server] = await client<
        { target: string }[]
      >`select current_setting('default_statistics_target') as target`;
      expect(Number(server?.target)).toBeGreaterThan(LOAD_STATISTICS_TARGET);
      // 2,000 cases identified a minute apart: more distinct values than either histogram has room for.
      await client.unsafe(
        `insert into statistics.case_fact_g${gen} (gen, case_id, identified_at)
         select ${gen}, gen_random_uuid(), timestamptz '2026-01-01 08:00Z' + n * interval '1 minute'
         from generate_series(1, 2000) n`,
      );
      try {
        await indexAndAttach(lanes, gen);
        const bounds = async (table: string, column: string, inherited: boolean) => {
          const [row] = await client<{ n: number | null }[]>`
            select array_length(histogram_bounds, 1) as n from pg_stats
            where schemaname = 'statistics' and tablename = ${table} and attname = ${column} and inherited = ${inherited}`;
          return row?.n;
        };
        // A histogram has one bound more than the target's buckets.
        expect(await bounds(`case_fact_g${gen}`, 'identified_at', false)).toBe(LOAD_STATISTICS_TARGET + 1);
        for (const lane of lanes) {
          const [row] = await lane<
            { target: string }[]
          >`select current_setting('default_statistics_target') as target`;
          expect(row?.target).toBe(server?.target);
        }
        await analyzeParents(client);
        expect(await bounds('case_fact', 'case_id', true)).toBe(PARENT_STATISTICS_TARGET + 1);
        // What the joins are planned by: every case id distinct, as a fraction of the rows (not a count of 200).
        const [distinct] = await client<{ n: number }[]>`
          select n_distinct as n from pg_stats where schemaname = 'statistics' and tablename = 'case_fact'
            and attname = 'case_id' and inherited`;
        expect(distinct?.n).toBeLessThan(0);
        const [own] = await client<
          { target: string }[]
        >`select current_setting('default_statistics_target') as target`;
        expect(own?.target).toBe(server?.target);
      } finally {
        await dropPartitions(client, gen);
      }
    });
  });

  it('lets its COPYs and the other lane go on while it formats: the event loop turns every few cases', async () => {
    const gen = 9_006;
    const states = Array.from({ length: 2_500 }, () =>
      initiated(randomUUID(), [{ invitationId: randomUUID(), org: HOME_CARE, kind: 'invited' }]),
    );
    // Cases taken from the load between two turns of the event loop, at most.
    let taken = 0;
    let mostBetweenTurns = 0;
    let ticking = true;
    const tick = () => {
      mostBetweenTurns = Math.max(mostBetweenTurns, taken);
      taken = 0;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const counted = {
      size: states.length,
      *[Symbol.iterator]() {
        for (const s of states) {
          taken += 1;
          yield s;
        }
      },
    };
    try {
      await loadGeneration(h.database.db, gen, counted);
    } finally {
      ticking = false;
    }
    // Batches are 1,000 cases and more: without the turns, a whole batch was formatted in one go. (Within one turn
    // of the loop this ticker may run before or after the load's, so it may see two stretches as one.)
    expect(mostBetweenTurns).toBeGreaterThan(0);
    expect(mostBetweenTurns).toBeLessThanOrEqual(2 * YIELD_EVERY);
    const [row] = (await h.database.db.execute(
      sql.raw(`select count(*)::int as n from statistics.case_state_g${gen}`),
    )) as unknown as { n: number }[];
    expect(row?.n).toBe(states.length);
    await dropPartitions(clientOf(h.database.db), gen);
  });

  it('fails with a clear error when no connection of its own comes free, and gives back the one it got too late', async () => {
    const gen = 9_007;
    const good = initiated(CASE);
    // A pool of one connection, held elsewhere.
    const pool = openPostgres({ url: databaseUrl(), max: 1 });
    try {
      const held = await pool.client.reserve();
      try {
        await expect(loadGeneration(pool.db, gen, [good], {}, { reserveTimeoutMs: 200 })).rejects.toThrow(
          /no database connection of its own for the bulk write within 0.2 s/,
        );
      } finally {
        held.release();
      }
      // The reservation that gave up got the connection once it was free and handed it back: the pool's only
      // connection serves the next load (which would otherwise wait for ever).
      await loadGeneration(pool.db, gen, [good], {}, { reserveTimeoutMs: 10_000 });
      const [row] = (await pool.db.execute(
        sql.raw(`select count(*)::int as n from statistics.case_state_g${gen}`),
      )) as unknown as { n: number }[];
      expect(row?.n).toBe(1);
      await dropPartitions(pool.client, gen);
    } finally {
      await pool.close();
    }
  });

  it('fails whole when the rows it derives cannot be counted, and builds no index that waits for them', async () => {
    const gen = 9_002;
    await withLoadTables(gen, async (client, lanes) => {
      const counting = new Promise<string[]>((_, reject) =>
        setTimeout(() => reject(new Error('rollup counter: out of ids')), 50),
      );
      let ran = false;
      const fill = {
        table: 'funnel_rollup' as const,
        ready: counting,
        run: async () => {
          ran = true;
        },
      };
      await expect(indexAndAttach(lanes, gen, { fill: [fill] })).rejects.toThrow(
        'rollup counter: out of ids',
      );
      expect(ran).toBe(false);
      expect((await partitionsOf(client, gen)).some((t) => t.attached)).toBe(false);
      const [rollupIndexes] = await client<{ n: number }[]>`
        select count(*)::int as n from pg_indexes where schemaname = 'statistics' and tablename = ${`funnel_rollup_g${gen}`}`;
      expect(rollupIndexes?.n).toBe(0);
      await dropPartitions(client, gen);
      expect(await partitionsOf(client, gen)).toEqual([]);
    });
  });

  it('fails whole when writing the rows it derives fails, with that error and nothing attached', async () => {
    const gen = 9_004;
    await withLoadTables(gen, async (client, lanes) => {
      const fill = {
        table: 'funnel_rollup' as const,
        ready: Promise.resolve(),
        run: async () => {
          // While the other lane builds the case tables' indexes.
          await new Promise((r) => setTimeout(r, 20));
          throw new Error('rollup COPY: connection reset');
        },
      };
      await expect(indexAndAttach(lanes, gen, { fill: [fill] })).rejects.toThrow(
        'rollup COPY: connection reset',
      );
      expect((await partitionsOf(client, gen)).some((t) => t.attached)).toBe(false);
      await dropPartitions(client, gen);
      expect(await partitionsOf(client, gen)).toEqual([]);
    });
  });

  it('whose rows cannot be COPYed leaves no table behind and frees its connections', async () => {
    const gen = 9_003;
    const good = initiated(CASE);
    // A case id PostgreSQL cannot read as a uuid fails the COPY into the case rows part-way.
    const bad = { ...good, caseId: 'not-a-uuid' };
    await expect(loadGeneration(h.database.db, gen, [good, bad])).rejects.toThrow(/uuid/);
    const client = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
    try {
      expect(await partitionsOf(client, gen)).toEqual([]);
    } finally {
      await client.end({ timeout: 1 });
    }
    // Both reserved connections went back to the pool, out of their transactions: a normal load works, its rollups
    // counted on the worker thread, and the same load with them counted on this thread has the same cells.
    await loadGeneration(h.database.db, gen, [good]);
    await loadGeneration(h.database.db, gen + 1, [good], {}, { rollupThread: false });
    const [row] = (await h.database.db.execute(
      sql.raw(`select count(*)::int as n from statistics.case_state_g${gen}`),
    )) as unknown as { n: number }[];
    expect(row?.n).toBe(1);
    // The folded state, written apart from the case rows (while the indexes are built), is the one folded.
    const [stored] = (await h.database.db.execute(
      sql.raw(`select case_id, state from statistics.case_state_g${gen}`),
    )) as unknown as { case_id: string; state: string }[];
    expect(stored?.case_id).toBe(CASE);
    expect(JSON.parse(stored?.state ?? 'null')).toEqual(JSON.parse(JSON.stringify(good)));
    const cells = async (g: number) =>
      (await h.database.db.execute(
        sql.raw(`select grain, scope, period::text, key, parent, age_band, trigger, reason, identified, consented,
            invited, held, established, followed_up, closed, cancelled
          from statistics.funnel_rollup_g${g} order by 1, 2, 3, 4, 5, 6, 7, 8`),
      )) as unknown as unknown[];
    const threaded = await cells(gen);
    expect(threaded.length).toBeGreaterThan(0);
    expect(await cells(gen + 1)).toEqual(threaded);
    await dropPartitions(clientOf(h.database.db), gen);
    await dropPartitions(clientOf(h.database.db), gen + 1);
  });

  it('that cannot be loaded is marked failed and removed, and the live numbers stay as they were', async () => {
    const before = await stats();
    const live = await liveGeneration(h.database.db);
    const client = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
    try {
      const [seq] = await client<{ next: number }[]>`
        select (last_value + (case when is_called then 1 else 0 end))::int as next
        from statistics.generation_id_seq`;
      const next = seq?.next ?? 0;
      // Something already holds the name of one of the next generation's tables.
      await client.unsafe(`create table statistics.stage_fact_g${next} (x int)`);
      await expect(rebuild({ db: h.database.db, bus: h.bus })).rejects.toThrow(/already exists/);
      const [status] = await client<{ status: string; dropped: boolean }[]>`
        select status, dropped_at is not null as dropped from statistics.generation where id = ${next}`;
      expect(status).toEqual({ status: 'failed', dropped: true });
      expect(await partitionsOf(client, next)).toEqual([]);
      expect(await liveGeneration(h.database.db)).toBe(live);
      expect(await stats()).toEqual(before);
    } finally {
      await client.end({ timeout: 1 });
    }
  });

  it("gives every table of a rebuilt generation its parent's indexes, its keys as constraints the parent's use", async () => {
    const client = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
    try {
      const { generation } = await rebuild({ db: h.database.db, bus: h.bus });
      for (const table of PROJECTION_TABLES) {
        const partition = `${table}_g${generation}`;
        const count = async (name: string) => {
          const [row] = await client<{ n: number }[]>`
            select count(*)::int as n from pg_indexes where schemaname = 'statistics' and tablename = ${name}`;
          return row?.n;
        };
        expect(await count(partition), partition).toBe(await count(table));
        // The key is a constraint of the partition, and its index is the one the parent's key is made of: the
        // attach built no index of its own, and the live upserts find their conflicts through it.
        const keys = await client<{ conname: string; attachedToParent: boolean }[]>`
          select c.conname, exists (select 1 from pg_inherits i join pg_constraint pc on pc.conindid = i.inhparent
            where i.inhrelid = c.conindid and pc.conrelid = ${`statistics.${table}`}::regclass and pc.contype = 'p')
            as "attachedToParent"
          from pg_constraint c where c.conrelid = ${`statistics.${partition}`}::regclass and c.contype = 'p'`;
        expect(keys, partition).toEqual([{ conname: `${partition}_pkey`, attachedToParent: true }]);
      }
    } finally {
      await client.end({ timeout: 1 });
    }
  });

  it('retires the old generation by dropping its partitions at the next rebuild', async () => {
    const before = await stats();
    const client = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
    try {
      const first = await rebuild({ db: h.database.db, bus: h.bus });
      const retired = first.retired ?? 0;
      // Kept until the next rebuild, for readers that resolved the old generation just before the swap.
      expect(await partitionsOf(client, retired)).toHaveLength(PROJECTION_TABLES.length);
      expect((await partitionsOf(client, first.generation)).every((p) => p.attached)).toBe(true);
      // Swapped in ready to query: analyzed, and every page all-visible for the funnel's index-only scans.
      const tables = await client<{ name: string; analyzed: boolean; visible: boolean }[]>`
        select c.relname as name, s.last_analyze is not null as analyzed, c.relallvisible = c.relpages as visible
        from pg_class c join pg_stat_user_tables s on s.relid = c.oid
        where s.schemaname = 'statistics' and c.relname like ${`%\\_g${first.generation}`}`;
      expect(tables).toHaveLength(PROJECTION_TABLES.length);
      for (const t of tables) expect(t, t.name).toMatchObject({ analyzed: true, visible: true });
      const second = await rebuild({ db: h.database.db, bus: h.bus });
      expect(second.retired).toBe(first.generation);
      expect(await partitionsOf(client, retired)).toEqual([]);
      expect(await partitionsOf(client, first.generation)).toHaveLength(PROJECTION_TABLES.length);
      expect(await stats()).toEqual(before);
    } finally {
      await client.end({ timeout: 1 });
    }
  });
});
