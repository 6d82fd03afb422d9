// Rebuilds every projection from the JetStream history into a new generation, while the live one keeps serving;
// then catches up and swaps under a lock the live consumers share, so no event is lost or counted in a retired one.
import { getHeapStatistics } from 'node:v8';
import type { Bus } from '@samsyn/bus';
import type { Db } from '@samsyn/db';
import { sql } from 'drizzle-orm';
import {
  type AnyProjected,
  applyEvent,
  type CaseState,
  emptyCase,
  PROJECTED_STREAMS,
} from '../projection/case-state.ts';
import { analyzeParents, dropPartitions } from '../projection/partition.ts';
import { applyToGeneration, clientOf, loadGeneration, SWAP_LOCK } from '../projection/store.ts';
import { decode, lastSequences, readRange } from './history.ts';
import { type HistoryRange, HistoryThread } from './history-thread.ts';
import { bundledWorker } from './worker-bundle.ts';

export interface RebuildProgress {
  phase: 'reading' | 'writing' | 'indexing' | 'swapping' | 'done';
  /** Messages read from the streams so far, and how many the streams held when the rebuild began. */
  read: number;
  total: number;
  applied: number;
  cases: number;
  written: number;
}

export interface RebuildResult {
  generation: number;
  retired: number | undefined;
  /** Messages read, and how many of them were statistics events applied. */
  read: number;
  applied: number;
  skipped: number;
  cases: number;
  caughtUp: number;
  /** Where the history was decoded: on the history thread, or here because that thread could not start or failed. */
  readOn: 'thread' | 'main';
  readMs: number;
  /** CPU time this process spent reading, decoding and folding (wall time on a shared machine says less). */
  readCpuMs: number;
  /** Time spent writing the new generation, of which `indexMs` building its indexes and attaching it. */
  writeMs: number;
  indexMs: number;
  totalMs: number;
}

const MB = 1024 * 1024;

/**
 * The heap a rebuild of `events` stream messages needs: every case is folded in memory before the write. Measured:
 * 1,450,628 events of 200,000 cases rebuilt in a 650 MB heap (448 bytes an event, the process included), and 40 %
 * slower there than in a roomy one; so 600 bytes an event and 256 MB besides.
 */
export function heapNeededFor(events: number): number {
  return 256 * MB + events * 600;
}

/** The history is larger than this process's heap can fold: thrown before anything is read or written. */
export class HeapTooSmall extends Error {
  constructor(
    readonly events: number,
    readonly needed: number,
    readonly limit: number,
  ) {
    super(
      `rebuild: the streams hold ${events} events, which need a heap of about ${Math.ceil(needed / MB)} MB to fold; this process may use ${Math.floor(limit / MB)} MB. Run it with NODE_OPTIONS=--max-old-space-size=${Math.ceil(needed / MB)} on a machine or container with that much memory to spare`,
    );
    this.name = 'HeapTooSmall';
  }
}

export interface RebuildOptions {
  db: Db;
  bus: Bus;
  onProgress?: (p: RebuildProgress) => void;
  /** Test hook: runs after the bulk write, before the catch-up and swap. */
  beforeSwap?: () => Promise<void>;
  /** The heap this process may use (default V8's limit); a history that needs more fails at once. */
  heapLimit?: number;
  /** Test hook: `false` reads the history on this thread; a URL starts the history thread from that file. */
  historyThread?: false | URL;
}

/** The worker modules, bundled when the rebuild starts (see worker-bundle.ts). */
const HISTORY_WORKER = new URL('./history-worker.ts', import.meta.url);
const ROLLUP_WORKER = new URL('../projection/rollup-worker.ts', import.meta.url);

export async function rebuild(options: RebuildOptions): Promise<RebuildResult> {
  const { bus } = options;
  const started = performance.now();
  // Fail before anything is written rather than minutes later, out of memory, half-way through the history.
  const events = [...(await lastSequences(bus)).values()].reduce((a, b) => a + b, 0);
  const limit = options.heapLimit ?? getHeapStatistics().heap_size_limit;
  if (heapNeededFor(events) > limit) throw new HeapTooSmall(events, heapNeededFor(events), limit);
  // The rollup thread starts later, in the write; its bundle is built now, while nothing waits for it.
  const rollupWorker = bundledWorker(ROLLUP_WORKER);
  // The history thread loads and connects while the generation is prepared.
  const history =
    options.historyThread === false
      ? Promise.resolve(undefined)
      : startHistoryThread(bus, options.historyThread);
  try {
    return await buildGeneration(options, started, history, rollupWorker);
  } finally {
    await (await history)?.close();
  }
}

async function startHistoryThread(bus: Bus, entry?: URL): Promise<HistoryThread | undefined> {
  try {
    const bundle = entry ? undefined : await bundledWorker(HISTORY_WORKER);
    return new HistoryThread(bus, entry ?? bundle);
  } catch {
    return undefined;
  }
}

