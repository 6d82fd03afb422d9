// Closed- and open-loop load over an undici Pool, with latency percentiles: the measuring half of every scenario.
import { Pool } from 'undici';

export interface Sample {
  /** Completed operations. */
  ok: number;
  /** Operations that failed (wrong status or an exception); their latencies are not counted. */
  failed: number;
  /** Operations per second over the measured window. */
  perSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** First failure, to say why, when there were any. */
  firstError?: string;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

export function summarise(latencies: number[], failed: number, seconds: number, firstError?: string): Sample {
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    ok: sorted.length,
    failed,
    perSecond: Math.round(sorted.length / seconds),
    latencyMs: {
      p50: round(percentile(sorted, 50)),
      p95: round(percentile(sorted, 95)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted.at(-1) ?? Number.NaN),
    },
    ...(firstError ? { firstError } : {}),
  };
}

/** `concurrency` workers each run `op` back to back for `seconds`. */
export async function closedLoop(
  seconds: number,
  concurrency: number,
  op: (i: number) => Promise<void>,
): Promise<Sample> {
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await op(next++);
          latencies.push(performance.now() - t0);
        } catch (err) {
          failed++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  return summarise(latencies, failed, (performance.now() - start) / 1000, firstError);
}

/**
 * Starts `op` at a fixed `rate` per second for `seconds`, whether or not earlier ones finished (open loop: the
 * latency includes queueing, as a real arrival rate would see it). Reports the rate actually achieved.
 */
export async function openLoop(
  seconds: number,
  rate: number,
  /** Returns nothing (its latency is until it resolves) or its own latency in ms, measured from `started`. */
  op: (i: number, started: number) => Promise<unknown>,
): Promise<Sample> {
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  const total = Math.round(seconds * rate);
  const start = performance.now();
  const running: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    running.push(
      (async () => {
        const t0 = performance.now();
        try {
          const latency = await op(i, t0);
          latencies.push(typeof latency === 'number' ? latency : performance.now() - t0);
        } catch (err) {
          failed++;
          firstError ??= (err as Error).message;
        }
      })(),
    );
  }
  await Promise.all(running);
  return summarise(latencies, failed, (performance.now() - start) / 1000, firstError);
}

export interface Http {
  pool: Pool;
  request(
    method: string,
    path: string,
    token: string | undefined,
    body?: string,
  ): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

export function http(base: string, connections: number): Http {
  const pool = new Pool(base, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  return {
    pool,
    async request(method, path, token, body) {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body) headers['content-type'] = 'application/fhir+json';
      const res = await pool.request({ method: method as 'GET', path, headers, ...(body ? { body } : {}) });
      return { status: res.statusCode, text: await res.body.text() };
    },
    close: () => pool.close(),
  };
}
