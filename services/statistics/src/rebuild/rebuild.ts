// Rebuilds every projection from the JetStream history into a new generation, while the live one keeps serving;
// then catches up and swaps under a lock the live consumers share, so no event is lost or counted in a retired one.
import { getHeapStatistics } from 'node:v8';
import type { Bus } from '@samsyn/bus';
import {
  definitionForType,
  events,
  fromHeaders,
  type HeaderLookup,
  type StreamName,
} from '@samsyn/contracts';
import type { Db } from '@samsyn/db';
import { sql } from 'drizzle-orm';
import { DeliverPolicy, type JsMsg } from 'nats';
import {
  type AnyProjected,
  applyEvent,
  type CaseState,
  emptyCase,
  PROJECTED_EVENTS,
  type ProjectedEvent,
} from '../projection/case-state.ts';
import { PROJECTED_STREAMS } from '../projection/consumers.ts';
import { analyzeParents, dropPartitions } from '../projection/partition.ts';
import { applyToGeneration, clientOf, loadGeneration, SWAP_LOCK } from '../projection/store.ts';

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
  readMs: number;
  /** CPU time this process spent reading, decoding and folding (wall time on a shared machine says less). */
  readCpuMs: number;
  /** Time spent writing the new generation, of which `indexMs` building its indexes and attaching it. */
  writeMs: number;
  indexMs: number;
  totalMs: number;
}

const NAME_OF = new Map<string, ProjectedEvent>(
  PROJECTED_EVENTS.map((name) => [events[name].type, name] as const),
);

type RawMessage = { msg?: { _rdata?: unknown; _msg?: { hdr?: unknown } } };

/**
 * The header block of a message as nats.js received it, or undefined when its internals are not the expected shape.
 * nats.js turns headers into a map on first access, which took more CPU than JSON parsing and validation together;
 * the rebuild reads a few headers of every message in the history, so it scans the block itself.
 */
export function rawHeaderBlock(msg: JsMsg): Uint8Array | null | undefined {
  const inner = (msg as unknown as RawMessage).msg;
  const data = inner?._rdata;
  const hdr = inner?._msg?.hdr;
  if (!(data instanceof Uint8Array) || typeof hdr !== 'number') return undefined;
  return hdr > -1 ? data.subarray(0, hdr) : null;
}

/** Looks up headers the way `msg.headers.get` does (exact name, first value), from one pass over the block. */
export function headerLookup(msg: JsMsg, decoder = new TextDecoder()): HeaderLookup {
  const block = rawHeaderBlock(msg);
  if (block === undefined) return (name) => msg.headers?.get(name) || undefined;
  const values = new Map<string, string>();
  if (block) {
    const text = decoder.decode(block);
    // The first line is the status line (NATS/1.0), then `name: value` lines.
    let end = text.indexOf('\r\n');
    while (end >= 0) {
      const start = end + 2;
      end = text.indexOf('\r\n', start);
      const line = end < 0 ? text.slice(start) : text.slice(start, end);
      const colon = line.indexOf(':');
      if (colon > 0) {
        const name = line.slice(0, colon);
        if (!values.has(name)) values.set(name, line.slice(colon + 1).trim());
      }
    }
  }
  return (name) => values.get(name) || undefined;
}

/** The statistics event in one stream message, or undefined for events statistics does not read or cannot parse. */
export function decode(msg: JsMsg, decoder = new TextDecoder()): AnyProjected | undefined {
  const envelope = fromHeaders(headerLookup(msg, decoder));
  if (!envelope.ok) return undefined;
  const name = NAME_OF.get(envelope.attrs.type);
  const def = definitionForType(envelope.attrs.type);
  if (!name || !def) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(msg.data));
  } catch {
    return undefined;
  }
  // The live consumer dead-letters what does not match its contract; the rebuild skips the same messages.
  const parsed = def.schema.safeParse(body);
  return parsed.success ? ({ name, data: parsed.data } as AnyProjected) : undefined;
}

async function lastSequences(bus: Bus): Promise<Map<StreamName, number>> {
  const out = new Map<StreamName, number>();
  for (const stream of PROJECTED_STREAMS) {
    try {
      const info = await bus.jsm.streams.info(bus.naming.stream(stream));
      out.set(stream, info.state.messages > 0 ? info.state.last_seq : 0);
    } catch {
      out.set(stream, 0);
    }
  }
  return out;
}

/**
 * Reads stream messages with sequence in (after, upTo] in order, through an ordered consumer that keeps a large
 * buffer of messages on the way and hands each to a callback (no promise per message).
 */
