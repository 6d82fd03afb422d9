// Writes case states into a projection generation: one event at a time for the live consumers (row lock, fold,
// write back, adjust the rollups by the difference), or in bulk for a rebuild.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Db, type DbOrTx, pipeline as together } from '@samsyn/db';
import { type SQL, sql } from 'drizzle-orm';
import type postgres from 'postgres';
import {
  type AnyProjected,
  applyEvent,
  type CaseState,
  cancelledReason,
  closedReason,
  emptyCase,
  principalOf,
  ROLLUP_COUNTS,
  rollupDelta,
  rollupRowDelta,
  stageDays,
} from './case-state.ts';
import { BufferPool, CopyBuffer, copyValue } from './copy-text.ts';
import {
  CASE_TABLES,
  createLoadTables,
  DERIVED_TABLES,
  FACT_TABLES,
  indexAndAttach,
  type ProjectionTable,
  partitionOf,
} from './partition.ts';
import { RollupCounter } from './rollup-counter.ts';
import { type CaseCells, RollupThread } from './rollup-thread.ts';

/** Live writers hold this shared; the swap holds it exclusively, so no event lands in a retired generation. */
export const SWAP_LOCK = 730_108;

const LIVE_GENERATION = sql`select id from statistics.generation where status = 'live' order by id desc limit 1`;

function generationOf(rows: unknown): number {
  const id = (rows as { id: number }[])[0]?.id;
  if (id === undefined) throw new Error('no live statistics generation; migrations seed one');
  return id;
}

export async function liveGeneration(tx: DbOrTx): Promise<number> {
  return generationOf(await tx.execute(LIVE_GENERATION));
}

/** Applies one event to the live generation inside `tx` (the consumer's inbox transaction). */
export async function applyLive(tx: DbOrTx, caseId: string, event: AnyProjected): Promise<void> {
  // The swap lock and the live generation in one round trip.
  const [, live] = await together([
    () => tx.execute(sql`select pg_advisory_xact_lock_shared(${SWAP_LOCK})`),
    () => tx.execute(LIVE_GENERATION),
  ]);
  await applyToGeneration(tx, generationOf(live), caseId, event);
}

export async function applyToGeneration(
  tx: DbOrTx,
  gen: number,
  caseId: string,
  event: AnyProjected,
): Promise<void> {
  // Make sure the state row exists, then lock and read it: one round trip. The lock orders a case's events.
  const [, locked] = await together([
    () =>
      tx.execute(
        sql`insert into statistics.case_state (gen, case_id, state) values (${gen}, ${caseId}, ${JSON.stringify(emptyCase(caseId))}) on conflict do nothing`,
      ),
    () =>
      tx.execute(
        sql`select state from statistics.case_state where gen = ${gen} and case_id = ${caseId} for update`,
      ),
  ]);
  const stored = (locked as unknown as { state: string }[])[0]?.state;
  const before: CaseState = stored === undefined ? emptyCase(caseId) : JSON.parse(stored);
  const after = applyEvent(before, event);
  if (JSON.stringify(after) === JSON.stringify(before)) return;
  const delta = rollupDelta(before, after);
  // The case's rows and the rollups' difference, written together: one round trip.
  await together([...caseWrites(tx, gen, after), ...(delta.size > 0 ? [rollupWrite(tx, gen, delta)] : [])]);
}

function caseColumns(gen: number, s: CaseState): SQL {
  const d = s.dims;
  return sql`(${gen}, ${s.caseId}, ${d?.requesterOrg ?? null}, ${d?.principal ?? null}, ${d?.municipality ?? null},
    ${d?.region ?? null}, ${d?.ageBand ?? null}, ${d?.trigger ?? null}, ${s.dischargeReadyAt ?? null}::timestamptz,
    ${s.identifiedAt ?? null}::timestamptz, ${s.consentedAt ?? null}::timestamptz, ${s.invitedAt ?? null}::timestamptz,
    ${s.heldAt ?? null}::timestamptz, ${s.establishedAt ?? null}::timestamptz, ${s.followedUpAt ?? null}::timestamptz,
    ${s.closedAt ?? null}::timestamptz, ${closedReason(s) ?? null}, ${s.cancelledAt ?? null}::timestamptz,
    ${cancelledReason(s) ?? null}, ${s.sharedAt ?? null}::timestamptz)`;
}

