// The loop of a background worker that polls the database (the outbox relay, e-mail, subscription pushes, deadline
// timers): run the work at start, every pollMs and at once on kick(); while a round reports work done, run again
// without waiting. A failed round is reported and tried again at the next tick (or after the delay onError
// returns); stop() waits for the round in progress.

export interface PollLoopOptions {
  /** One round; returns how much it did (0: nothing more due now). */
  work: () => Promise<number>;
  pollMs: number;
  /** Reports a failed round; may return (or resolve to) how long to wait before the next one instead of pollMs. */
  onError: (err: Error) => unknown;
}

export class PollLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: PollLoopOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Runs a round now instead of at the next tick (after a commit that made work due). */
  kick(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let delay = this.options.pollMs;
      try {
        while (this.running && (await this.options.work()) > 0) {
          // More is due.
        }
      } catch (err) {
        const backoff = await this.options.onError(err as Error);
        if (typeof backoff === 'number') delay = backoff;
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
