// Watches staff inboxes the way the inbox page does: one Server-Sent Events stream per unit
// (GET /fhir/Communication/$stream), which pushes each notification once it is stored. The load generator learns
// that an initiative is visible in a unit's inbox from the push, instead of polling searches that would load the
// system many times more than the initiatives themselves.
import { Agent, request } from 'undici';

export class InboxWatch {
  private readonly agent: Agent;
  /** `${taskId}|${org}` → when its notification arrived (performance.now()). */
  private readonly seen = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private readonly closers: (() => void)[] = [];

  constructor(
    private readonly base: string,
    readonly orgs: readonly string[],
    private readonly token: (org: string) => Promise<string>,
  ) {
    this.agent = new Agent({ connections: orgs.length + 1, bodyTimeout: 0, headersTimeout: 30_000 });
  }

  /** Opens every unit's stream and resolves once each has said it is ready. */
  async open(): Promise<void> {
    await Promise.all(this.orgs.map((org) => this.watch(org)));
  }

  private async watch(org: string): Promise<void> {
    const controller = new AbortController();
    this.closers.push(() => controller.abort());
    const res = await request(`${this.base}/fhir/Communication/$stream`, {
      dispatcher: this.agent,
      headers: { authorization: `Bearer ${await this.token(org)}`, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    if (res.statusCode !== 200) throw new Error(`$stream for ${org} answered ${res.statusCode}`);
    let ready: () => void = () => {};
    const isReady = new Promise<void>((r) => (ready = r));
    let buffer = '';
    res.body.setEncoding('utf8');
    res.body.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: ?(.*)$/m.exec(block)?.[1];
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.replace(/^data: ?/, ''))
          .join('\n');
        if (event === 'ready') ready();
        if (event !== 'communication') continue;
        // `about` names the invitation's Task and the initiative's (the case) when they differ.
        for (const ref of (JSON.parse(data) as { about?: { reference?: string }[] }).about ?? [])
          if (ref.reference?.startsWith('Task/')) this.arrived(`${ref.reference.slice(5)}|${org}`);
      }
    });
    res.body.on('error', () => {
      // Aborted on close, or the server went away; waiters time out.
    });
    await isReady;
  }

  private arrived(key: string): void {
    if (!this.seen.has(key)) this.seen.set(key, performance.now());
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves with when the last of `orgs` received its notification about Task `taskId` (performance.now()). */
  waitFor(taskId: string, orgs: readonly string[], timeoutMs = 30_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const times = orgs.map((org) => this.seen.get(`${taskId}|${org}`));
        if (times.every((t) => t !== undefined)) {
          done();
          for (const org of orgs) this.seen.delete(`${taskId}|${org}`);
          resolve(Math.max(...(times as number[])));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `notifications for Task/${taskId} not pushed to all of ${orgs.join(', ')} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    for (const close of this.closers) close();
    await this.agent.close();
  }
}
