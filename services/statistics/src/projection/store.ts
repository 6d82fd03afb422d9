// Writes case states into a projection generation: one event at a time for the live consumers (row lock, fold,
// write back, adjust the rollups by the difference), or in bulk for a rebuild.
import type { DbOrTx } from '@samsyn/db';
import { type SQL, sql } from 'drizzle-orm';
import {
  type AnyProjected,
  applyEvent,
  type CaseState,
  cancelledReason,
  closedReason,
  contributions,
  emptyCase,
  parseRollupKey,
  rollupDelta,
} from './case-state.ts';

/** Live writers hold this shared; the swap holds it exclusively, so no event lands in a retired generation. */
export const SWAP_LOCK = 730_108;

export async function liveGeneration(tx: DbOrTx): Promise<number> {
  const rows = (await tx.execute(
    sql`select id from statistics.generation where status = 'live' order by id desc limit 1`,
  )) as unknown as { id: number }[];
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('no live statistics generation; migrations seed one');
  return id;
}

/** Applies one event to the live generation inside `tx` (the consumer's inbox transaction). */
export async function applyLive(tx: DbOrTx, caseId: string, event: AnyProjected): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock_shared(${SWAP_LOCK})`);
  const gen = await liveGeneration(tx);
  await applyToGeneration(tx, gen, caseId, event);
}

export async function applyToGeneration(
  tx: DbOrTx,
  gen: number,
  caseId: string,
  event: AnyProjected,
): Promise<void> {
  await tx.execute(
    sql`insert into statistics.case_fact (gen, case_id, state) values (${gen}, ${caseId}, ${JSON.stringify(emptyCase(caseId))}::jsonb) on conflict do nothing`,
  );
  const rows = (await tx.execute(
    sql`select state from statistics.case_fact where gen = ${gen} and case_id = ${caseId} for update`,
  )) as unknown as { state: CaseState }[];
  const before = rows[0]?.state ?? emptyCase(caseId);
  const after = applyEvent(before, event);
  if (JSON.stringify(after) === JSON.stringify(before)) return;
  await writeCase(tx, gen, after);
  const delta = rollupDelta(before, after);
  if (delta.size > 0) await addToRollups(tx, gen, delta);
}

function caseColumns(gen: number, s: CaseState): SQL {
  const d = s.dims;
  return sql`(${gen}, ${s.caseId}, ${d?.requesterOrg ?? null}, ${d?.principal ?? null}, ${d?.municipality ?? null},
    ${d?.region ?? null}, ${d?.ageBand ?? null}, ${d?.trigger ?? null}, ${s.dischargeReadyAt ?? null}::timestamptz,
    ${s.identifiedAt ?? null}::timestamptz, ${s.consentedAt ?? null}::timestamptz, ${s.invitedAt ?? null}::timestamptz,
    ${s.heldAt ?? null}::timestamptz, ${s.establishedAt ?? null}::timestamptz, ${s.followedUpAt ?? null}::timestamptz,
    ${s.closedAt ?? null}::timestamptz, ${closedReason(s) ?? null}, ${s.cancelledAt ?? null}::timestamptz,
    ${cancelledReason(s) ?? null}, ${s.sharedAt ?? null}::timestamptz, ${JSON.stringify(s)}::jsonb)`;
}

const CASE_COLUMNS =
  sql.raw(`(gen, case_id, requester_org, principal, municipality, region, age_band, trigger,
  discharge_ready_at, identified_at, consented_at, invited_at, held_at, established_at, followed_up_at, closed_at,
  closed_reason, cancelled_at, cancelled_reason, shared_at, state)`);

const CASE_UPDATE = sql.raw(`requester_org = excluded.requester_org, principal = excluded.principal,
  municipality = excluded.municipality, region = excluded.region, age_band = excluded.age_band,
  trigger = excluded.trigger, discharge_ready_at = excluded.discharge_ready_at, identified_at = excluded.identified_at,
  consented_at = excluded.consented_at, invited_at = excluded.invited_at, held_at = excluded.held_at,
  established_at = excluded.established_at, followed_up_at = excluded.followed_up_at, closed_at = excluded.closed_at,
  closed_reason = excluded.closed_reason, cancelled_at = excluded.cancelled_at,
  cancelled_reason = excluded.cancelled_reason, shared_at = excluded.shared_at, state = excluded.state`);

/** The child rows of a case, as VALUES tuples per table. */
function childRows(gen: number, s: CaseState) {
  const invitations = Object.entries(s.invitations).map(
    ([id, inv]) =>
      sql`(${gen}, ${id}, ${s.caseId}, ${inv.org}, ${inv.org.split('-')[0] ?? inv.org}, ${inv.kind},
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

async function writeCase(tx: DbOrTx, gen: number, s: CaseState): Promise<void> {
  await tx.execute(
    sql`insert into statistics.case_fact ${CASE_COLUMNS} values ${caseColumns(gen, s)}
      on conflict (gen, case_id) do update set ${CASE_UPDATE}`,
  );
  const children = childRows(gen, s);
  for (const table of ['invitation_fact', 'deviation_fact', 'follow_up_fact', 'rating_fact'])
    await tx.execute(
      sql`delete from ${sql.raw(`statistics.${table}`)} where gen = ${gen} and case_id = ${s.caseId}`,
    );
  for (const name of Object.keys(CHILD_TABLES) as (keyof typeof CHILD_TABLES)[]) {
    const rows = children[name];
    if (rows.length > 0)
      await tx.execute(sql`insert into ${CHILD_TABLES[name]} values ${sql.join(rows, sql`, `)}`);
  }
}

function rollupTuple(gen: number, key: string, n: number): SQL {
  const k = parseRollupKey(key);
  return sql`(${gen}, ${k.grain}, ${k.scope}, ${k.stage}, ${k.period}::date, ${k.key}, ${k.parent}, ${k.ageBand}, ${k.trigger}, ${n})`;
}

const ROLLUP_COLUMNS = sql.raw(
  'statistics.funnel_rollup (gen, grain, scope, stage, period, key, parent, age_band, trigger, n)',
);

async function addToRollups(tx: DbOrTx, gen: number, delta: Map<string, number>): Promise<void> {
  // Sorted, so concurrent writers lock rollup rows in one order and cannot deadlock on them.
  const keys = [...delta.keys()].sort();
  await tx.execute(
    sql`insert into ${ROLLUP_COLUMNS} values ${sql.join(
      keys.map((k) => rollupTuple(gen, k, delta.get(k) ?? 0)),
      sql`, `,
    )} on conflict (gen, grain, scope, stage, period, key, parent, age_band, trigger)
      do update set n = funnel_rollup.n + excluded.n`,
  );
}

/** Writes many folded cases (new to `gen`) in multi-row batches, adding them to the rollups. */
export async function writeBulk(
  db: DbOrTx,
  gen: number,
  states: Iterable<CaseState>,
  onProgress?: (written: number) => void,
): Promise<number> {
  const rollup = new Map<string, number>();
  let batch: CaseState[] = [];
  let written = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await db.execute(
      sql`insert into statistics.case_fact ${CASE_COLUMNS} values ${sql.join(
        batch.map((s) => caseColumns(gen, s)),
        sql`, `,
      )}`,
    );
    const all = {
      invitations: [] as SQL[],
      deviations: [] as SQL[],
      followUps: [] as SQL[],
      ratings: [] as SQL[],
    };
    for (const s of batch) {
      const c = childRows(gen, s);
      all.invitations.push(...c.invitations);
      all.deviations.push(...c.deviations);
      all.followUps.push(...c.followUps);
      all.ratings.push(...c.ratings);
    }
    for (const name of Object.keys(CHILD_TABLES) as (keyof typeof CHILD_TABLES)[]) {
      const rows = all[name];
      for (let i = 0; i < rows.length; i += 4000)
        await db.execute(
          sql`insert into ${CHILD_TABLES[name]} values ${sql.join(rows.slice(i, i + 4000), sql`, `)}`,
        );
    }
    written += batch.length;
    batch = [];
    onProgress?.(written);
  };
  for (const s of states) {
    for (const k of contributions(s)) rollup.set(k, (rollup.get(k) ?? 0) + 1);
    batch.push(s);
    if (batch.length >= 2000) await flush();
  }
  await flush();
  const keys = [...rollup.keys()];
  for (let i = 0; i < keys.length; i += 5000) {
    const slice = keys.slice(i, i + 5000);
    await db.execute(
      sql`insert into ${ROLLUP_COLUMNS} values ${sql.join(
        slice.map((k) => rollupTuple(gen, k, rollup.get(k) ?? 0)),
        sql`, `,
      )} on conflict (gen, grain, scope, stage, period, key, parent, age_band, trigger)
        do update set n = funnel_rollup.n + excluded.n`,
    );
  }
  return written;
}
