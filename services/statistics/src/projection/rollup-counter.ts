// Counts the rollup cells of many cases for a bulk load, and hands them out as COPY lines in the order of the
// rollup table's primary key, so PostgreSQL builds the key from input that is already sorted.
// The cells are those of `eachContribution()` (one definition for live and bulk writes). A cell is counted under a
// number instead of a string: about 2 million contributions per 40,000 cases made building and hashing their string
// keys the largest cost of a rebuild's write.
import { type CaseState, eachContribution, type RollupGrain, type RollupScope } from './case-state.ts';

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
// A counted cell: ((place * 4 + grain) * 2^PERIOD_BITS + period) * 2^GROUP_BITS + group, exact below 2^53.
const PERIOD_BITS = 16;
const GROUP_BITS = 12;
const PLACE_LIMIT = 2 ** (53 - 2 - PERIOD_BITS - GROUP_BITS);

function tooMany(what: string, limit: number): Error {
  return new Error(`rollup counter: more than ${limit} distinct ${what} in one bulk load`);
}

export class RollupCounter {
  /** (scope, key, parent) */
  private readonly places = new TupleIds();
  /** (stage, target group, trigger) */
  private readonly groups = new TupleIds();
  private readonly periods = new Dictionary();
  private readonly counts = new Map<number, number>();

  add(s: CaseState): void {
    const dims = s.dims;
    if (!dims) return;
    eachContribution(s, (grain, scope, stage, period, key, parent) => {
      const place = this.places.id(scope, key, parent);
      const group = this.groups.id(stage, dims.ageBand, dims.trigger);
      const day = this.periods.id(period);
      if (place >= PLACE_LIMIT) throw tooMany('scope, key and parent combinations', PLACE_LIMIT);
      if (day >= 2 ** PERIOD_BITS) throw tooMany('periods', 2 ** PERIOD_BITS);
      if (group >= 2 ** GROUP_BITS)
        throw tooMany('stage, target group and trigger combinations', 2 ** GROUP_BITS);
      const cell = ((place * 4 + GRAIN_ID[grain]) * 2 ** PERIOD_BITS + day) * 2 ** GROUP_BITS + group;
      this.counts.set(cell, (this.counts.get(cell) ?? 0) + 1);
    });
  }

  get size(): number {
    return this.counts.size;
  }

  /**
   * Every counted cell as a COPY text line of (gen, grain, scope, stage, period, key, parent, age_band, trigger, n),
   * in the order of the key (gen, scope, grain, key, period, parent, stage, age_band, trigger).
   */
  lines(gen: number, escapeValue: (value: string) => string): string[] {
    const places = this.places.tuples;
    const groups = this.groups.tuples;
    const field = (tuples: string[][], index: number) => {
      const dictionary = new Dictionary();
      const ids = tuples.map((t) => dictionary.id(t[index] ?? ''));
      return { ids, ...dictionary.ranks() };
    };
    const scope = field(places, 0);
    const key = field(places, 1);
    const parent = field(places, 2);
    const stage = field(groups, 0);
    const age = field(groups, 1);
    const trigger = field(groups, 2);
    const period = this.periods.ranks();
    // The grains in text order, as the key sorts them: day, month, week.
    const grainRank = GRAINS.map((g) => [...GRAINS].sort().indexOf(g));
    const widths = [scope.bits, 2, key.bits, period.bits, parent.bits, stage.bits, age.bits, trigger.bits];
    const rows: { sortKey: number; cell: number; n: number }[] = [];
    const packable = widths.reduce((a, b) => a + b, 0) <= 53;
    for (const [cell, n] of this.counts) {
      const group = cell % 2 ** GROUP_BITS;
      const rest = Math.floor(cell / 2 ** GROUP_BITS);
      const day = rest % 2 ** PERIOD_BITS;
      const placeGrain = Math.floor(rest / 2 ** PERIOD_BITS);
      const grain = placeGrain % 4;
      const place = Math.floor(placeGrain / 4);
      const parts = [
        scope.rankOf[scope.ids[place] ?? 0] ?? 0,
        grainRank[grain] ?? 0,
        key.rankOf[key.ids[place] ?? 0] ?? 0,
        period.rankOf[day] ?? 0,
        parent.rankOf[parent.ids[place] ?? 0] ?? 0,
        stage.rankOf[stage.ids[group] ?? 0] ?? 0,
        age.rankOf[age.ids[group] ?? 0] ?? 0,
        trigger.rankOf[trigger.ids[group] ?? 0] ?? 0,
      ];
      let sortKey = 0;
      if (packable)
        for (let i = 0; i < parts.length; i++) sortKey = sortKey * 2 ** (widths[i] ?? 0) + (parts[i] ?? 0);
      rows.push({ sortKey, cell, n });
    }
    // With too many distinct values to pack a sort key into a number, the lines are not presorted; the key is built
    // all the same, only slower.
    if (packable) rows.sort((a, b) => a.sortKey - b.sortKey);
    const escaped = (values: string[]) => values.map(escapeValue);
    const text = {
      scope: escaped(scope.byRank),
      key: escaped(key.byRank),
      parent: escaped(parent.byRank),
      stage: escaped(stage.byRank),
      age: escaped(age.byRank),
      trigger: escaped(trigger.byRank),
      period: escaped(period.byRank),
    };
    const byId = (f: typeof scope, names: string[], id: number) => names[f.rankOf[f.ids[id] ?? 0] ?? 0] ?? '';
    return rows.map(({ cell, n }) => {
      const group = cell % 2 ** GROUP_BITS;
      const rest = Math.floor(cell / 2 ** GROUP_BITS);
      const day = rest % 2 ** PERIOD_BITS;
      const placeGrain = Math.floor(rest / 2 ** PERIOD_BITS);
      const place = Math.floor(placeGrain / 4);
      const grain = GRAINS[placeGrain % 4] as RollupGrain;
      return `${gen}\t${grain}\t${byId(scope, text.scope, place) as RollupScope}\t${byId(stage, text.stage, group)}\t${
        text.period[period.rankOf[day] ?? 0]
      }\t${byId(key, text.key, place)}\t${byId(parent, text.parent, place)}\t${byId(age, text.age, group)}\t${byId(
        trigger,
        text.trigger,
        group,
      )}\t${n}\n`;
    });
  }
}
