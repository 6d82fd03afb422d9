// The bulk rollup counter must give exactly the cells `contributions()` gives, gathered into rollup rows (one count
// column per stage, one row per reason), in the order of the table's key.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CaseState,
  contributions,
  emptyCase,
  parseRollupKey,
  ROLLUP_COUNTS,
  rollupSlot,
  stageDays,
} from './case-state.ts';
import { copyValue } from './copy-text.ts';
import { CountTable, RollupCounter } from './rollup-counter.ts';
import { RollupThread } from './rollup-thread.ts';

const orgs = ['SE2321000032-1001', 'SE2321000032-2002', 'SE2120000415-2001', 'SE2120000415-3001', 'SE5565-1'];
const municipalities = ['0180', '0114', '1480', '2480', null];
const reasons = ['goals-met', 'moved', 'declined', 'other'];

/** A folded case with any stages on days around month, year and DST edges. */
const caseState = fc
  .record({
    id: fc.uuid(),
    org: fc.constantFrom(...orgs),
    municipality: fc.constantFrom(...municipalities),
    ageBand: fc.constantFrom('child', 'adult', 'older' as const),
    trigger: fc.constantFrom('discharge', 'other' as const),
    times: fc.array(
      fc.option(fc.date({ min: new Date('2025-12-25T00:00:00Z'), max: new Date('2026-04-05T00:00:00Z') }), {
        nil: undefined,
      }),
      { minLength: 8, maxLength: 8 },
    ),
    reason: fc.constantFrom(...reasons),
  })
  .map(({ id, org, municipality, ageBand, trigger, times, reason }): CaseState => {
    const s = emptyCase(id);
    const at = (i: number) => {
      const t = times[i];
      return t && !Number.isNaN(t.getTime()) ? t.toISOString() : undefined;
    };
    s.dims = {
      requesterOrg: org,
      principal: org.split('-')[0] ?? org,
      municipality,
      region: municipality ? municipality.slice(0, 2) : null,
      ageBand,
      trigger,
    };
    s.identifiedAt = at(0) ?? '2026-01-31T23:30:00Z';
    s.consentedAt = at(1);
    s.invitedAt = at(2);
    s.heldAt = at(3);
    s.establishedAt = at(4);
    s.followedUpAt = at(5);
    s.closedAt = at(6);
    if (s.closedAt) s.closedReasonCase = reason;
    s.cancelledAt = s.closedAt ? undefined : at(7);
    if (s.cancelledAt) s.cancelledReason = reason;
    return s;
  });

/** The key's order: (scope, grain, key, period, parent, reason, age_band, trigger), each compared as text. */
function keyOrder(line: string): string[] {
  const [, grain, scope, period, key, parent, age, trigger, reason] = line.split('\t');
  return [scope, grain, key, period, parent, reason, age, trigger].map((v) => v ?? '');
}

/** The rollup rows of some cases as `contributions()` has their cells: COPY key fields → counts. */
function expectedRows(gen: number, states: CaseState[]): { rows: Map<string, number[]>; cells: number } {
  const rows = new Map<string, number[]>();
  const cells = new Set<string>();
  for (const s of states)
    for (const k of contributions(s)) {
      cells.add(k);
      const c = parseRollupKey(k);
      const { reason, column } = rollupSlot(c.stage);
      const row = [gen, c.grain, c.scope, c.period, c.key, c.parent, c.ageBand, c.trigger, reason].join('\t');
      const counts = rows.get(row) ?? ROLLUP_COUNTS.map(() => 0);
      counts[column] = (counts[column] ?? 0) + 1;
      rows.set(row, counts);
    }
  return { rows, cells: cells.size };
}

/** COPY lines as key fields → counts. */
function parsedLines(lines: string[]): Map<string, number[]> {
  return new Map(
    lines.map((l) => {
      const fields = l.slice(0, -1).split('\t');
      return [fields.slice(0, 9).join('\t'), fields.slice(9).map(Number)] as const;
    }),
  );
}

