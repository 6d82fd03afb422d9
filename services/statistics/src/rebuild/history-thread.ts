// Reads the history on a worker thread while the main thread folds it: reading and decoding on one thread was the
// rebuild's whole read, on one core while the other idled. The worker takes the NATS protocol and the envelopes, this
// thread the bodies (JSON, the contracts' validation) and the fold: about half each.
import { Worker } from 'node:worker_threads';
import type { Bus } from '@samsyn/bus';
import type { AnyProjected } from '../projection/case-state.ts';
import { decodeBody } from './history.ts';
import type { HistoryRange, HistoryReply, HistoryRequest } from './history-worker.ts';

export type { HistoryRange } from './history-worker.ts';

/** Events handed over at a time: large enough that a message costs little, small enough to keep both threads busy. */
const BATCH = 1000;

/**
 * Reads `ranges` in order on a worker thread of its own connection, calling `onBatch` on this thread with each batch
 * of decoded events (in stream order) and how many messages it took, of which how many were skipped (not statistics
 * events, or not valid ones: what `decode` skips). Settles when the last batch was handed over;
 * rejects if the thread cannot start, fails, or `onBatch` throws.
 */
export function readOnThread(
  bus: Bus,
  ranges: HistoryRange[],
  onBatch: (events: AnyProjected[], read: number, skipped: number) => void,
  entry: URL = new URL('./history-worker-boot.mjs', import.meta.url),
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const worker = new Worker(entry);
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      worker.removeAllListeners('message');
      void worker.terminate().finally(() => (err ? reject(err) : resolve()));
    };
    const decoder = new TextDecoder();
    worker.on('message', (reply: HistoryReply) => {
      if (reply.type === 'done') return settle();
      if (reply.type === 'error') return settle(new Error(`history thread: ${reply.message}`));
      try {
        const events: AnyProjected[] = [];
        let skipped = reply.skipped;
        let start = 0;
        for (let i = 0; i < reply.names.length; i++) {
          const end = reply.ends[i] ?? start;
          const event = decodeBody(
            reply.names[i] as AnyProjected['name'],
            reply.bodies.subarray(start, end),
            decoder,
          );
          if (event) events.push(event);
          else skipped += 1;
          start = end;
        }
        onBatch(events, reply.read, skipped);
      } catch (err) {
        settle(err as Error);
      }
    });
    worker.on('error', (err) => settle(err));
    worker.on('exit', (code) => settle(new Error(`history thread exited (code ${code})`)));
    const { servers, name, namespace } = bus.options;
    worker.postMessage({
      type: 'read',
      servers,
      name,
      ...(namespace === undefined ? {} : { namespace }),
      ranges,
      batch: BATCH,
    } satisfies HistoryRequest);
  });
}
