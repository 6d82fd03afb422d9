// Counts the rollup cells of many cases for a bulk load, and hands them out as COPY lines of rollup rows (a row's
// count columns hold the cells of its stages) in the order of the rollup table's primary key.
// The cells are those of `eachContribution()`, from the same scopes (`rollupScopes()`) and grains (`ROLLUP_GRAINS`),
// so live and bulk writes count alike (the tests compare the two). A cell is counted under a number instead of a
// string: about 2 million contributions per 40,000 cases made building and hashing their string keys the largest cost
// of a rebuild's write; and in loops over ids looked up once per case and stage, not through a callback per cell,
// which took half of the counting.
import {
  type CaseDims,
  type CaseState,
  ROLLUP_COUNTS,
  ROLLUP_GRAINS,
  type RollupGrain,
  rollupScopes,
  rollupSlot,
  stageDays,
} from './case-state.ts';
import { weekStart } from './stockholm.ts';

/** Interns values as dense ids, and ranks them in sort order afterwards. */
class Dictionary {
  readonly values: string[] = [];
  private readonly ids = new Map<string, number>();

  id(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.ids.set(value, id);
    }
    return id;
  }

  /** For each id, its position among the values sorted by UTF-16 code units (byte order for ASCII, as PostgreSQL's C
   * and C.UTF-8 collations compare). Under another collation the lines are merely not presorted for the key. */
  ranks(): { rankOf: Uint32Array; byRank: string[]; bits: number } {
    const byRank = [...this.values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const position = new Map(byRank.map((v, i) => [v, i] as const));
    const rankOf = new Uint32Array(this.values.length);
    this.values.forEach((v, id) => {
      rankOf[id] = position.get(v) ?? 0;
    });
    return { rankOf, byRank, bits: Math.max(1, Math.ceil(Math.log2(this.values.length + 1))) };
  }
}

/** Nested interning of a pair or triple of strings without building a combined string per lookup. */
class TupleIds {
  readonly tuples: string[][] = [];
  private readonly root = new Map<string, Map<string, Map<string, number>>>();

  id(a: string, b: string, c: string): number {
    let level1 = this.root.get(a);
    if (!level1) {
      level1 = new Map();
      this.root.set(a, level1);
    }
    let level2 = level1.get(b);
    if (!level2) {
      level2 = new Map();
      level1.set(b, level2);
    }
    let id = level2.get(c);
    if (id === undefined) {
      id = this.tuples.length;
      this.tuples.push([a, b, c]);
      level2.set(c, id);
    }
    return id;
  }
}

const GRAINS: readonly RollupGrain[] = ['day', 'week', 'month'];
const GRAIN_ID: Record<RollupGrain, number> = { day: 0, week: 1, month: 2 };
// A counted cell: (((place * 4 + grain) * 2^PERIOD_BITS + period) * 2^GROUP_BITS + group) * 8 + column, exact below
// 2^53; without its column, the rollup row it is counted in.
const PERIOD_BITS = 16;
const GROUP_BITS = 12;
// 2 ** PERIOD_BITS and 2 ** GROUP_BITS, computed once: written out in the loops they were a call to pow each time.
const PERIOD_SCALE = 2 ** PERIOD_BITS;
const GROUP_SCALE = 2 ** GROUP_BITS;
const COLUMNS = 8;
const PLACE_LIMIT = 2 ** (53 - 2 - PERIOD_BITS - GROUP_BITS - 3);
if (ROLLUP_COUNTS.length !== COLUMNS) throw new Error('rollup counter: one column slot per rollup count');

function tooMany(what: string, limit: number): Error {
  return new Error(`rollup counter: more than ${limit} distinct ${what} in one bulk load`);
}

/**
 * Counts per non-negative integer key below 2^53, in typed arrays with open addressing: a Map keyed by such numbers
 * boxes every key and was most of the counter's time.
 */
