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
 * COPY lines written as UTF-8 into buffers as they are made. Kept as strings until their COPY, a batch's lines (each
 * a tree of concatenated pieces) outlived the young generation and made a third of the bulk writer's time garbage
 * collection; written at once, a line is garbage before the next collection and its bytes are off the heap.
 */
export class CopyBuffer {
  private readonly done: Buffer[] = [];
  private buffer: Buffer;
  private at = 0;

  /** `chunkSize`: the bytes of each buffer, allocated when the first line needs one. */
  constructor(private readonly chunkSize = 256 * 1024) {
    this.buffer = Buffer.alloc(0);
  }

  line(values: CopyField[]): void {
    const text = copyLine(values);
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    if (this.at + text.length * 3 > this.buffer.length) {
      if (this.at > 0) this.done.push(this.buffer.subarray(0, this.at));
      this.buffer = Buffer.allocUnsafe(Math.max(this.chunkSize, text.length * 3));
      this.at = 0;
    }
    this.at += this.buffer.write(text, this.at, 'utf8');
  }

  /** The text written, in chunks of whole lines; the buffer is empty afterwards. */
  chunks(): Buffer[] {
    if (this.at > 0) {
      this.done.push(this.buffer.subarray(0, this.at));
      // The next line allocates a buffer of its own, if there is one.
      this.buffer = Buffer.alloc(0);
    }
    this.at = 0;
    return this.done.splice(0);
  }
}
