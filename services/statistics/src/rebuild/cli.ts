// `npm run rebuild -w @samsyn/statistics`: rebuilds every statistics projection from the JetStream history with a
// progress bar and a final count; the running service keeps serving the old numbers until the swap.

import { spawn } from 'node:child_process';
import { totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { Bus } from '@samsyn/bus';
import { migrate, openPostgres } from '@samsyn/db';
import { type BaseConfig, baseConfigSchema, createLogger, loadConfig } from '@samsyn/platform';
import { lastSequences } from './history.ts';
import { heapNeededFor, type RebuildProgress, rebuild } from './rebuild.ts';

export function progressLine(p: RebuildProgress, startedMs: number, width = 30): string {
  const seconds = Math.max((performance.now() - startedMs) / 1000, 0.001);
  if (p.phase === 'reading') {
    const share = p.total > 0 ? Math.min(p.read / p.total, 1) : 1;
    const filled = Math.round(share * width);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${p.read}/${p.total} events, ${Math.round(p.read / seconds)} events/s`;
  }
  if (p.phase === 'writing') return `writing ${p.written}/${p.cases} cases into the new generation`;
  if (p.phase === 'indexing') return `building the indexes of the new generation (${p.cases} cases)`;
  if (p.phase === 'swapping') return 'catching up and swapping in the new generation';
  return 'done';
}

async function main(): Promise<void> {
  const config = loadConfig(baseConfigSchema) as BaseConfig;
  if (!config.DATABASE_URL) throw new Error('rebuild: set DATABASE_URL to the statistics database');
  const log = createLogger({ service: 'statistics-rebuild', level: 'warn' });
  const database = openPostgres({ url: config.DATABASE_URL, max: 4, applicationName: 'statistics-rebuild' });
  const bus = await Bus.connect({
    servers: config.NATS_URL,
    name: 'statistics-rebuild',
    namespace: config.NATS_NAMESPACE,
    log,
  });
  let restart: { flags: string[]; events: number } | undefined;
  try {
    await migrate(database, {
      schema: 'statistics',
      migrationsFolder: fileURLToPath(new URL('../db/migrations', import.meta.url)),
    });
    const events = [...(await lastSequences(bus)).values()].reduce((a, b) => a + b, 0);
    const flags = restartFlags(events);
    // Decided before anything is read or written; the connections close first.
    if (flags) {
      restart = { flags, events };
      return;
    }
    const started = performance.now();
    let last = 0;
    const result = await rebuild({
      db: database.db,
      bus,
      onProgress: (p) => {
        const now = performance.now();
        if (now - last < 200 && p.phase === 'reading' && p.read < p.total) return;
        last = now;
        // The reading bar stays on its line; later phases print below it.
        const line = progressLine(p, started);
        process.stderr.write(p.phase === 'reading' ? `\r\x1b[K${line}` : `\n${line}`);
      },
    });
    process.stderr.write('\n');
    const perSecond = Math.round(result.read / (result.readMs / 1000));
    process.stdout.write(
      `Rebuilt statistics generation ${result.generation} from ${result.read} events (${result.applied} applied, ${result.skipped} not for statistics or broken) into ${result.cases} cases; ${result.caughtUp} caught up at the swap. Read ${perSecond} events/s${result.readOn === 'main' ? ' (in process: the history thread failed)' : ''}; ${(result.totalMs / 1000).toFixed(1)} s in all. Generation ${result.retired ?? 'none'} retired.\n`,
    );
  } finally {
    await bus.close();
    await database.close();
    if (restart) restartWith(restart.flags, restart.events);
  }
}

/** Set in the environment of a rebuild this command restarted with other V8 flags, so it restarts only once. */
const RESTARTED = 'SAMSYN_REBUILD_RESTARTED';

/**
 * From this many events on, the rebuild runs with young-generation semi-spaces of `SEMI_SPACE_MB`. Measured on a
 * million cases (7,247,231 events): V8's default 16 MB made 2,517 scavenges taking 25.3 s of the main thread, each
 * copying what the fold keeps out of a young generation next to a 2 GB heap; with 64 MB, 11.0 s. On 289,813 events
 * the larger young generation was slower (1.25 s of scavenges against 1.66 s), so smaller histories keep the default.
 */
export const LARGE_HISTORY = 2_000_000;
export const SEMI_SPACE_MB = 64;

/**
 * The V8 flags to run this command again with before it reads a history of `events`, or undefined to go on as it is:
 * the heap the history needs, when this process's is smaller and the memory it may use (the container's limit, else
 * the machine's) has room for it; a larger young generation for a large history. Never twice.
 */
export function restartFlags(
  events: number,
  context: { heapLimit?: number; execArgv?: string[]; env?: NodeJS.ProcessEnv; memory?: number } = {},
): string[] | undefined {
  const env = context.env ?? process.env;
  if (env[RESTARTED]) return undefined;
  const execArgv = context.execArgv ?? process.execArgv;
  const flags: string[] = [];
  const needed = heapNeededFor(events);
  const limit = context.heapLimit ?? getHeapStatistics().heap_size_limit;
  const memory = context.memory ?? usableMemory();
  // What the process needs besides its heap (code, buffers, PostgreSQL and NATS clients) and a margin.
  const besides = 512 * 1024 * 1024;
  if (needed > limit) {
    // Without room for it, the rebuild fails at once with HeapTooSmall, which says what to do.
    if (needed + besides > memory) return undefined;
    flags.push(`--max-old-space-size=${Math.ceil(needed / (1024 * 1024))}`);
  }
  // The young generation this process was given, if any (the command line after NODE_OPTIONS, the last one counting):
  // the services' NODE_OPTIONS may hold a small one for their own memory budget.
  const given = [...(env.NODE_OPTIONS ?? '').split(/\s+/), ...execArgv]
    .map((a) => /^--max-semi-space-size=(\d+)$/.exec(a)?.[1])
    .filter((v) => v !== undefined)
    .at(-1);
  // The young generation is three semi-spaces at most, besides the heap: only where the memory has room for it too.
  const young = 3 * SEMI_SPACE_MB * 1024 * 1024;
  if (
    events >= LARGE_HISTORY &&
    (given === undefined || Number(given) < SEMI_SPACE_MB) &&
    needed + besides + young <= memory
  )
    flags.push(`--max-semi-space-size=${SEMI_SPACE_MB}`);
  return flags.length > 0 ? flags : undefined;
}

/** The memory this process may use: the container's limit where there is one, else the machine's. */
function usableMemory(): number {
  const constrained = process.constrainedMemory?.();
  return constrained && constrained > 0 ? Math.min(constrained, totalmem()) : totalmem();
}

/** Runs this command again with `flags` for V8, and exits with its exit code. */
function restartWith(flags: string[], events: number): void {
  process.stderr.write(`running again with ${flags.join(' ')} for a history of ${events} events\n`);
  const child = spawn(process.execPath, [...process.execArgv, ...flags, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [RESTARTED]: '1' },
  });
  // A stop meant for this process (Ctrl-C, or a Job being deleted) stops the rebuild doing the work.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    // HeapTooSmall: the history needs more memory than this process could restart with (see restartFlags).
    process.stderr.write(`\nrebuild failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
