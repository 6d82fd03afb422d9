// Graceful shutdown in a fixed order: stop accepting, drain consumers and relays, close broker and database.
import type { Logger } from './logger.ts';

export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
}

/** Runs the steps in order on SIGTERM/SIGINT (once), each bounded by the grace period, then exits. */
export function onShutdownSignal(
  log: Logger,
  steps: () => ShutdownStep[],
  graceMs: number,
): () => Promise<void> {
  let started: Promise<void> | undefined;
  const shutdown = () => {
    started ??= (async () => {
      log.info({ graceMs }, 'shutting down');
      const deadline = Date.now() + graceMs;
      for (const step of steps()) {
        const left = Math.max(deadline - Date.now(), 100);
        try {
          await Promise.race([
            step.run(),
            new Promise((_, reject) => setTimeout(() => reject(new Error('grace period exceeded')), left)),
          ]);
          log.info({ step: step.name }, 'shutdown step done');
        } catch (err) {
          log.error({ step: step.name, err: (err as Error).message }, 'shutdown step failed');
        }
      }
      log.info('shutdown complete');
    })();
    return started;
  };
  const handler = () => {
    void shutdown().then(() => process.exit(0));
  };
  // `on`, not `once`: a second signal during the drain must not kill the process with work in hand (the grace
  // period still bounds the drain).
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return shutdown;
}
