import { describe, expect, it } from 'vitest';
import { BufferPool, CopyBuffer, copyLine } from './copy-text.ts';

const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');

describe('CopyBuffer', () => {
  it('holds the same text as the lines one after the other, escaped, in chunks of whole lines', () => {
    const rows: (string | number | boolean | null)[][] = [
      [1, 'plain', null, true],
      [2, 'tab\there, newline\nthere, back\\slash', 'Vård & Omsorg – Ärende', false],
      [3, 'x'.repeat(70), 'ö'.repeat(40), 0],
    ];
    // Chunks of 64 bytes: most lines fill a chunk of their own, the long ones one larger than a chunk.
    const buffer = new CopyBuffer(new BufferPool(64));
    for (const row of rows) buffer.line(row);
    const chunks = buffer.chunks();
    expect(text(chunks)).toBe(rows.map(copyLine).join(''));
    expect(chunks.every((c) => c.at(-1) === 0x0a)).toBe(true);
    expect(text(chunks)).toContain('tab\\there, newline\\nthere, back\\\\slash\tVård & Omsorg – Ärende\tf\n');
  });

  it('is empty after handing its chunks out, and writes the next lines into new memory', () => {
    const buffer = new CopyBuffer(new BufferPool(1024));
    expect(buffer.chunks()).toEqual([]);
    buffer.line(['first']);
    const first = buffer.chunks();
    buffer.line(['second']);
    const second = buffer.chunks();
    // The chunks handed out earlier are not overwritten by what comes after.
    expect([text(first), text(second)]).toEqual(['first\n', 'second\n']);
    expect(buffer.chunks()).toEqual([]);
  });

  it('reuses the memory of released chunks, and never memory whose chunks are still out', () => {
    const pool = new BufferPool(1024);
    const tables = [new CopyBuffer(pool), new CopyBuffer(pool)];
    tables[0]?.line(['case', 1]);
    tables[1]?.line(['stage', 1]);
    const [a, b] = tables.map((t) => t.chunks());
    // Written while the first chunks are still out: new memory, the first text intact.
    tables[0]?.line(['case', 2]);
    expect([text(a ?? []), text(b ?? [])]).toEqual(['case\t1\n', 'stage\t1\n']);
    expect(pool.idle).toBe(0);
    for (const t of tables) t.release();
    expect(pool.idle).toBe(2);
    tables[1]?.line(['stage', 2]);
    const c = tables[0]?.chunks() ?? [];
    const d = tables[1]?.chunks() ?? [];
    expect([text(c), text(d)]).toEqual(['case\t2\n', 'stage\t2\n']);
    // The second table wrote into a released buffer, not a new one.
    expect(pool.idle).toBe(1);
    const at = (chunk: Buffer | undefined) => chunk && ([chunk.buffer, chunk.byteOffset] as const);
    expect([at(a?.[0]), at(b?.[0])]).toContainEqual(at(d[0]));
    expect(at(c[0])).not.toEqual(at(a?.[0]));
  });

  it("gives a line longer than the pool's buffers one of its own, which the pool does not take back", () => {
    const pool = new BufferPool(64);
    const buffer = new CopyBuffer(pool);
    buffer.line(['x'.repeat(100)]);
    expect(text(buffer.chunks())).toBe(`${'x'.repeat(100)}\n`);
    buffer.release();
    expect(pool.idle).toBe(0);
  });
});
