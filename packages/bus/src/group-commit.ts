// Group commit: small writes that arrive together (the access-log entry of each read, above all) share one
// transaction, so N concurrent reads cost one commit and one WAL flush instead of N, and one relay wake-up.
import { type Db, pipeline, type Tx } from '@samsyn/db';

type Work = (tx: Tx) => Promise<unknown>;

interface Pending {
  work: Work;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  /** Most work items in one transaction. */
  maxBatch?: number;
  /** Called after each commit (e.g. to wake the outbox relay). */
  afterCommit?: () => void;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly db: Db,
    private readonly options: GroupCommitOptions = {},
  ) {}

  /**
   * Runs `work` in a transaction shared with whatever else is waiting, and resolves once that transaction has
   * committed — the caller may rely on the write being durable, exactly as with a transaction of its own.
   */
  run(work: Work): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ work, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch ?? 200);
        try {
          // The items are independent: their statements go out together (one round trip for the batch).
          await this.db.transaction((tx) => pipeline(batch.map((item) => () => item.work(tx))));
          for (const item of batch) item.resolve();
        } catch {
          // One failing item must not fail the others: each is tried again in a transaction of its own.
          await Promise.all(
            batch.map((item) => this.db.transaction((tx) => item.work(tx)).then(item.resolve, item.reject)),
          );
        }
        this.options.afterCommit?.();
      }
    } finally {
      this.flushing = false;
    }
  }
}
