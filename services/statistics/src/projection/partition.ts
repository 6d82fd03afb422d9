// One partition per projection table and generation (migration 0003). A rebuild loads its generation into plain
// tables that have no indexes yet, builds each index once over the loaded rows, and attaches the tables; a retired
// generation is detached and dropped instead of deleted row by row.
import type postgres from 'postgres';

/** The tables with one row per case: its columns, and the folded state they are written from. */
export const CASE_TABLES = ['case_fact', 'case_state'] as const;

/** The rows derived from a case besides its own: replaced whole when the case changes. */
export const DERIVED_TABLES = [
  'invitation_fact',
  'deviation_fact',
  'follow_up_fact',
  'rating_fact',
  'stage_fact',
] as const;

/** The per-case tables of a generation: the case's rows first, then the rows derived from them. */
export const FACT_TABLES = [...CASE_TABLES, ...DERIVED_TABLES] as const;

/** The tables the indicators join to the case rows, on (gen, case_id). */
export const JOINED_TABLES = [
  'case_fact',
  'invitation_fact',
  'deviation_fact',
  'follow_up_fact',
  'rating_fact',
] as const;

/**
 * Gathers statistics on the partitioned parents for the columns the indicators join on. PostgreSQL estimates a join
 * through a partitioned table from the parent's own statistics, which autovacuum never gathers; without them it
 * assumed 200 distinct cases and joined a million invitations to their cases by a million index probes (6.8 s,
 * against 1.3 s for the hash join it chose with them). The partitions' own statistics come with their load.
 */
export async function analyzeParents(
  client: postgres.Sql,
  /** One table per statement, all at once on the pool's connections (a rebuild, waiting on them) or in one. */
  options: { parallel?: boolean } = {},
): Promise<void> {
  const targets = JOINED_TABLES.map((t) => `statistics.${t} (gen, case_id)`);
  const analyze = (what: string) =>
    client.begin(async (tx) => {
      await tx.unsafe(`set local default_statistics_target = ${PARENT_STATISTICS_TARGET}`);
      await tx.unsafe(`analyze ${what}`);
    });
  if (options.parallel) await Promise.all(targets.map(analyze));
  else await analyze(targets.join(', '));
}

/**
 * The statistics target (PostgreSQL samples 300 rows per unit) of the parents' analysis. ANALYZE of a partitioned
 * table samples the whole tree and then analyzes every partition again, so at the server's default of 100 it read
 * 30,000 rows three times per table: 120 ms of a 40,000-case rebuild's case rows, 16 ms at 10, with the same estimate
 * of how many rows a case has (what the joins are planned by: a fraction of the rows, not a count).
 */
export const PARENT_STATISTICS_TARGET = 10;

/**
 * The statistics target a rebuild analyzes a new generation's tables with: 7,500 rows sampled instead of the
 * default's 30,000. The funnel and indicators select by codes and day or time ranges, whose estimates need the most
 * common values and a coarse histogram, not a fine one. Measured on 40,000 cases' stage facts (227,304 rows): ANALYZE
 * 125 → 30 ms; a rebuild's whole index phase about a tenth shorter.
 */
export const LOAD_STATISTICS_TARGET = 25;

/** Every per-generation table: the case rows, the rows derived from them, and the rollups. */
export const PROJECTION_TABLES = [...FACT_TABLES, 'funnel_rollup'] as const;
export type ProjectionTable = (typeof PROJECTION_TABLES)[number];

type PgClient = postgres.Sql | postgres.ReservedSql;

function checkedGeneration(gen: number): number {
  if (!Number.isSafeInteger(gen) || gen < 1) throw new Error(`not a generation id: ${gen}`);
  return gen;
}

/** The qualified name of a table's partition for one generation. */
export function partitionOf(table: ProjectionTable, gen: number): string {
  return `statistics.${table}_g${checkedGeneration(gen)}`;
}

/**
 * Creates the generation's tables, not attached and without indexes, for a bulk load. The check on `gen` makes every
 * loaded row prove its generation, and lets the attach skip scanning the table for it.
 */
export async function createLoadTables(
  client: PgClient,
  gen: number,
  tables: readonly ProjectionTable[] = PROJECTION_TABLES,
): Promise<void> {
  for (const table of tables)
    await client.unsafe(
      `create table ${partitionOf(table, gen)} (like statistics.${table} including defaults,
        constraint ${table}_g${gen}_gen check (gen = ${checkedGeneration(gen)}))`,
    );
}

