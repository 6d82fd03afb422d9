// Counts a bulk load's rollup cells on a worker thread while the main thread formats and COPYs the case rows: on a
// rebuild the counting was two seconds of the main thread's time after the case rows, for 40,000 cases.
import { Worker } from 'node:worker_threads';
import type { CaseDims } from './case-state.ts';
import type { RollupReply, RollupRequest } from './rollup-worker.ts';

/** What one case's rollup cells depend on: its dimensions and `stageDays()`. */
export interface CaseCells {
  dims: CaseDims;
  stages: [string, string][];
}

/** Chunks the main thread asks for at a time (each about 256 kB of COPY text). */
const CHUNKS_PER_REQUEST = 8;

export class RollupThread {
  private readonly worker: Worker;
  /** Replies arrive in the order of the requests that expect one. */
  private readonly waiting: { resolve: (reply: RollupReply) => void; reject: (err: Error) => void }[] = [];
  private failure: Error | undefined;

  constructor(entry: URL = new URL('./rollup-worker-boot.mjs', import.meta.url)) {
    this.worker = new Worker(entry);
    this.worker.on('message', (reply: RollupReply) => {
      const next = this.waiting.shift();
      if (reply.type !== 'error') return next?.resolve(reply);
      const err = new Error(`rollup worker: ${reply.message}`);
      next?.reject(err);
      this.fail(err);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`rollup worker exited (code ${code})`)));
  }

  /** Sends cases to count. Nothing is awaited: a failure shows at `finish()`. */
  add(cases: CaseCells[]): void {
    // As JSON text: structured cloning a batch's many small objects and arrays cost this thread twice as much.
    if (!this.failure && cases.length > 0) this.send({ type: 'cases', json: JSON.stringify(cases) });
  }

  /** Waits until every case sent is counted; then the COPY text of the cells, read chunk by chunk. */
  async finish(gen: number): Promise<AsyncIterable<Uint8Array>> {
    const counted = await this.request({ type: 'finish', gen });
    if (counted.type !== 'counted') throw new Error(`rollup worker: unexpected ${counted.type}`);
    const request = (message: RollupRequest) => this.request(message);
    return {
      async *[Symbol.asyncIterator]() {
        // One request ahead: the thread formats the next chunks while these are COPYed (asked for one at a time, the
        // COPY waited on the thread for most of its second, for 40,000 cases).
        const more = () => {
          const reply = request({ type: 'more', chunks: CHUNKS_PER_REQUEST });
          // Awaited below unless the COPY stops early, when its failure is not this one's to report.
          reply.catch(() => {});
          return reply;
        };
        let next = more();
        for (;;) {
          const reply = await next;
          if (reply.type !== 'chunks') throw new Error(`rollup worker: unexpected ${reply.type}`);
          if (!reply.done) next = more();
          yield* reply.chunks;
          if (reply.done) return;
        }
      },
    };
  }

  async close(): Promise<void> {
    this.failure ??= new Error('rollup worker closed');
    await this.worker.terminate();
  }

  private request(message: RollupRequest): Promise<RollupReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.send(message);
    });
  }

  private send(message: RollupRequest): void {
    this.worker.postMessage(message);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }
}