export class CountTable {
  private keys: Float64Array;
  private counts: Float64Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1 << 16) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(capacity, 2)));
    this.keys = new Float64Array(size).fill(-1);
    this.counts = new Float64Array(size);
    this.mask = size - 1;
  }

  private slot(key: number): number {
    const lo = key >>> 0;
    const hi = Math.floor(key / 4294967296);
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca77);
    h ^= h >>> 15;
    let i = h & this.mask;
    for (;;) {
      const k = this.keys[i];
      if (k === key || k === -1) return i;
      i = (i + 1) & this.mask;
    }
  }

  add(key: number, n = 1): void {
    let i = this.slot(key);
    if (this.keys[i] === -1) {
      if ((this.size + 1) * 2 > this.keys.length) {
        this.grow();
        i = this.slot(key);
      }
      this.keys[i] = key;
      this.size += 1;
    }
    this.counts[i] = (this.counts[i] ?? 0) + n;
  }

  get(key: number): number {
    const i = this.slot(key);
    return this.keys[i] === -1 ? 0 : (this.counts[i] ?? 0);
  }

  /** Every key and its count, in table order. */
  *entries(): Generator<[number, number], void, undefined> {
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[i] ?? -1;
      if (key !== -1) yield [key, this.counts[i] ?? 0];
    }
  }

  forEach(fn: (key: number, n: number) => void): void {
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[i] ?? -1;
      if (key !== -1) fn(key, this.counts[i] ?? 0);
    }
  }

  private grow(): void {
    const { keys, counts } = this;
    this.keys = new Float64Array(keys.length * 2).fill(-1);
    this.counts = new Float64Array(keys.length * 2);
    this.mask = this.keys.length - 1;
    this.size = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] ?? -1;
      if (key !== -1) this.add(key, counts[i] ?? 0);
    }
  }
}

export class RollupCounter {
  /** (scope, key, parent) */
  private readonly places = new TupleIds();
  /** (reason, target group, trigger): what besides the place, grain and period tells a rollup row */
  private readonly groups = new TupleIds();
  private readonly periods = new Dictionary();
  private readonly counts: CountTable;

  /**
   * @param sortKeyBits The bits a row's sort key may take (53, what a double holds exactly); a test lowers it to
   *   take the path for loads with too many distinct values to presort.
   * @param cells The cells to make room for at first (the table grows past them, rehashing every cell each time).
   * @param countBits At most the low bits of a sort key that carry its cell's count through the sort (larger counts
   *   are looked up apart); a test lowers it to take that path.
   */
  constructor(
    private readonly sortKeyBits = 53,
    cells = 1 << 15,
    private readonly countBits = 20,
  ) {
    this.counts = new CountTable(cells * 2);
  }
  // Per stage of the case being counted: its count column, group, and period ids (day, week, month: GRAIN_ID order).
  private readonly columnOf: number[] = [];
  private readonly groupOf: number[] = [];
  private readonly periodOf: number[] = [];
  // Per day id: the ids of its week and month (-1 unknown yet).
  private weekOfDay: Int32Array<ArrayBuffer> = new Int32Array(64).fill(-1);
  private monthOfDay: Int32Array<ArrayBuffer> = new Int32Array(64).fill(-1);
  private readonly slots = new Map<string, { reason: string; column: number }>();

  add(s: CaseState): void {
    if (s.dims) this.addCase(s.dims, stageDays(s));
  }

