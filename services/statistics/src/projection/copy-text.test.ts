import { describe, expect, it } from 'vitest';
import { CopyBuffer, copyLine } from './copy-text.ts';

const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');

describe('CopyBuffer', () => {
  it('holds the same text as the lines one after the other, escaped, in chunks of whole lines', () => {
    const rows: (string | number | boolean | null)[][] = [
      [1, 'plain', null, true],
      [2, 'tab\there, newline\nthere, back\\slash', 'Vård & Omsorg – Ärende', false],
      [3, 'x'.repeat(70), 'ö'.repeat(40), 0],
    ];
    // Chunks of 64 bytes: most lines fill a chunk of their own, the long ones one larger than a chunk.
    const buffer = new CopyBuffer(64);
    for (const row of rows) buffer.line(row);
    const chunks = buffer.chunks();
    expect(text(chunks)).toBe(rows.map(copyLine).join(''));
    expect(chunks.every((c) => c.at(-1) === 0x0a)).toBe(true);
    expect(text(chunks)).toContain('tab\\there, newline\\nthere, back\\\\slash\tVård & Omsorg – Ärende\tf\n');
  });

  it('is empty after handing its chunks out, and writes the next lines into new memory', () => {
    const buffer = new CopyBuffer(1024);
    expect(buffer.chunks()).toEqual([]);
    buffer.line(['first']);
    const first = buffer.chunks();
    buffer.line(['second']);
    const second = buffer.chunks();
    // The chunks handed out earlier are not overwritten by what comes after.
    expect([text(first), text(second)]).toEqual(['first\n', 'second\n']);
    expect(buffer.chunks()).toEqual([]);
  });
});