async function readRange(
  bus: Bus,
  stream: StreamName,
  after: number,
  upTo: number,
  onMessage: (msg: JsMsg) => void,
): Promise<void> {
  if (upTo <= after) return;
  const name = bus.naming.stream(stream);
  const consumer = await bus.js.consumers.get(name, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: after + 1,
  });
  let last = after;
  let settle: (err?: unknown) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    settle = (err) => (err === undefined ? resolve() : reject(err));
  });
  const messages = await consumer.consume({
    max_messages: READ_BUFFER,
    callback: (msg) => {
      const seq = msg.info.streamSequence;
      if (last >= upTo) return;
      // Past the end (what was left of the range was deleted meanwhile): the range is done.
      if (seq > upTo) return settle();
      last = seq;
      try {
        onMessage(msg);
      } catch (err) {
        return settle(err);
      }
      if (last >= upTo) settle();
    },
  });
  // Nothing arriving for a while: done if the rest of the range was deleted, an error if it is there but not coming.
  let seen = last;
  let idle = 0;
  const watchdog = setInterval(() => {
    if (last !== seen) {
      seen = last;
      idle = 0;
      return;
    }
    idle += 1;
    if (idle < 3) return;
    bus.jsm.streams.info(name).then((info) => {
      if (info.state.last_seq <= last || info.state.messages === 0) settle();
      else if (idle >= 20)
        settle(new Error(`rebuild: ${stream} stopped delivering at sequence ${last} of ${upTo}`));
    }, settle);
  }, 1000);
  try {
    await finished;
  } finally {
    clearInterval(watchdog);
    await messages.close();
  }
}

/** Messages the reading consumer asks for ahead (a few MB of small events). */
const READ_BUFFER = 20_000;

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

export async function rebuild(options: {
  db: Db;
  bus: Bus;
  onProgress?: (p: RebuildProgress) => void;
  /** Test hook: runs after the bulk write, before the catch-up and swap. */
  beforeSwap?: () => Promise<void>;
  /** The heap this process may use (default V8's limit); a history that needs more fails at once. */
  heapLimit?: number;
}): Promise<RebuildResult> {
  const { db, bus, onProgress } = options;
  const started = performance.now();
  // Fail before anything is written rather than minutes later, out of memory, half-way through the history.
  const events = [...(await lastSequences(bus)).values()].reduce((a, b) => a + b, 0);
  const limit = options.heapLimit ?? getHeapStatistics().heap_size_limit;
  if (heapNeededFor(events) > limit) throw new HeapTooSmall(events, heapNeededFor(events), limit);
  // The generation retired by the previous swap has served its last reader by now.
  await dropRetired(db);
  const [created] = (await db.execute(
    sql`insert into statistics.generation (status) values ('building') returning id`,
  )) as unknown as { id: number }[];
  const gen = created?.id;
  if (gen === undefined) throw new Error('could not create a projection generation');
  try {
    const upTo = await lastSequences(bus);
    const total = [...upTo.values()].reduce((a, b) => a + b, 0);
    const states = new Map<string, CaseState>();
    const progress: RebuildProgress = { phase: 'reading', read: 0, total, applied: 0, cases: 0, written: 0 };
    const decoder = new TextDecoder();
    const cpuBefore = process.cpuUsage();
    let skipped = 0;
    for (const stream of PROJECTED_STREAMS) {
      await readRange(bus, stream, 0, upTo.get(stream) ?? 0, (msg) => {
        progress.read += 1;
        const event = decode(msg, decoder);
        if (event) {
          const caseId = (event.data as { caseId: string }).caseId;
          let state = states.get(caseId);
          if (!state) {
            state = emptyCase(caseId);
            states.set(caseId, state);
          }
          applyEvent(state, event, { inPlace: true });
          progress.applied += 1;
        } else skipped += 1;
        if (progress.read % 5000 === 0) onProgress?.({ ...progress, cases: states.size });
      });
      onProgress?.({ ...progress, cases: states.size });
    }
    const readMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const readCpuMs = (cpu.user + cpu.system) / 1000;
    progress.cases = states.size;
    progress.phase = 'writing';
    onProgress?.({ ...progress });
    let indexingAt: number | undefined;
    await loadGeneration(
      db,
      gen,
      { [Symbol.iterator]: () => states.values() },
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
    );
    // The parents' statistics cover the new partitions before the first query plans against them.
    await analyzeParents(clientOf(db));
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
      readMs,
      readCpuMs,
      writeMs,
      indexMs,
      totalMs: performance.now() - started,
    };
  } catch (err) {
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
