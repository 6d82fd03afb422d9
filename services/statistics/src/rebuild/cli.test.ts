import { describe, expect, it } from 'vitest';
import { LARGE_HISTORY, restartFlags } from './cli.ts';
import { heapNeededFor } from './rebuild.ts';

const MB = 1024 * 1024;

describe('the rebuild command, before it reads the history', () => {
  const events = 7_250_000; // about a million cases
  const roomy = { heapLimit: 4096 * MB, execArgv: [], env: {}, memory: 16 * 1024 * MB };

  it('asks for 600 bytes an event and 256 MB besides', () => {
    expect(heapNeededFor(0)).toBe(256 * MB);
    expect(heapNeededFor(events)).toBe(256 * MB + events * 600);
  });

  it('runs again with the heap a history larger than its heap needs, and a larger young generation', () => {
    expect(restartFlags(events, roomy)).toEqual([
      `--max-old-space-size=${Math.ceil(heapNeededFor(events) / MB)}`,
      '--max-semi-space-size=64',
    ]);
  });

  it('runs again only for the young generation when a large history fits its heap', () => {
    const fits = (given: { execArgv?: string[]; env?: NodeJS.ProcessEnv }) =>
      restartFlags(events, { ...roomy, heapLimit: 8192 * MB, ...given });
    const raised = ['--max-semi-space-size=64'];
    const cases: [{ execArgv?: string[]; env?: NodeJS.ProcessEnv }, string[] | undefined][] = [
      [{}, raised],
      // Already set as large on the command line or in NODE_OPTIONS: nothing to do.
      [{ execArgv: ['--max-semi-space-size=64'] }, undefined],
      [{ env: { NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=128' } }, undefined],
      // The small one the services run with (docs/operations.md) is raised.
      [{ env: { NODE_OPTIONS: '--max-semi-space-size=8' } }, raised],
      // The command line counts over NODE_OPTIONS.
      [
        { env: { NODE_OPTIONS: '--max-semi-space-size=128' }, execArgv: ['--max-semi-space-size=16'] },
        raised,
      ],
    ];
    for (const [given, expected] of cases) expect(fits(given), JSON.stringify(given)).toEqual(expected);
  });

  it('keeps the default young generation where the memory has room for the heap but not for it too', () => {
    const tight = heapNeededFor(events) + 600 * MB;
    expect(restartFlags(events, { ...roomy, memory: tight })).toEqual([
      `--max-old-space-size=${Math.ceil(heapNeededFor(events) / MB)}`,
    ]);
    expect(restartFlags(events, { ...roomy, heapLimit: 8192 * MB, memory: tight })).toBeUndefined();
  });

  it('goes on as it is with a small history', () => {
    expect(restartFlags(LARGE_HISTORY - 1, roomy)).toBeUndefined();
    expect(restartFlags(290_000, roomy)).toBeUndefined();
  });

  it('does not run again when the container or machine cannot spare the heap besides the process itself', () => {
    // The rebuild then fails at once with HeapTooSmall, which says how much memory it needs.
    expect(restartFlags(events, { ...roomy, memory: heapNeededFor(events) + 100 * MB })).toBeUndefined();
  });

  it('does not run again a second time', () => {
    expect(restartFlags(events, { ...roomy, env: { SAMSYN_REBUILD_RESTARTED: '1' } })).toBeUndefined();
  });
});
