// The worker loop on its own: rounds at start, on kick and per tick, repeated while work is done, backoff on error.
import { describe, expect, it } from 'vitest';
import { PollLoop } from './poll-loop.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PollLoop', () => {
  it('runs at start, repeats at once while a round did work, then waits for a kick', async () => {
    let due = 3;
    let rounds = 0;
    const loop = new PollLoop({
      work: async () => {
        rounds += 1;
        if (due === 0) return 0;
        due -= 1;
        return 1;
      },
      pollMs: 60_000,
      onError: () => undefined,
    });
    loop.start();
    await sleep(50);
    expect(due).toBe(0);
    expect(rounds).toBe(4); // three with work, one that found none
    loop.kick();
    await sleep(50);
    expect(rounds).toBe(5);
    await loop.stop();
    loop.kick();
    await sleep(20);
    expect(rounds).toBe(5);
  });

  it('reports a failed round and waits the delay onError returns before the next', async () => {
    const times: number[] = [];
    const errors: string[] = [];
    const loop = new PollLoop({
      work: async () => {
        times.push(performance.now());
        if (times.length < 3) throw new Error(`round ${times.length} failed`);
        return 0;
      },
      pollMs: 60_000,
      onError: async (err) => {
        errors.push(err.message);
        return 40;
      },
    });
    loop.start();
    await sleep(200);
    await loop.stop();
    expect(errors).toEqual(['round 1 failed', 'round 2 failed']);
    expect(times).toHaveLength(3);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(35);
  });

  it('lets stop() wait for the round in progress', async () => {
    let finished = false;
    const loop = new PollLoop({
      work: async () => {
        await sleep(60);
        finished = true;
        return 0;
      },
      pollMs: 60_000,
      onError: () => undefined,
    });
    loop.start();
    await sleep(10);
    await loop.stop();
    expect(finished).toBe(true);
  });
});