  /** Counts a case from its dimensions and `stageDays()`: all its cells depend on, and all a worker is sent. */
  addCase(dims: CaseDims, stages: readonly (readonly [string, string])[]): void {
    const { columnOf, groupOf, periodOf } = this;
    for (let i = 0; i < stages.length; i++) {
      const [stage, day] = stages[i] as readonly [string, string];
      let slot = this.slots.get(stage);
      if (!slot) {
        slot = rollupSlot(stage);
        if (this.slots.size > 10_000) this.slots.clear();
        this.slots.set(stage, slot);
      }
      const group = this.groups.id(slot.reason, dims.ageBand, dims.trigger);
      if (group >= GROUP_SCALE) throw tooMany('reason, target group and trigger combinations', GROUP_SCALE);
      columnOf[i] = slot.column;
      groupOf[i] = group;
      const dayId = this.periodId(day);
      periodOf[i * 3] = dayId;
      periodOf[i * 3 + 1] = this.weekOf(dayId, day);
      periodOf[i * 3 + 2] = this.monthOf(dayId, day);
    }
    for (const [scope, key, parent] of rollupScopes(dims)) {
      const place = this.places.id(scope, key, parent);
      if (place >= PLACE_LIMIT) throw tooMany('scope, key and parent combinations', PLACE_LIMIT);
      for (const grain of ROLLUP_GRAINS[scope]) {
        const grainId = GRAIN_ID[grain];
        const base = (place * 4 + grainId) * PERIOD_SCALE;
        for (let i = 0; i < stages.length; i++)
          this.counts.add(
            ((base + (periodOf[i * 3 + grainId] ?? 0)) * GROUP_SCALE + (groupOf[i] ?? 0)) * COLUMNS +
              (columnOf[i] ?? 0),
          );
      }
    }
  }

  private periodId(period: string): number {
    const id = this.periods.id(period);
    if (id >= PERIOD_SCALE) throw tooMany('periods', PERIOD_SCALE);
    return id;
  }

  private weekOf(dayId: number, day: string): number {
    if (dayId >= this.weekOfDay.length) {
      this.weekOfDay = grown(this.weekOfDay, dayId);
      this.monthOfDay = grown(this.monthOfDay, dayId);
    }
    let id = this.weekOfDay[dayId] ?? -1;
    if (id < 0) {
      id = this.periodId(weekStart(day));
      this.weekOfDay[dayId] = id;
    }
    return id;
  }

  private monthOf(dayId: number, day: string): number {
    let id = this.monthOfDay[dayId] ?? -1;
    if (id < 0) {
      id = this.periodId(`${day.slice(0, 7)}-01`);
      this.monthOfDay[dayId] = id;
    }
    return id;
  }

  /** Cells counted: one per stage of a rollup row that counts anything. */
  get size(): number {
    return this.counts.size;
  }

  /**
   * Every rollup row as a COPY text line of (gen, grain, scope, period, key, parent, age_band, trigger, reason, and
   * its counts in `ROLLUP_COUNTS` order), in the order of the key (gen, scope, grain, key, period, parent, reason,
   * age_band, trigger), written as UTF-8 into chunks of whole lines of about `chunkSize` bytes: one string per line
   * made formatting the lines cost as much as counting them.
   */
  copyChunks(gen: number, escapeValue: (value: string) => string, chunkSize = 256 * 1024): Buffer[] {
    return [...this.copyChunkStream(gen, escapeValue, chunkSize)];
  }