/**
 * The statements that give a loaded table its parent's keys and indexes: `builds`, which may run at the same time on
 * different connections (each takes a lock that lets the others go on), and `keys`, which make the unique indexes
 * built for the keys into the key constraints and must run after them, alone (a brief exclusive lock).
 */
interface TableStatements {
  builds: string[];
  keys: string[];
}

async function indexStatements(
  client: PgClient,
  gen: number,
): Promise<Map<ProjectionTable, TableStatements>> {
  const rows = await client<{ table: ProjectionTable; condef: string | null; indexdef: string }[]>`
    select t.relname as table, pg_get_constraintdef(c.oid) as condef, pg_get_indexdef(i.indexrelid) as indexdef
    from pg_index i join pg_class t on t.oid = i.indrelid join pg_namespace n on n.oid = t.relnamespace
    left join pg_constraint c on c.conindid = i.indexrelid and c.contype in ('p', 'u')
    where n.nspname = 'statistics' and t.relname = any(${[...PROJECTION_TABLES]}::text[])
    order by t.relname, c.contype nulls last, i.indexrelid`;
  const out = new Map<ProjectionTable, TableStatements>(
    PROJECTION_TABLES.map((t) => [t, { builds: [], keys: [] }]),
  );
  for (const { table, condef, indexdef } of rows) {
    const target = partitionOf(table, gen);
    const statements = out.get(table);
    const using = indexdef.indexOf(' USING ');
    if (!statements || using < 0)
      throw new Error(`unexpected index definition on statistics.${table}: ${indexdef}`);
    if (condef) {
      // A key must be a constraint on the partition too, or the attach builds another index for it. Built as a
      // unique index first: ADD PRIMARY KEY would lock the table against the other lanes' index builds throughout.
      const primary = condef.startsWith('PRIMARY KEY');
      const name = `${table}_g${checkedGeneration(gen)}_${primary ? 'pkey' : `key${statements.keys.length}`}`;
      statements.builds.push(`create unique index ${name} on ${target}${indexdef.slice(using)}`);
      statements.keys.push(
        `alter table ${target} add constraint ${name} ${primary ? 'primary key' : 'unique'} using index ${name}`,
      );
    } else statements.builds.push(`create index on ${target}${indexdef.slice(using)}`);
  }
  return out;
}

/** Rows a finished load derives from the loaded ones: `run` writes them into `table` once `ready` has settled. */
export interface Fill {
  table: ProjectionTable;
  ready: Promise<unknown>;
  run: (lane: postgres.ReservedSql) => Promise<void>;
}

/**
 * The columns analyzed where not all of them are worth it: no query filters, joins or groups on a rollup's counts or a
 * case's folded state (1.2 kB of JSON a case), which made up half of those tables' ANALYZE time in a rebuild.
 */
const ANALYZED_COLUMNS: Partial<Record<ProjectionTable, readonly string[]>> = {
  funnel_rollup: ['gen', 'grain', 'scope', 'period', 'key', 'parent', 'age_band', 'trigger', 'reason'],
  case_state: ['gen', 'case_id'],
};

interface Task {
  run: (lane: postgres.ReservedSql) => Promise<void>;
  isReady: () => boolean;
  /** Settles when the task may have become ready. */
  readiness: Promise<unknown>;
}

/**
 * Finishes a loaded generation on every lane at once: runs each fill as soon as it is ready, builds every key and
 * index (largest tables first, a table's only after its fills; a table's indexes on several lanes at once), then per
 * table, once its builds are done, makes its keys constraints and vacuums and analyzes it; then attaches the tables.
 * No lane waits for another's lock: a statement that would conflict with one running is not started. Attaching takes
 * a lock that lets the live service go on reading and writing.
 */