const CASE_COLUMNS =
  sql.raw(`(gen, case_id, requester_org, principal, municipality, region, age_band, trigger,
  discharge_ready_at, identified_at, consented_at, invited_at, held_at, established_at, followed_up_at, closed_at,
  closed_reason, cancelled_at, cancelled_reason, shared_at)`);

const CASE_UPDATE = sql.raw(`requester_org = excluded.requester_org, principal = excluded.principal,
  municipality = excluded.municipality, region = excluded.region, age_band = excluded.age_band,
  trigger = excluded.trigger, discharge_ready_at = excluded.discharge_ready_at, identified_at = excluded.identified_at,
  consented_at = excluded.consented_at, invited_at = excluded.invited_at, held_at = excluded.held_at,
  established_at = excluded.established_at, followed_up_at = excluded.followed_up_at, closed_at = excluded.closed_at,
  closed_reason = excluded.closed_reason, cancelled_at = excluded.cancelled_at,
  cancelled_reason = excluded.cancelled_reason, shared_at = excluded.shared_at`);

/** The child rows of a case, as VALUES tuples per table. */
function childRows(gen: number, s: CaseState) {
  const invitations = Object.entries(s.invitations).map(
    ([id, inv]) =>
      sql`(${gen}, ${id}, ${s.caseId}, ${inv.org}, ${principalOf(inv.org)}, ${inv.kind},
        ${inv.createdAt}::timestamptz, ${inv.respondedAt ?? null}::timestamptz, ${inv.response ?? null},
        ${s.attendance[inv.org]?.attended ?? null}::boolean)`,
  );
  const deviations = Object.entries(s.deviations).map(
    ([id, d]) => sql`(${gen}, ${id}, ${s.caseId}, ${d.org}, ${d.cause}, ${d.at}::timestamptz)`,
  );
  const followUps = Object.values(s.followUps).map(
    (f) =>
      sql`(${gen}, ${s.caseId}, ${f.planId}, ${f.due}::date, ${f.onTime}::boolean, ${f.at}::timestamptz)`,
  );
  const ratings = Object.entries(s.ratings).map(
    ([id, r]) => sql`(${gen}, ${id}, ${s.caseId}, ${r.rating}, ${r.at}::timestamptz)`,
  );
  return { invitations, deviations, followUps, ratings };
}

const CHILD_TABLES = {
  invitations: sql.raw(
    'statistics.invitation_fact (gen, invitation_id, case_id, org, principal, kind, created_at, responded_at, response, attended)',
  ),
  deviations: sql.raw('statistics.deviation_fact (gen, deviation_id, case_id, org, cause, at)'),
  followUps: sql.raw('statistics.follow_up_fact (gen, case_id, plan_id, due, on_time, at)'),
  ratings: sql.raw('statistics.rating_fact (gen, rating_id, case_id, rating, at)'),
} as const;