  /**
   * The chunks of `copyChunks()` one at a time, each formatted when it is asked for: a COPY that streams them holds
   * a few chunks in memory instead of the whole text (about 80 bytes a row, 130 MB for 1.6 million rows).
   */
  *copyChunkStream(
    gen: number,
    escapeValue: (value: string) => string,
    chunkSize = 256 * 1024,
  ): Generator<Buffer, void, undefined> {
    const field = (tuples: string[][], index: number) => {
      const dictionary = new Dictionary();
      const ids = tuples.map((t) => dictionary.id(t[index] ?? ''));
      const { rankOf, byRank, bits } = dictionary.ranks();
      // Straight from a place or group id to the value's rank and its COPY text.
      const rank = Uint32Array.from(ids, (id) => rankOf[id] ?? 0);
      return { rank, text: byRank.map((v) => encodeField(escapeValue(v))), bits };
    };
    const places = this.places.tuples;
    const groups = this.groups.tuples;
    const sortedGrains = [...GRAINS].sort();
    const fields = {
      scope: field(places, 0),
      grain: {
        rank: Uint32Array.from(GRAINS, (g) => sortedGrains.indexOf(g)),
        text: sortedGrains.map(encodeField),
        bits: 2,
      },
      key: field(places, 1),
      period: (() => {
        const { rankOf, byRank, bits } = this.periods.ranks();
        return { rank: rankOf, text: byRank.map((v) => encodeField(escapeValue(v))), bits };
      })(),
      parent: field(places, 2),
      reason: field(groups, 0),
      age: field(groups, 1),
      trigger: field(groups, 2),
    };
    // The key's columns in order; a row's sort key packs their ranks into one number when they fit in 53 bits.
    const order = [
      fields.scope,
      fields.grain,
      fields.key,
      fields.period,
      fields.parent,
      fields.reason,
      fields.age,
      fields.trigger,
    ];
    // The COPY columns in table order, as indexes into `order` (and so into `ranks`).
    const columnRank = [1, 0, 3, 2, 4, 6, 7, 5];
    const columns = columnRank.map((f) => order[f]?.text ?? []);
    const total = order.reduce((bits, f) => bits + f.bits, 0) + 3;
    const sizes = order.map((f) => 2 ** f.bits);
    // One array reused for every row: a fresh one per row made most of the garbage.
    const ranks = new Array<number>(order.length).fill(0);
    const rankRow = (row: number): void => {
      const group = row % GROUP_SCALE;
      const rest = Math.floor(row / GROUP_SCALE);
      const day = rest % PERIOD_SCALE;
      const placeGrain = Math.floor(rest / PERIOD_SCALE);
      const place = Math.floor(placeGrain / 4);
      ranks[0] = fields.scope.rank[place] ?? 0;
      ranks[1] = fields.grain.rank[placeGrain % 4] ?? 0;
      ranks[2] = fields.key.rank[place] ?? 0;
      ranks[3] = fields.period.rank[day] ?? 0;
      ranks[4] = fields.parent.rank[place] ?? 0;
      ranks[5] = fields.reason.rank[group] ?? 0;
      ranks[6] = fields.age.rank[group] ?? 0;
      ranks[7] = fields.trigger.rank[group] ?? 0;
    };
    const out = new ChunkWriter(chunkSize);
    const genField = encodeField(String(gen));
    const longest = (texts: Uint8Array[]) => texts.reduce((max, t) => Math.max(max, t.length), 0);
    // Room for the longest possible line (and counts of up to 22 digits, their tabs and the newline).
    const lineRoom = genField.length + columns.reduce((sum, texts) => sum + longest(texts), 0) + 23 * COLUMNS;
    const counts = new Float64Array(COLUMNS);
    const line = (): void => {
      out.startLine(lineRoom);
      out.bytes(genField);
      for (let c = 0; c < columns.length; c++)
        out.bytes(columns[c]?.[ranks[columnRank[c] ?? 0] ?? 0] as Uint8Array);
      out.counts(counts);
      counts.fill(0);
    };
    if (total > this.sortKeyBits) {
      // Too many distinct values to pack: the lines are not presorted, and the key is built all the same, slower.
      const rows = new Map<number, Float64Array>();
      this.counts.forEach((cell, n) => {
        const row = Math.floor(cell / COLUMNS);
        let of = rows.get(row);
        if (!of) {
          of = new Float64Array(COLUMNS);
          rows.set(row, of);
        }
        of[cell % COLUMNS] = n;
      });
      for (const [row, of] of rows) {
        rankRow(row);
        counts.set(of);
        line();
        if (out.hasFull) yield* out.full();
      }
    } else {
      // A cell's count goes through the sort in the low bits its key leaves free (12 for 40,000 cases): looking every
      // count up again afterwards, in a table of its own, took a third of this pass. Counts too large for those bits
      // (and every count, when no bits are free) are looked up in `large`.
      const bits = Math.min(this.countBits, this.sortKeyBits - total);
      const scale = bits > 0 ? 2 ** bits : 1;
      const saturated = scale - 1;
      const large = new Map<number, number>();
      const sortKeys = new Float64Array(this.counts.size);
      let i = 0;
      this.counts.forEach((cell, n) => {
        rankRow(Math.floor(cell / COLUMNS));
        let sortKey = 0;
        for (let f = 0; f < sizes.length; f++) sortKey = sortKey * (sizes[f] ?? 1) + (ranks[f] ?? 0);
        sortKey = sortKey * COLUMNS + (cell % COLUMNS);
        if (n >= 0 && n < saturated && Number.isInteger(n)) sortKeys[i++] = sortKey * scale + n;
        else {
          large.set(sortKey, n);
          sortKeys[i++] = sortKey * scale + saturated;
        }
      });
      sortKeys.sort();
      // The cells of one row are adjacent: their sort keys differ only in the column.
      let current = -1;
      for (let k = 0; k < sortKeys.length; k++) {
        const packed = sortKeys[k] ?? 0;
        const sortKey = Math.floor(packed / scale);
        const inKey = packed - sortKey * scale;
        const row = Math.floor(sortKey / COLUMNS);
        if (row !== current) {
          if (current >= 0) {
            line();
            if (out.hasFull) yield* out.full();
          }
          current = row;
          let rest = row;
          for (let f = sizes.length - 1; f >= 0; f--) {
            const size = sizes[f] ?? 1;
            ranks[f] = rest % size;
            rest = Math.floor(rest / size);
          }
        }
        counts[sortKey % COLUMNS] = inKey === saturated ? (large.get(sortKey) ?? 0) : inKey;
      }
      if (current >= 0) line();
    }
    yield* out.finish();
  }

