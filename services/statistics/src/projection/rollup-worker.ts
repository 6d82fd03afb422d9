// The worker thread of `RollupThread`: counts the rollup cells of the cases it is sent, then hands out their COPY
// text chunk by chunk as the main thread asks for it.
import { parentPort } from 'node:worker_threads';
import type { CaseDims } from './case-state.ts';
import { copyValue } from './copy-text.ts';
import { RollupCounter } from './rollup-counter.ts';

/** `cases`: a batch of cases' `CaseCells` as JSON text. */
export type RollupRequest =
  | { type: 'cases'; json: string }
  | { type: 'finish'; gen: number }
  | { type: 'more'; chunks: number };

export type RollupReply =
  | { type: 'counted'; cells: number }
  | { type: 'chunks'; chunks: Uint8Array[]; done: boolean }
  | { type: 'error'; message: string };

const port = parentPort;
if (!port) throw new Error('rollup-worker runs as a worker thread');
// A rebuild counts hundreds of thousands of cells (700,000 for 40,000 cases): room for a million at once.
const counter = new RollupCounter(53, 1 << 20);
let text: Iterator<Buffer> | undefined;

port.on('message', (request: RollupRequest) => {
  try {
    if (request.type === 'cases') {
      const cases = JSON.parse(request.json) as { dims: CaseDims; stages: [string, string][] }[];
      for (const c of cases) counter.addCase(c.dims, c.stages);
    } else if (request.type === 'finish') {
      text = counter.copyChunkStream(request.gen, copyValue);
      port.postMessage({ type: 'counted', cells: counter.size } satisfies RollupReply);
    } else {
      if (!text) throw new Error('rollup-worker: chunks asked for before finish');
      const chunks: Buffer[] = [];
      let done = false;
      while (chunks.length < request.chunks) {
        const next = text.next();
        if (next.done) {
          done = true;
          break;
        }
        chunks.push(next.value);
      }
      // Each chunk owns its memory (allocated whole, never pooled): handed over, not copied.
      port.postMessage({ type: 'chunks', chunks, done } satisfies RollupReply, [
        ...new Set(chunks.map((c) => c.buffer as ArrayBuffer)),
      ]);
    }
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message } satisfies RollupReply);
  }
});