async function buildGeneration(
  options: RebuildOptions,
  started: number,
  starting: Promise<HistoryThread | undefined>,
  rollupWorker: Promise<URL | undefined>,
): Promise<RebuildResult> {
  const { db, bus, onProgress } = options;
  // The generation retired by the previous swap has served its last reader by now. Its partitions are dropped while
  // the history is read (PostgreSQL has nothing else to do then; first, it was a quarter of a second of 40,000 cases'
  // rebuild), and before anything is written.
  const dropping = dropRetired(db);
  // Awaited before the write, or in the failure path below; until then its failure must not count as unhandled.
  dropping.catch(() => {});
  const [created] = (await db
    .execute(sql`insert into statistics.generation (status) values ('building') returning id`)
    .catch(async (err: unknown) => {
      await dropping.catch(() => {});
      throw err;
    })) as unknown as { id: number }[];
  const gen = created?.id;
  if (gen === undefined) {
    await dropping.catch(() => {});
    throw new Error('could not create a projection generation');
  }
  try {
    const upTo = await lastSequences(bus);
    const total = [...upTo.values()].reduce((a, b) => a + b, 0);
    const states = new Map<string, CaseState>();
    const progress: RebuildProgress = { phase: 'reading', read: 0, total, applied: 0, cases: 0, written: 0 };
    const cpuBefore = process.cpuUsage();
    let skipped = 0;
    const fold = (event: AnyProjected) => {
      const caseId = (event.data as { caseId: string }).caseId;
      let state = states.get(caseId);
      if (!state) {
        state = emptyCase(caseId);
        states.set(caseId, state);
      }
      applyEvent(state, event, { inPlace: true });
      progress.applied += 1;
    };
    const ranges: HistoryRange[] = PROJECTED_STREAMS.map((stream) => ({
      stream,
      after: 0,
      upTo: upTo.get(stream) ?? 0,
    }));
    let readOn: RebuildResult['readOn'] = 'thread';
    const history = await starting;
    try {
      if (!history) throw new Error('history thread off');
      await history.read(ranges, (batch, read, skippedInBatch) => {
        for (const event of batch) fold(event);
        const before = progress.read;
        progress.read += read;
        skipped += skippedInBatch;
        if (Math.floor(progress.read / 5000) > Math.floor(before / 5000))
          onProgress?.({ ...progress, cases: states.size });
      });
    } catch {
      // The thread could not start or failed: read it all again here (what the thread read is thrown away).
      await history?.close();
      readOn = 'main';
      states.clear();
      Object.assign(progress, { read: 0, applied: 0 });
      skipped = 0;
      const decoder = new TextDecoder();
      for (const range of ranges)
        await readRange(bus, range.stream, range.after, range.upTo, (msg) => {
          progress.read += 1;
          const event = decode(msg, decoder);
          if (event) fold(event);
          else skipped += 1;
          if (progress.read % 5000 === 0) onProgress?.({ ...progress, cases: states.size });
        });
    }
    onProgress?.({ ...progress, cases: states.size });
    // Its connection and memory are not needed for the write.
    await history?.close();
    const readMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const readCpuMs = (cpu.user + cpu.system) / 1000;
    await dropping;
    progress.cases = states.size;
    progress.phase = 'writing';
    onProgress?.({ ...progress });
    let indexingAt: number | undefined;
    await loadGeneration(
      db,
      gen,
      { [Symbol.iterator]: () => states.values(), size: states.size },
      {
        written: (written) => {
          progress.written = written;
          onProgress?.({ ...progress });
        },
        indexing: () => {
          indexingAt = performance.now();
          progress.phase = 'indexing';
          onProgress?.({ ...progress });
        },
      },
      { rollupWorker: await rollupWorker },
    );
    // The parents' statistics cover the new partitions before the first query plans against them.
    await analyzeParents(clientOf(db), { parallel: true });
    const writeMs = performance.now() - started - readMs;
    const indexMs = performance.now() - (indexingAt ?? performance.now());
    await options.beforeSwap?.();
    progress.phase = 'swapping';
    onProgress?.({ ...progress });
    let caughtUp = 0;
    const retired = await db.transaction(async (tx) => {
      // Live writers hold this lock shared; from here until commit, nothing is applied anywhere else.
      await tx.execute(sql`select pg_advisory_xact_lock(${SWAP_LOCK})`);
      const now = await lastSequences(bus);
      const decoder = new TextDecoder();
      for (const stream of PROJECTED_STREAMS) {
        const pending: AnyProjected[] = [];
        await readRange(bus, stream, upTo.get(stream) ?? 0, now.get(stream) ?? 0, (msg) => {
          const event = decode(msg, decoder);
          if (event) pending.push(event);
        });
        for (const event of pending) {
          await applyToGeneration(tx, gen, (event.data as { caseId: string }).caseId, event);
          caughtUp += 1;
        }
      }
      const old = (await tx.execute(
        sql`update statistics.generation set status = 'retired' where status = 'live' returning id`,
      )) as unknown as { id: number }[];
      await tx.execute(
        sql`update statistics.generation set status = 'live', swapped_at = now(),
          events_applied = ${progress.applied + caughtUp} where id = ${gen}`,
      );
      return old[0]?.id;
    });
    progress.phase = 'done';
    onProgress?.({ ...progress });
    return {
      generation: gen,
      retired,
      read: progress.read,
      applied: progress.applied,
      skipped,
      cases: states.size,
      caughtUp,
      readOn,
      readMs,
      readCpuMs,
      writeMs,
      indexMs,
      totalMs: performance.now() - started,
    };
  } catch (err) {
    await dropping.catch(() => {});
    await db.execute(sql`update statistics.generation set status = 'failed' where id = ${gen}`);
    await dropGeneration(db, gen);
    throw err;
  }
}

/** Frees the partitions of generations that no longer serve. */
export async function dropRetired(db: Db): Promise<void> {
  const rows = (await db.execute(
    sql`select id from statistics.generation where status in ('retired', 'failed') and dropped_at is null`,
  )) as unknown as { id: number }[];
  for (const { id } of rows) await dropGeneration(db, id);
}

async function dropGeneration(db: Db, gen: number): Promise<void> {
  await dropPartitions(clientOf(db), gen);
  await db.execute(sql`update statistics.generation set dropped_at = now() where id = ${gen}`);
}