  /** The COPY lines of `copyChunks()` one by one, each ending in a newline. */
  lines(gen: number, escapeValue: (value: string) => string): string[] {
    const text = Buffer.concat(this.copyChunks(gen, escapeValue)).toString('utf8');
    return text === ''
      ? []
      : text
          .slice(0, -1)
          .split('\n')
          .map((l) => `${l}\n`);
  }
}

/** `ids` with room for index `needed`, the new places unknown (-1). */
function grown(ids: Int32Array, needed: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(Math.max(ids.length * 2, needed + 1)).fill(-1);
  out.set(ids);
  return out;
}

/** A COPY field's UTF-8 bytes followed by the tab that ends it. */
function encodeField(text: string): Uint8Array {
  return Buffer.from(`${text}\t`, 'utf8');
}

/** Appends lines to fixed-size buffers, handing out the filled part of each: every chunk holds whole lines. */
class ChunkWriter {
  private readonly chunks: Buffer[] = [];
  private buffer: Buffer;
  private at = 0;

  constructor(private readonly size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  /** Makes room for a line of at most `room` bytes, which `bytes()` and `lastNumber()` then write unchecked. */
  startLine(room: number): void {
    if (this.at + room > this.buffer.length) this.next(room);
  }

  bytes(b: Uint8Array): void {
    const buffer = this.buffer;
    let at = this.at;
    // A loop beats set() for the few bytes of a field.
    for (let i = 0; i < b.length; i++) buffer[at++] = b[i] as number;
    this.at = at;
  }

  /** Integers separated by tabs, and the newline that ends the line. */
  counts(values: Float64Array): void {
    const buffer = this.buffer;
    for (let i = 0; i < values.length; i++) {
      const n = values[i] ?? 0;
      if (n < 10 && n >= 0 && Number.isInteger(n)) buffer[this.at++] = 0x30 + n;
      else this.at += buffer.write(String(n), this.at, 'latin1');
      buffer[this.at++] = i === values.length - 1 ? 0x0a : 0x09;
    }
  }

  get hasFull(): boolean {
    return this.chunks.length > 0;
  }

  /** Hands out (and forgets) the chunks filled so far. */
  full(): Buffer[] {
    return this.chunks.splice(0);
  }

  /** Hands out the rest, the last chunk included. */
  finish(): Buffer[] {
    if (this.at > 0) this.chunks.push(this.buffer.subarray(0, this.at));
    this.buffer = Buffer.alloc(0);
    this.at = 0;
    return this.chunks.splice(0);
  }

  private next(needed: number): void {
    if (this.at > 0) this.chunks.push(this.buffer.subarray(0, this.at));
    this.buffer = Buffer.allocUnsafe(Math.max(this.size, needed));
    this.at = 0;
  }
}
