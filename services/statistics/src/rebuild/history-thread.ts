// Reads the history on a worker thread while the main thread folds it: reading and decoding on one thread was the
// rebuild's whole read, on one core while the other idled. The worker takes the NATS protocol and the envelopes, this
// thread the bodies (JSON, the contracts' validation) and the fold: about half each.
import { Worker } from 'node:worker_threads';
import type { Bus } from '@samsyn/bus';
import type { AnyProjected } from '../projection/case-state.ts';
import { decodeBody } from './history.ts';
import type { HistoryConnection, HistoryRange, HistoryReply, HistoryRequest } from './history-worker.ts';

export type { HistoryRange } from './history-worker.ts';

/** Events handed over at a time: large enough that a message costs little, small enough to keep both threads busy. */
const BATCH = 1000;

/**
 * A worker thread with a NATS connection of its own that reads the history once. It starts loading and connecting
 * when constructed (most of a second), so the rebuild constructs it first and prepares its generation meanwhile.
 */
export class HistoryThread {
  private readonly worker: Worker;
  private failure: Error | undefined;
  private readonly failed: Promise<never>;

  constructor(bus: Bus, entry: URL = new URL('./history-worker-boot.mjs', import.meta.url)) {
    const { servers, name, namespace } = bus.options;
    this.worker = new Worker(entry, {
      workerData: {
        servers,
        name,
        ...(namespace === undefined ? {} : { namespace }),
      } satisfies HistoryConnection,
    });
    this.failed = new Promise<never>((_, reject) => {
      const fail = (err: Error) => {
        this.failure ??= err;
        reject(this.failure);
      };
      this.worker.on('error', fail);
      this.worker.on('exit', (code) => fail(new Error(`history thread exited (code ${code})`)));
    });
    this.failed.catch(() => {});
  }

  /**
   * Reads `ranges` in order, calling `onBatch` on this thread with each batch of decoded events (in stream order) and
   * how many messages it took, of which how many were skipped (not statistics events, or not valid ones: what
   * `decode` skips). Settles when the last batch was handed over; rejects if the thread cannot start, fails, or
   * `onBatch` throws.
   */
  read(
    ranges: HistoryRange[],
    onBatch: (events: AnyProjected[], read: number, skipped: number) => void,
  ): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const decoder = new TextDecoder();
    const done = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (reply: HistoryReply) => {
        if (reply.type === 'done') return resolve();
        if (reply.type === 'error') return reject(new Error(`history thread: ${reply.message}`));
        try {
          const events: AnyProjected[] = [];
          let skipped = reply.skipped;
          let start = 0;
          for (let i = 0; i < reply.names.length; i++) {
            const end = reply.ends[i] ?? start;
            const name = reply.names[i] as AnyProjected['name'];
            const event = decodeBody(name, reply.bodies.subarray(start, end), decoder);
            if (event) events.push(event);
            else skipped += 1;
            start = end;
          }
          onBatch(events, reply.read, skipped);
        } catch (err) {
          reject(err);
        }
      });
    });
    this.worker.postMessage({ type: 'read', ranges, batch: BATCH } satisfies HistoryRequest);
    return Promise.race([done, this.failed]).finally(() => this.worker.removeAllListeners('message'));
  }

  async close(): Promise<void> {
    this.failure ??= new Error('history thread closed');
    await this.worker.terminate();
  }
}
