// Keeps the partitioned parents' statistics current while the live consumers grow the live generation: autovacuum
// analyzes partitions but never a partitioned parent, whose statistics PostgreSQL plans joins with.
import type postgres from 'postgres';
import { analyzeParents } from './partition.ts';

export class ParentStatistics {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: {
      client: postgres.Sql;
      log: { warn: (obj: object, msg: string) => void };
      /** First run after start, then every `everyMs`. */
      firstMs: number;
      everyMs: number;
    },
  ) {}

  start(): void {
    this.schedule(this.options.firstMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.running = analyzeParents(this.options.client)
        .then(
          () => {},
          (err: unknown) =>
            this.options.log.warn(
              { err },
              'statistics: analyzing the projection parents failed; trying again later',
            ),
        )
        .then(() => {
          // Unless stopped meanwhile.
          if (this.timer) this.schedule(this.options.everyMs);
        });
    }, ms);
    this.timer.unref();
  }
}