export async function indexAndAttach(
  lanes: readonly postgres.ReservedSql[],
  gen: number,
  options: { fill?: Fill[]; maintenanceWorkMem?: string; statisticsTarget?: number } = {},
): Promise<void> {
  const first = lanes[0];
  if (!first) throw new Error('indexAndAttach needs a connection');
  const memory = options.maintenanceWorkMem ?? '256MB';
  if (!/^\d+\s*(kB|MB|GB)$/.test(memory)) throw new Error(`not a memory size: ${memory}`);
  const target = options.statisticsTarget ?? LOAD_STATISTICS_TARGET;
  if (!Number.isInteger(target) || target < 1 || target > 10_000)
    throw new Error(`not a statistics target: ${target}`);
  const tasks: Task[] = [];
  // Settles (rejected) when a lane fails, so lanes waiting for a task to become ready stop too.
  const failed = deferred();
  const filled = new Map<ProjectionTable, { done: () => boolean; promise: Promise<void> }[]>();
  for (const fill of options.fill ?? []) {
    let ready = false;
    const readiness = fill.ready.then(() => {
      ready = true;
    });
    readiness.catch(() => {});
    const written = deferred();
    filled.set(fill.table, [...(filled.get(fill.table) ?? []), written]);
    tasks.push({
      isReady: () => ready,
      readiness,
      run: async (lane) => {
        await fill.run(lane).then(written.resolve, written.reject);
        await written.promise;
      },
    });
  }
  // Largest first, so the lanes finish close together.
  const order: ProjectionTable[] = [
    'funnel_rollup',
    'stage_fact',
    'case_fact',
    'invitation_fact',
    'case_state',
  ];
  const statements = await indexStatements(first, gen);
  for (const table of [...order, ...PROJECTION_TABLES.filter((t) => !order.includes(t))]) {
    const fills = filled.get(table) ?? [];
    const filledIn = () => fills.every((f) => f.done());
    const fillsDone = Promise.all(fills.map((f) => f.promise));
    // A failed fill fails the lane that ran it; these wait on it too, and must not count as unhandled meanwhile.
    fillsDone.catch(() => {});
    const { builds, keys } = statements.get(table) ?? { builds: [], keys: [] };
    let building = builds.length;
    const built = deferred();
    if (building === 0) built.resolve();
    for (const statement of builds)
      tasks.push({
        isReady: filledIn,
        readiness: fillsDone,
        run: async (lane) => {
          await lane.unsafe(statement);
          if (--building === 0) built.resolve();
        },
      });
    // After the indexes: statistics for the planner (an unanalyzed partition is planned as if nearly empty) and
    // the visibility map, without which the funnel's index-only scans read the table too.
    const columns = ANALYZED_COLUMNS[table];
    const analyzed = `${partitionOf(table, gen)}${columns ? ` (${columns.join(', ')})` : ''}`;
    const finishable = Promise.all([fillsDone, built.promise]);
    finishable.catch(() => {});
    tasks.push({
      isReady: () => filledIn() && built.done(),
      readiness: finishable,
      run: async (lane) => {
        for (const statement of [...keys, `vacuum (analyze) ${analyzed}`]) await lane.unsafe(statement);
      },
    });
  }
  const outcomes = await Promise.allSettled(
    lanes.map(async (lane) => {
      await lane.unsafe(`set maintenance_work_mem = '${memory}'`);
      await lane.unsafe(`set default_statistics_target = ${target}`);
      try {
        while (tasks.length > 0) {
          const next = tasks.findIndex((t) => t.isReady());
          if (next < 0) {
            await Promise.race([failed.promise, ...tasks.map((t) => t.readiness)]);
            continue;
          }
          const [task] = tasks.splice(next, 1);
          await task?.run(lane);
        }
      } catch (err) {
        // The other lanes stop after their current statement; the caller drops the generation.
        tasks.length = 0;
        failed.reject(err);
        throw err;
      } finally {
        await lane.unsafe('reset maintenance_work_mem');
        await lane.unsafe('reset default_statistics_target');
      }
    }),
  );
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
  for (const table of PROJECTION_TABLES)
    await first.unsafe(
      `alter table statistics.${table} attach partition ${partitionOf(table, gen)} for values in (${gen})`,
    );
}

function deferred(): {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
  done: () => boolean;
} {
  let resolve: () => void = () => {};
  let reject: (err: unknown) => void = () => {};
  let settled = false;
  const promise = new Promise<void>((res, rej) => {
    resolve = () => {
      settled = true;
      res();
    };
    reject = rej;
  });
  // A failed fill fails its own lane; the lanes waiting on it see the same error, and nothing goes unhandled.
  promise.catch(() => {});
  return { promise, resolve, reject, done: () => settled };
}

/**
 * Removes a generation's partitions, attached or not. An attached one is detached CONCURRENTLY first, which waits
 * for queries that might still read it but blocks no one, where a plain DROP would lock the whole table.
 */
export async function dropPartitions(client: postgres.Sql, gen: number): Promise<void> {
  for (const table of PROJECTION_TABLES) {
    const name = partitionOf(table, gen);
    const [row] = await client<{ attached: boolean; pending: boolean }[]>`
      select true as attached, i.inhdetachpending as pending from pg_inherits i
      where i.inhrelid = to_regclass(${name})`;
    if (row?.pending)
      await client.unsafe(`alter table statistics.${table} detach partition ${name} finalize`);
    else if (row?.attached)
      await client.unsafe(`alter table statistics.${table} detach partition ${name} concurrently`);
    await client.unsafe(`drop table if exists ${name}`);
  }
}
