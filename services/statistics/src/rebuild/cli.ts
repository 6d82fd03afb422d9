// `npm run rebuild -w @samsyn/statistics`: rebuilds every statistics projection from the JetStream history with a
// progress bar and a final count; the running service keeps serving the old numbers until the swap.

import { spawn } from 'node:child_process';
import { totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Bus } from '@samsyn/bus';
import { migrate, openPostgres } from '@samsyn/db';
import { type BaseConfig, baseConfigSchema, createLogger, loadConfig } from '@samsyn/platform';
import { HeapTooSmall, type RebuildProgress, rebuild } from './rebuild.ts';

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
  try {
    await migrate(database, {
      schema: 'statistics',
      migrationsFolder: fileURLToPath(new URL('../db/migrations', import.meta.url)),
    });
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
  }
}

/** Set in the environment of a rebuild this command restarted with a larger heap, so it restarts only once. */
const RESTARTED = 'SAMSYN_REBUILD_RESTARTED';

/**
 * For a history larger than the default heap: the heap size to run again with, or undefined when this process was
 * already restarted or the memory it may use (the container's limit, else the machine's) leaves too little to spare.
 */
export function heapToRestartWith(
  err: HeapTooSmall,
  env: NodeJS.ProcessEnv = process.env,
  memory = usableMemory(),
): number | undefined {
  if (env[RESTARTED]) return undefined;
  // What the process needs besides its heap (code, buffers, PostgreSQL and NATS clients) and a margin.
  if (err.needed + 512 * 1024 * 1024 > memory) return undefined;
  return Math.ceil(err.needed / (1024 * 1024));
}

/** The memory this process may use: the container's limit where there is one, else the machine's. */
function usableMemory(): number {
  const constrained = process.constrainedMemory?.();
  return constrained && constrained > 0 ? Math.min(constrained, totalmem()) : totalmem();
}

/** Runs this command again with `heapMb` of heap, and exits with its exit code. */
function restartWithHeap(heapMb: number): void {
  process.stderr.write(
    `\nthe history needs a larger heap: running again with --max-old-space-size=${heapMb}\n`,
  );
  const child = spawn(
    process.execPath,
    [...process.execArgv, `--max-old-space-size=${heapMb}`, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, [RESTARTED]: '1' } },
  );
  // A stop meant for this process (Ctrl-C, or a Job being deleted) stops the rebuild doing the work.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    const heap = err instanceof HeapTooSmall ? heapToRestartWith(err) : undefined;
    if (heap !== undefined) return restartWithHeap(heap);
    process.stderr.write(`\nrebuild failed: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
