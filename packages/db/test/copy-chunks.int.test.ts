// Samsyn's postgres.js patch sends each COPY FROM STDIN chunk to the socket as it is, behind a header of its own,
// instead of copying it into a new buffer with the header (the copies, gigabytes of them in a statistics rebuild,
// made V8 collect its whole heap again and again). Against real PostgreSQL: what arrives is exactly what was sent.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { scratchDatabase } from './support/scratch.ts';

const scratch = scratchDatabase('copy_chunks', 'n int primary key, note text');

describe('COPY FROM STDIN chunks', () => {
  it('arrive byte for byte when they are views into larger buffers, multi-byte text and large chunks included', async () => {
    const lines = Array.from(
      { length: 20_000 },
      (_, n) => `${n}\tÅsa på vårdcentralen ${'x'.repeat(n % 50)}\n`,
    );
    const whole = Buffer.from(lines.join(''), 'utf8');
    // Chunks of whole lines that start and end inside one buffer, and one chunk far larger than a socket write.
    const cut = [0, whole.indexOf('\n', 100) + 1, whole.indexOf('\n', 5_000) + 1, whole.length];
    const chunks = cut.slice(1).map((end, i) => whole.subarray(cut[i], end));
    expect(chunks.at(-1)?.length).toBeGreaterThan(512 * 1024);
    const target = await scratch.client`copy t (n, note) from stdin`.writable();
    await pipeline(Readable.from(chunks), target);
    const rows = await scratch.client<{ n: number; note: string }[]>`select n, note from t order by n`;
    expect(rows).toHaveLength(lines.length);
    expect(rows.map((r) => `${r.n}\t${r.note}\n`).join('')).toBe(lines.join(''));
    // The connection is in step with the server afterwards.
    expect(await scratch.client`select count(*)::int as n from t where note like 'Åsa%'`).toEqual([
      { n: 20_000 },
    ]);
  });
});