/** The statements that write a case's rows (each a thunk, to send together), in the order they must run. */
function caseWrites(tx: DbOrTx, gen: number, s: CaseState): (() => PromiseLike<unknown>)[] {
  const writes: (() => PromiseLike<unknown>)[] = [
    () =>
      tx.execute(
        sql`insert into statistics.case_fact ${CASE_COLUMNS} values ${caseColumns(gen, s)}
          on conflict (gen, case_id) do update set ${CASE_UPDATE}`,
      ),
    () =>
      tx.execute(
        sql`update statistics.case_state set state = ${JSON.stringify(s)} where gen = ${gen} and case_id = ${s.caseId}`,
      ),
  ];
  const children = childRows(gen, s);
  // The rows derived from the case are replaced whole.
  for (const table of DERIVED_TABLES)
    writes.push(() =>
      tx.execute(
        sql`delete from ${sql.raw(`statistics.${table}`)} where gen = ${gen} and case_id = ${s.caseId}`,
      ),
    );
  for (const name of Object.keys(CHILD_TABLES) as (keyof typeof CHILD_TABLES)[]) {
    const rows = children[name];
    if (rows.length > 0)
      writes.push(() => tx.execute(sql`insert into ${CHILD_TABLES[name]} values ${sql.join(rows, sql`, `)}`));
  }
  const stages = stageFactRows(gen, s);
  if (stages.length > 0)
    writes.push(() =>
      tx.execute(
        sql`insert into ${sql.raw(`statistics.stage_fact (${COPY_COLUMNS.stage_fact.join(', ')})`)}
          values ${sql.join(
            stages.map(
              (row) =>
                sql`(${sql.join(
                  row.map((v) => sql`${v}`),
                  sql`, `,
                )})`,
            ),
            sql`, `,
          )}`,
      ),
    );
  return writes;
}

/** The stage-fact rows of a case, in the order of `COPY_COLUMNS.stage_fact`. */
function stageFactRows(gen: number, s: CaseState, stages = stageDays(s)): (string | number)[][] {
  const d = s.dims;
  if (!d) return [];
  return stages.map(([stage, day]) => [
    gen,
    s.caseId,
    stage,
    day,
    d.requesterOrg,
    d.principal,
    d.municipality ?? '',
    d.region ?? '',
    d.ageBand,
    d.trigger,
  ]);
}

function rollupTuple(gen: number, row: string, counts: number[]): SQL {
  const [grain, scope, period, key, parent, ageBand, trigger, reason] = row.split('|');
  return sql`(${gen}, ${grain}, ${scope}, ${period}::date, ${key}, ${parent}, ${ageBand}, ${trigger}, ${reason},
    ${sql.join(
      counts.map((n) => sql`${n}`),
      sql`, `,
    )})`;
}

/** The rollup key columns, in the order of the table's primary key. */
const ROLLUP_KEY = 'gen, scope, grain, key, period, parent, reason, age_band, trigger';

/** `count = funnel_rollup.count + excluded.count` for every count column: an upsert adds to a row. */
const ADD_COUNTS = ROLLUP_COUNTS.map((c) => `${c} = funnel_rollup.${c} + excluded.${c}`).join(', ');

function rollupWrite(tx: DbOrTx, gen: number, delta: Map<string, number>): () => PromiseLike<unknown> {
  const rows = rollupRowDelta(delta);
  // Sorted, so concurrent writers lock rollup rows in one order and cannot deadlock on them.
  const keys = [...rows.keys()].sort();
  return () =>
    tx.execute(
      sql`insert into ${sql.raw(`statistics.funnel_rollup (${COPY_COLUMNS.funnel_rollup.join(', ')})`)} values ${sql.join(
        keys.map((k) => rollupTuple(gen, k, rows.get(k) ?? [])),
        sql`, `,
      )} on conflict (${sql.raw(ROLLUP_KEY)}) do update set ${sql.raw(ADD_COUNTS)}`,
    );
}

type PgClient = postgres.Sql | postgres.ReservedSql;

/** The postgres.js client under a drizzle database: COPY is not reachable through drizzle. */
export function clientOf(db: Db): postgres.Sql {
  const client = (db as unknown as { $client?: postgres.Sql }).$client;
  if (typeof client?.unsafe !== 'function')
    throw new Error('the bulk writer needs PostgreSQL through postgres.js (DATABASE_URL)');
  return client;
}

interface CopyOptions {
  /** Into a table created in the same transaction: the rows are written frozen and their pages all-visible. */
  freeze?: boolean;
}