function compareTuples(a: string[], b: string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

describe('the bulk rollup counter', () => {
  it('counts exactly the cells contributions() gives, once per case and cell, in rows per reason', () => {
    fc.assert(
      fc.property(fc.array(caseState, { minLength: 1, maxLength: 40 }), (states) => {
        const expected = expectedRows(7, states);
        const counter = new RollupCounter();
        for (const s of states) counter.add(s);
        const lines = counter.lines(7, (v) => v);
        expect(parsedLines(lines)).toEqual(expected.rows);
        // One line per row, and every row counts something.
        expect(lines).toHaveLength(expected.rows.size);
        expect(counter.size).toBe(expected.cells);
        expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('counts the same rows, unsorted, when a load has too many distinct values to presort', () => {
    fc.assert(
      fc.property(fc.array(caseState, { minLength: 1, maxLength: 40 }), (states) => {
        const expected = expectedRows(7, states);
        const counter = new RollupCounter(8);
        for (const s of states) counter.add(s);
        const lines = counter.lines(7, (v) => v);
        expect(parsedLines(lines)).toEqual(expected.rows);
        expect(lines).toHaveLength(expected.rows.size);
      }),
      { numRuns: 100 },
    );
  });

  it('counts the same rows when the counts do not fit the bits their sort keys leave', () => {
    fc.assert(
      fc.property(fc.array(caseState, { minLength: 1, maxLength: 40 }), (states) => {
        const expected = expectedRows(7, states);
        // Two bits: counts of 3 and more are looked up apart; none: every count is.
        for (const countBits of [2, 0]) {
          const counter = new RollupCounter(53, 16, countBits);
          for (const s of states) counter.add(s);
          expect(parsedLines(counter.lines(7, (v) => v))).toEqual(expected.rows);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('hands the lines out in the order of the rollup table key', () => {
    fc.assert(
      fc.property(fc.array(caseState, { minLength: 2, maxLength: 40 }), (states) => {
        const counter = new RollupCounter();
        for (const s of states) counter.add(s);
        const lines = counter
          .lines(1, (v) => v)

          .map(keyOrder);
        for (let i = 1; i < lines.length; i++)
          expect(compareTuples(lines[i - 1] ?? [], lines[i] ?? [])).toBeLessThan(0);
      }),
      { numRuns: 150 },
    );
  });

  it('escapes every text value for COPY and skips cases without dimensions', () => {
    const s = emptyCase('8c9e2d1a-7a6b-4c3d-9e8f-0a1b2c3d4e5f');
    s.dims = {
      requesterOrg: 'SE1\\odd\tname',
      principal: 'SE1',
      municipality: null,
      region: null,
      ageBand: 'adult',
      trigger: 'other',
    };
    s.identifiedAt = '2026-03-01T12:00:00Z';
    const counter = new RollupCounter();
    counter.add(s);
    counter.add(emptyCase('5b1f3c2e-0d4a-4e6b-8c7d-9e0f1a2b3c4d'));
    const lines = counter.lines(3, (v) => v.replaceAll('\\', '\\\\').replaceAll('\t', '\\t'));
    // all × 3 grains + principal, municipality and org by month; no region cells without a municipality.
    expect(lines).toHaveLength(6);
    expect(lines.filter((l) => l.includes('\torg\t'))).toEqual([
      '3\tmonth\torg\t2026-03-01\tSE1\\\\odd\\tname\t\tadult\tother\t\t1\t0\t0\t0\t0\t0\t0\t0\n',
    ]);
  });

  it('cuts the COPY text into chunks of whole lines, the same text at any chunk size', () => {
    fc.assert(
      fc.property(
        fc.array(caseState, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 400 }),
        (states, chunkSize) => {
          const counter = new RollupCounter();
          for (const s of states) {
            // Values beyond ASCII take more bytes than characters.
            if (s.dims) s.dims = { ...s.dims, requesterOrg: `${s.dims.requesterOrg}-Vård-Ärende` };
            counter.add(s);
          }
          const whole = counter.copyChunks(5, (v) => v);
          const small = counter.copyChunks(5, (v) => v, chunkSize);
          expect(Buffer.concat(small).toString('utf8')).toBe(Buffer.concat(whole).toString('utf8'));
          expect(whole.length <= 1).toBe(true);
          for (const chunk of small) {
            expect(chunk.length).toBeGreaterThan(0);
            expect(chunk.at(-1)).toBe(0x0a);
            // A chunk is cut only between lines: it starts a line with the generation.
            expect(chunk.subarray(0, 2).toString()).toBe('5\t');
          }
          expect(counter.lines(5, (v) => v).join('')).toBe(Buffer.concat(whole).toString('utf8'));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps exact counts for keys up to 2^53 across growing, and 0 for a key never added', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.maxSafeNat(), fc.integer({ min: 1, max: 5 })), { maxLength: 300 }),
        (adds) => {
          const table = new CountTable(2);
          const expected = new Map<number, number>();
          for (const [key, n] of adds) {
            table.add(key, n);
            expected.set(key, (expected.get(key) ?? 0) + n);
          }
          expect(table.size).toBe(expected.size);
          for (const [key, n] of expected) expect(table.get(key)).toBe(n);
          const seen = new Map<number, number>();
          table.forEach((key, n) => {
            seen.set(key, n);
          });
          expect(seen).toEqual(expected);
          const absent = Number.MAX_SAFE_INTEGER - 7;
          if (!expected.has(absent)) expect(table.get(absent)).toBe(0);
        },
      ),
    );
  });
});

describe('the rollup thread', () => {
  async function text(chunks: AsyncIterable<Uint8Array>): Promise<string> {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    return Buffer.concat(parts).toString('utf8');
  }

  it('counts on a worker thread exactly what the counter counts here, sent in batches', async () => {
    const states = fc.sample(caseState, { numRuns: 5000, seed: 7 });
    // Many organisations, so the text is several requests' worth of chunks.
    states.forEach((s, i) => {
      if (s.dims) s.dims = { ...s.dims, requesterOrg: `${s.dims.principal}-${i}` };
    });
    // An escape that matters: one organisation name needs escaping in COPY text.
    const first = states[0];
    if (first?.dims) first.dims = { ...first.dims, requesterOrg: 'SE1\\odd\tname' };
    const here = new RollupCounter();
    for (const s of states) here.add(s);
    const thread = new RollupThread();
    try {
      for (let i = 0; i < states.length; i += 700)
        thread.add(
          states.slice(i, i + 700).flatMap((s) => (s.dims ? [{ dims: s.dims, stages: stageDays(s) }] : [])),
        );
      const got = await text(await thread.finish(4));
      // More than one request's worth of chunks, so the text arrives in several replies.
      expect(got.length).toBeGreaterThan(8 * 256 * 1024);
      expect(got).toBe(Buffer.concat(here.copyChunks(4, copyValue)).toString('utf8'));
    } finally {
      await thread.close();
    }
  });

  it('fails its finish, not hangs, when the worker cannot run', async () => {
    const thread = new RollupThread(new URL('./no-such-worker.mjs', import.meta.url));
    try {
      thread.add([
        {
          dims: {
            requesterOrg: 'SE1-1',
            principal: 'SE1',
            municipality: null,
            region: null,
            ageBand: 'adult',
            trigger: 'other',
          },
          stages: [['identified', '2026-03-01']],
        },
      ]);
      await expect(thread.finish(1)).rejects.toThrow();
    } finally {
      await thread.close();
    }
  });
});
