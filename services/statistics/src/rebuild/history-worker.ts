// The worker thread of `HistoryThread`: connects to NATS as soon as it starts (the connection options come as its
// workerData), then reads ranges of the streams, keeps the messages whose envelope names a statistics event, and
// hands their bodies to the main thread in batches, in stream order, while the main thread parses, validates and
// folds them.
import { parentPort, workerData } from 'node:worker_threads';
// Only the connection, not the package's consumers, outbox and tables: the thread loads in a fraction of the time.
import { Bus, type BusLog } from '@samsyn/bus/bus';
import type { StreamName } from '@samsyn/contracts';
import type { ProjectedEvent } from '../projection/case-state.ts';
import { eventName, readRange } from './history.ts';

/** Messages with sequence in (after, upTo] of one stream. */
export interface HistoryRange {
  stream: StreamName;
  after: number;
  upTo: number;
}

/** The bus's connection options (servers, connection name, subject namespace): the worker's workerData. */
export interface HistoryConnection {
  servers: string | string[];
  name: string;
  namespace?: string;
}

export interface HistoryRequest {
  type: 'read';
  ranges: HistoryRange[];
  /** Events per batch handed over. */
  batch: number;
}

export type HistoryReply =
  /**
   * The statistics events read since the last batch: their names, and their bodies one after the other in `bodies`,
   * the i-th ending at `ends[i]`; and how many messages were read, and skipped as not statistics events, to get them.
   */
  | {
      type: 'events';
      names: ProjectedEvent[];
      bodies: Uint8Array;
      ends: number[];
      read: number;
      skipped: number;
    }
  | { type: 'done' }
  | { type: 'error'; message: string };

const port = parentPort;
if (!port) throw new Error('history-worker runs as a worker thread');

/** The connection's status changes are the main thread's concern only if reading fails, which it reports. */
const quiet: BusLog = { info() {}, warn() {}, error() {}, debug() {} };

const connection = workerData as HistoryConnection;
// Connected while the main thread prepares the generation; a failure shows when the read is asked for.
const connecting = Bus.connect({
  servers: connection.servers,
  name: `${connection.name}-history`,
  ...(connection.namespace === undefined ? {} : { namespace: connection.namespace }),
  log: quiet,
});
connecting.catch(() => {});

port.once('message', async (request: HistoryRequest) => {
  let bus: Bus | undefined;
  try {
    bus = await connecting;
    const decoder = new TextDecoder();
    let names: ProjectedEvent[] = [];
    let ends: number[] = [];
    let bodies = new Uint8Array(256 * 1024);
    let used = 0;
    let read = 0;
    let skipped = 0;
    const flush = () => {
      if (read === 0) return;
      // The batch's bytes are handed over, not copied; the next batch starts a buffer of its own.
      const out = bodies.slice(0, used);
      port.postMessage({ type: 'events', names, bodies: out, ends, read, skipped } satisfies HistoryReply, [
        out.buffer,
      ]);
      names = [];
      ends = [];
      used = 0;
      read = 0;
      skipped = 0;
    };
    for (const range of request.ranges) {
      await readRange(bus, range.stream, range.after, range.upTo, (msg) => {
        read += 1;
        const name = eventName(msg, decoder);
        if (name === undefined) {
          skipped += 1;
          return;
        }
        const data = msg.data;
        if (used + data.length > bodies.length) {
          const grown = new Uint8Array(Math.max(bodies.length * 2, used + data.length));
          grown.set(bodies.subarray(0, used));
          bodies = grown;
        }
        bodies.set(data, used);
        used += data.length;
        names.push(name);
        ends.push(used);
        if (names.length >= request.batch) flush();
      });
      flush();
    }
    port.postMessage({ type: 'done' } satisfies HistoryReply);
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message } satisfies HistoryReply);
  } finally {
    await bus?.close().catch(() => {});
  }
});
