import { describe, expect, it } from 'vitest';
import { heapToRestartWith } from './cli.ts';
import { HeapTooSmall, heapNeededFor } from './rebuild.ts';

const MB = 1024 * 1024;

describe('the rebuild command, for a history larger than its heap', () => {
  const events = 7_250_000; // about a million cases
  const tooSmall = new HeapTooSmall(events, heapNeededFor(events), 4096 * MB);

  it('asks for 600 bytes an event and 256 MB besides', () => {
    expect(heapNeededFor(0)).toBe(256 * MB);
    expect(heapNeededFor(events)).toBe(256 * MB + events * 600);
  });

  it('runs again with the heap the history needs when the memory it may use has room for it', () => {
    expect(heapToRestartWith(tooSmall, {}, 16 * 1024 * MB)).toBe(Math.ceil(heapNeededFor(events) / MB));
  });

  it('does not when the container or machine cannot spare that much besides the process itself', () => {
    expect(heapToRestartWith(tooSmall, {}, heapNeededFor(events) + 100 * MB)).toBeUndefined();
  });

  it('does not run again a second time', () => {
    expect(heapToRestartWith(tooSmall, { SAMSYN_REBUILD_RESTARTED: '1' }, 16 * 1024 * MB)).toBeUndefined();
  });
});