/** Streams COPY text, cut into chunks of whole or partial lines (an array, or made as they are read), into a table. */
async function copyChunksInto(
  client: PgClient,
  table: string,
  columns: readonly string[],
  chunks: Iterable<string | Uint8Array> | AsyncIterable<Uint8Array>,
  options: CopyOptions = {},
): Promise<void> {
  if (Array.isArray(chunks) && chunks.length === 0) return;
  const freeze = options.freeze ? ' with (freeze)' : '';
  const target = await client.unsafe(`copy ${table} (${columns.join(', ')}) from stdin${freeze}`).writable();
  await pipeline(Readable.from(chunks), target);
}

/**
 * Runs `fn` in one transaction per lane that first creates that lane's load tables, so what `fn` COPYs into them
 * `with (freeze)` is written frozen and all-visible: the vacuum before the swap then has nothing to do, and the first
 * queries after it set no hint bits. A failure rolls every lane back, which also drops the tables it created.
 */
async function inLoadTransactions<T>(
  gen: number,
  lanes: readonly (readonly [postgres.ReservedSql, readonly ProjectionTable[]])[],
  fn: () => Promise<T>,
): Promise<T> {
  const begun = lanes.map(async ([lane, tables]) => {
    await lane.unsafe('begin');
    await createLoadTables(lane, gen, tables);
  });
  try {
    await Promise.all(begun);
    const out = await fn();
    for (const [lane] of lanes) await lane.unsafe('commit');
    return out;
  } catch (err) {
    await Promise.allSettled(begun);
    for (const [lane] of lanes) await lane.unsafe('rollback').catch(() => {});
    throw err;
  }
}

const COPY_COLUMNS = {
  case_fact: [
    'gen',
    'case_id',
    'requester_org',
    'principal',
    'municipality',
    'region',
    'age_band',
    'trigger',
    'discharge_ready_at',
    'identified_at',
    'consented_at',
    'invited_at',
    'held_at',
    'established_at',
    'followed_up_at',
    'closed_at',
    'closed_reason',
    'cancelled_at',
    'cancelled_reason',
    'shared_at',
  ],
  case_state: ['gen', 'case_id', 'state'],
  invitation_fact: [
    'gen',
    'invitation_id',
    'case_id',
    'org',
    'principal',
    'kind',
    'created_at',
    'responded_at',
    'response',
    'attended',
  ],
  deviation_fact: ['gen', 'deviation_id', 'case_id', 'org', 'cause', 'at'],
  follow_up_fact: ['gen', 'case_id', 'plan_id', 'due', 'on_time', 'at'],
  rating_fact: ['gen', 'rating_id', 'case_id', 'rating', 'at'],
  stage_fact: [
    'gen',
    'case_id',
    'stage',
    'day',
    'requester_org',
    'principal',
    'municipality',
    'region',
    'age_band',
    'trigger',
  ],
  funnel_rollup: [
    'gen',
    'grain',
    'scope',
    'period',
    'key',
    'parent',
    'age_band',
    'trigger',
    'reason',
    ...ROLLUP_COUNTS,
  ],
} as const;

