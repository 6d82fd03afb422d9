// COPY … FROM STDIN text format: one line per row, values separated by tabs, \N for null.

export type CopyField = string | number | boolean | null | undefined;

export function copyValue(v: CopyField): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v);
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, escapeChar) : v;
}

function escapeChar(c: string): string {
  return c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r';
}

export function copyLine(values: CopyField[]): string {
  let line = copyValue(values[0]);
  for (let i = 1; i < values.length; i++) line += `\t${copyValue(values[i])}`;
  return `${line}\n`;
}

/**
 * Buffers of one size, handed back after use and handed out again. A rebuild writes gigabytes of COPY text: each
 * buffer allocated afresh is memory outside the heap that V8 answers with a full collection once enough of it has
 * been allocated, and with a million folded cases on the heap those collections were half of the bulk write's time.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(readonly size = 256 * 1024) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(this.size);
  }

  /** Buffers from `take`, no longer read or written by anyone. */
  give(buffers: readonly Buffer[]): void {
    for (const buffer of buffers) if (buffer.length === this.size) this.free.push(buffer);
  }

  /** Buffers ready to be handed out again. */
  get idle(): number {
    return this.free.length;
  }
}

/**
 * COPY lines written as UTF-8 into buffers as they are made. Kept as strings until their COPY, a batch's lines (each
 * a tree of concatenated pieces) outlived the young generation and made a third of the bulk writer's time garbage
 * collection; written at once, a line is garbage before the next collection and its bytes are off the heap. The
 * buffers come from a pool and go back to it on `release`, once what `chunks` handed out has been sent.
 */
export class CopyBuffer {
  /** The filled part of each buffer written so far, and the buffers themselves. */
  private readonly filled: Buffer[] = [];
  private readonly held: Buffer[] = [];
  /** Buffers whose text `chunks` handed out, not yet released. */
  private readonly lent: Buffer[] = [];
  private buffer: Buffer | undefined;
  private at = 0;

  /** `pool`: where the buffers come from (a pool of its own, of 256 kB buffers, by default). */
  constructor(private readonly pool = new BufferPool()) {}

  line(values: CopyField[]): void {
    const text = copyLine(values);
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    if (this.buffer === undefined || this.at + text.length * 3 > this.buffer.length) {
      this.seal();
      // A line longer than the pool's buffers gets one of its own, which the pool does not take back.
      this.buffer = text.length * 3 > this.pool.size ? Buffer.allocUnsafe(text.length * 3) : this.pool.take();
    }
    this.at += this.buffer.write(text, this.at, 'utf8');
  }

  private seal(): void {
    if (this.buffer !== undefined && this.at > 0) {
      this.filled.push(this.buffer.subarray(0, this.at));
      this.held.push(this.buffer);
    } else if (this.buffer !== undefined) this.pool.give([this.buffer]);
    this.buffer = undefined;
    this.at = 0;
  }

  /**
   * The text written, in chunks of whole lines; the buffer is empty afterwards. The chunks stay valid until
   * `release`, and must not be read after it.
   */
  chunks(): Buffer[] {
    this.seal();
    this.lent.push(...this.held.splice(0));
    return this.filled.splice(0);
  }

  /** Gives the buffers of every chunk handed out so far back to the pool: they have been sent and are not read again. */
  release(): void {
    this.pool.give(this.lent.splice(0));
  }
}