/** The COPY lines of one case: the same columns `caseColumns` and `childRows` write one case at a time. */
function caseLines(
  gen: number,
  s: CaseState,
  out: CaseLines,
  stages: [string, string][],
  /** False when the folded states are written apart (a fresh load's state fill). */
  withState = true,
): void {
  const d = s.dims;
  out.case_fact.line([
    gen,
    s.caseId,
    d?.requesterOrg,
    d?.principal,
    d?.municipality,
    d?.region,
    d?.ageBand,
    d?.trigger,
    s.dischargeReadyAt,
    s.identifiedAt,
    s.consentedAt,
    s.invitedAt,
    s.heldAt,
    s.establishedAt,
    s.followedUpAt,
    s.closedAt,
    closedReason(s),
    s.cancelledAt,
    cancelledReason(s),
    s.sharedAt,
  ]);
  if (withState) out.case_state.line([gen, s.caseId, JSON.stringify(s)]);
  for (const [id, inv] of Object.entries(s.invitations))
    out.invitation_fact.line([
      gen,
      id,
      s.caseId,
      inv.org,
      principalOf(inv.org),
      inv.kind,
      inv.createdAt,
      inv.respondedAt,
      inv.response,
      s.attendance[inv.org]?.attended,
    ]);
  for (const [id, dev] of Object.entries(s.deviations))
    out.deviation_fact.line([gen, id, s.caseId, dev.org, dev.cause, dev.at]);
  for (const f of Object.values(s.followUps))
    out.follow_up_fact.line([gen, s.caseId, f.planId, f.due, f.onTime, f.at]);
  for (const [id, r] of Object.entries(s.ratings)) out.rating_fact.line([gen, id, s.caseId, r.rating, r.at]);
  for (const row of stageFactRows(gen, s, stages)) out.stage_fact.line(row);
}

/** The COPY text of a batch of cases, per table. */
type FactTable = (typeof FACT_TABLES)[number];
type CaseLines = Record<FactTable, CopyBuffer>;

function emptyLines(pool: BufferPool): CaseLines {
  return {
    case_fact: new CopyBuffer(pool),
    case_state: new CopyBuffer(pool),
    invitation_fact: new CopyBuffer(pool),
    deviation_fact: new CopyBuffer(pool),
    follow_up_fact: new CopyBuffer(pool),
    rating_fact: new CopyBuffer(pool),
    stage_fact: new CopyBuffer(pool),
  };
}

/**
 * Runs `fn` on one or two connections of their own: postgres.js breaks a COPY that has to wait in the pool's queue.
 * Fails if one does not come free within `reserveTimeoutMs` (default RESERVE_TIMEOUT_MS).
 */
async function withLanes<T>(
  db: Db,
  reserveTimeoutMs: number | undefined,
  fn: (lanes: Lanes) => Promise<T>,
): Promise<T> {
  const client = clientOf(db);
  const timeoutMs = reserveTimeoutMs ?? RESERVE_TIMEOUT_MS;
  const lanes = [await reserveLane(client, timeoutMs)];
  try {
    if ((client.options.max ?? 1) >= 3) lanes.push(await reserveLane(client, timeoutMs));
    return await fn(lanes as Lanes);
  } finally {
    for (const lane of lanes) lane.release();
  }
}

/**
 * How long a bulk write waits for a connection of its own before it fails. Reserving one takes milliseconds; a
 * million-case rebuild once waited here without end, idle, with no connection open (postgres.js lost a waiting
 * reserve when a connection closed, porsager/postgres#1195, now patched): should a wait like it come back, failing
 * says so, and the rebuild marks its generation failed and drops it.
 */
export const RESERVE_TIMEOUT_MS = 60_000;

async function reserveLane(client: postgres.Sql, timeoutMs: number): Promise<postgres.ReservedSql> {
  const reserving = client.reserve();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const max = client.options.max;
      reject(
        new Error(
          `statistics: no database connection of its own for the bulk write within ${timeoutMs / 1000} s (pool of ${max})`,
        ),
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([reserving, timedOut]);
  } catch (err) {
    // Reserved after all, too late: back to the pool.
    reserving.then(
      (lane) => lane.release(),
      () => {},
    );
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

type Lanes = [postgres.ReservedSql, postgres.ReservedSql?];

/**
 * Writes many folded cases (new to `gen`, which is attached and may hold rows) with COPY, batch by batch, and adds
 * them to the rollups: COPYed straight in while the generation has none, else staged and upserted.
 */
export async function writeBulk(
  db: Db,
  gen: number,
  states: Iterable<CaseState>,
  onProgress?: (written: number) => void,
): Promise<number> {
  return withLanes(db, undefined, (lanes) =>
    writeBulkOn(lanes, gen, states, { into: (table) => `statistics.${table}`, fresh: false }, onProgress),
  );
}

/**
 * Loads a whole new generation: creates its tables without indexes, COPYs the cases and their derived rows into
 * them, counts the rollups from the stage facts, then builds the indexes and attaches the tables (see
 * partition.ts). Until `gen` is attached, no query sees any of it.
 */
export async function loadGeneration(
  db: Db,
  gen: number,
  /**
   * Iterated twice, to write the case rows and then the folded states (and once more to count the rollups, should the
   * worker thread fail); its `size`, when given, sizes the COPY batches (see batchSizes).
   */
  states: Iterable<CaseState> & { readonly size?: number },
  progress: { written?: (written: number) => void; indexing?: () => void } = {},
  /**
   * `rollupThread: false` counts the rollups on this thread (the fallback when the worker thread fails);
   * `rollupWorker` is the module the thread starts from (a bundle of rollup-worker.ts; default its boot file);
   * `reserveTimeoutMs`, how long to wait for the connections of its own (default RESERVE_TIMEOUT_MS).
   */
  options: { rollupThread?: boolean; rollupWorker?: URL | undefined; reserveTimeoutMs?: number } = {},
): Promise<number> {
  return withLanes(db, options.reserveTimeoutMs, async (lanes) => {
    // The rollups are counted on a worker thread from what the case rows are formatted from, at the same time;
    // if that thread cannot start or fails, they are counted here afterwards from the states (the same cells).
    const thread = options.rollupThread === false ? undefined : startRollupThread(options.rollupWorker);
    try {
      const written = await inLoadTransactions(gen, freshLanes(lanes), () =>
        writeBulkOn(
          lanes,
          gen,
          states,
          {
            into: (table) => partitionOf(table, gen),
            fresh: true,
            ...(thread ? { onCells: (cells: CaseCells[]) => thread.add(cells) } : {}),
          },
          progress.written,
        ),
      );
      progress.indexing?.();
      const counted = thread ? thread.finish(gen) : Promise.reject(new Error('no rollup thread'));
      const rollupLines = counted.catch(() => countRollups(gen, states));
      await indexAndAttach(
        lanes.filter((lane) => lane !== undefined),
        gen,
        {
          fill: [
            // The folded states (1.2 kB of JSON a case, the largest COPY) are written while the other tables'
            // indexes are built: the cores had this process idle and PostgreSQL busy there, the other way round
            // while the case rows were COPYed.
            {
              table: 'case_state',
              ready: Promise.resolve(),
              run: (lane) =>
                inLoadTransactions(gen, [[lane, ['case_state']]], () => copyStates(lane, gen, states)),
            },
            {
              table: 'funnel_rollup',
              ready: rollupLines,
              run: async (lane) => {
                const chunks = await rollupLines;
                await inLoadTransactions(gen, [[lane, ['funnel_rollup']]], () =>
                  copyChunksInto(
                    lane,
                    partitionOf('funnel_rollup', gen),
                    COPY_COLUMNS.funnel_rollup,
                    chunks,
                    {
                      freeze: true,
                    },
                  ),
                );
              },
            },
          ],
        },
      );
      return written;
    } finally {
      await thread?.close();
    }
  });
}

function startRollupThread(entry: URL | undefined): RollupThread | undefined {
  try {
    return new RollupThread(entry);
  } catch {
    return undefined;
  }
}

/** The rollup lines of many cases, counted in slices so the lanes' index builds are noticed as they finish, and
 * formatted as the COPY reads them. */
async function countRollups(gen: number, states: Iterable<CaseState>): Promise<Iterable<Buffer>> {
  const counter = new RollupCounter();
  let slice = 0;
  for (const s of states) {
    counter.add(s);
    if (++slice % 250 === 0) await turn();
  }
  return counter.copyChunkStream(gen, copyValue);
}

/**
 * Which lane writes which per-case tables: with two, the case rows on one and the rows derived from them on the
 * other, so PostgreSQL works on both cores (a fresh load splits them otherwise, see freshLanes).
 */
function factLanes([first, second]: Lanes): [postgres.ReservedSql, readonly FactTable[]][] {
  return second
    ? [
        [first, CASE_TABLES],
        [second, DERIVED_TABLES],
      ]
    : [[first, FACT_TABLES]];
}

/** A fresh load's lanes for the case rows and the rows derived from them: the folded states are a fill of their own. */
function freshLanes([first, second]: Lanes): [postgres.ReservedSql, readonly FactTable[]][] {
  return second
    ? [
        [first, ['case_fact', 'stage_fact']],
        [second, ['invitation_fact', 'deviation_fact', 'follow_up_fact', 'rating_fact']],
      ]
    : [[first, FACT_TABLES.filter((t) => t !== 'case_state')]];
}

/** COPYs the folded states into a fresh load's case_state table, batch by batch, one COPYed while the next is formatted. */
async function copyStates(
  lane: postgres.ReservedSql,
  gen: number,
  states: Iterable<CaseState>,
): Promise<void> {
  const pool = new BufferPool();
  let lines = new CopyBuffer(pool);
  let batched = 0;
  const sizes = batchSizes(countOf(states));
  let limit = sizes.next().value;
  let copying: Promise<void> = Promise.resolve();
  const flush = async () => {
    await copying;
    const batch = lines;
    lines = new CopyBuffer(pool);
    batched = 0;
    limit = sizes.next().value;
    copying = copyChunksInto(lane, partitionOf('case_state', gen), COPY_COLUMNS.case_state, batch.chunks(), {
      freeze: true,
    }).then(() => batch.release());
    // A failed copy surfaces at the next await of `copying`; until then it must not count as unhandled.
    copying.catch(() => {});
  };
  for (const s of states) {
    lines.line([gen, s.caseId, JSON.stringify(s)]);
    if (++batched >= limit) await flush();
    else if (batched % YIELD_EVERY === 0) await turn();
  }
  await flush();
  await copying;
}

/**
 * Cases formatted between two turns of the event loop. The COPY of the previous batch is written to its socket, and
 * the other lane's next statement sent, only in a turn of the loop: formatting a batch of thousands of cases in one
 * go kept them waiting, so the COPY that was meant to run alongside the formatting ran mostly after it. Measured on
 * 40,000 cases: the writer waited 640-830 ms for COPYs, 20-95 ms with a turn every 100 cases (about 2 ms apart).
 */
export const YIELD_EVERY = 100;

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Cases per COPY batch, batch after batch, for `total` cases (undefined: not known). One batch is COPYed while the next
 * is formatted, so PostgreSQL waits for the first batch and this process for the last: they are kept small. Sizes
 * double from `min` to `max`, and halve towards the end when the total is known. With 10,000 a batch throughout, a
 * rebuild of 40,000 cases had PostgreSQL idle for the first 0.3 s of the write and this process for the last.
 */
export function* batchSizes(
  total: number | undefined,
  min = 1_000,
  max = 10_000,
): Generator<number, never, undefined> {
  let size = min;
  let left = total ?? Number.POSITIVE_INFINITY;
  for (;;) {
    const n = Math.min(size, Math.max(min, Math.ceil(left / 2)));
    yield n;
    left -= n;
    size = Math.min(max, size * 2);
  }
}

/** How many cases an iterable of them holds, when it says (a Map's or Set's `size`, an array's `length`). */
function countOf(states: Iterable<CaseState>): number | undefined {
  const { size, length } = states as { size?: unknown; length?: unknown };
  const n = typeof size === 'number' ? size : length;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

async function writeBulkOn(
  lanes: Lanes,
  gen: number,
  states: Iterable<CaseState>,
  /**
   * `fresh`: into load tables this lane's transaction created (see inLoadTransactions). `onCells`: takes what the
   * rollups are counted from, batch by batch, instead of counting them here.
   */
  target: {
    into: (table: ProjectionTable) => string;
    fresh: boolean;
    onCells?: (cells: CaseCells[]) => void;
  },
  onProgress?: (written: number) => void,
): Promise<number> {
  const rollup = new RollupCounter();
  // The batch being formatted and the one being copied share these buffers: at most two batches' worth.
  const pool = new BufferPool();
  let lines = emptyLines(pool);
  let batched = 0;
  const sizes = batchSizes(countOf(states));
  let limit = sizes.next().value;
  let written = 0;
  // One batch is copied while the next is folded: PostgreSQL and this process work at the same time.
  let copying: Promise<void> = Promise.resolve();
  const flush = async () => {
    await copying;
    const batch = lines;
    const size = batched;
    lines = emptyLines(pool);
    batched = 0;
    limit = sizes.next().value;
    const copy = async (lane: postgres.ReservedSql, tables: readonly FactTable[]) => {
      for (const table of tables) {
        await copyChunksInto(lane, target.into(table), COPY_COLUMNS[table], batch[table].chunks(), {
          freeze: target.fresh,
        });
        // The server has all of it: the next batch may write into the same memory.
        batch[table].release();
      }
    };
    const plan = target.fresh ? freshLanes(lanes) : factLanes(lanes);
    copying = Promise.all(plan.map(([lane, tables]) => copy(lane, tables))).then(() => {
      written += size;
      onProgress?.(written);
    });
    // A failed copy surfaces at the next await of `copying`; until then it must not count as unhandled.
    copying.catch(() => {});
  };
  let cells: CaseCells[] = [];
  for (const s of states) {
    const stages = stageDays(s);
    // A fresh generation's rollups are counted elsewhere (loadGeneration), from what `onCells` is handed.
    if (s.dims) {
      if (target.onCells) cells.push({ dims: s.dims, stages });
      else if (!target.fresh) rollup.addCase(s.dims, stages);
    }
    caseLines(gen, s, lines, stages, !target.fresh);
    batched += 1;
    if (batched >= limit) {
      target.onCells?.(cells);
      cells = [];
      await flush();
    } else if (batched % YIELD_EVERY === 0) await turn();
  }
  target.onCells?.(cells);
  await flush();
  await copying;
  if (target.fresh) return written;
  const [first, second] = lanes;
  const rollupChunks = rollup.copyChunks(gen, copyValue);
  const [existing] =
    await first`select exists (select 1 from statistics.funnel_rollup where gen = ${gen}) as some`;
  if (!existing?.some) {
    // Whole lines per chunk, so the chunks can go half on each lane.
    const half = second ? Math.ceil(rollupChunks.length / 2) : rollupChunks.length;
    await Promise.all([
      copyChunksInto(
        first,
        target.into('funnel_rollup'),
        COPY_COLUMNS.funnel_rollup,
        rollupChunks.slice(0, half),
      ),
      second &&
        copyChunksInto(
          second,
          target.into('funnel_rollup'),
          COPY_COLUMNS.funnel_rollup,
          rollupChunks.slice(half),
        ),
    ]);
    return written;
  }
  // Into rollups that have rows already: stage the cells, then add them in one statement.
  const columns = COPY_COLUMNS.funnel_rollup.join(', ');
  await first.unsafe('begin');
  try {
    await first.unsafe(
      'create temp table rollup_load (like statistics.funnel_rollup including defaults) on commit drop',
    );
    await copyChunksInto(first, 'rollup_load', COPY_COLUMNS.funnel_rollup, rollupChunks);
    await first.unsafe(`insert into statistics.funnel_rollup (${columns}) select ${columns} from rollup_load
      on conflict (${ROLLUP_KEY}) do update set ${ADD_COUNTS}`);
    await first.unsafe('commit');
  } catch (err) {
    await first.unsafe('rollback');
    throw err;
  }
  return written;
}
