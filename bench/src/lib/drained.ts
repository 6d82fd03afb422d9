// Whether every durable consumer of a Samsyn instance has applied everything on its stream: what "the work an
// operation caused has finished" means across all five services, whatever tables they keep.
import { connect } from 'nats';

/** Waits until every consumer on the namespace's streams has nothing pending or unacknowledged. */
export async function waitUntilDrained(
  natsUrl: string,
  namespace: string,
  timeoutMs = 300_000,
): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    const prefix = `${namespace.toUpperCase()}_`;
    const end = Date.now() + timeoutMs;
    for (;;) {
      let busy = 0;
      for await (const stream of jsm.streams.list()) {
        if (!stream.config.name.startsWith(prefix)) continue;
        for await (const c of jsm.consumers.list(stream.config.name))
          busy += c.num_pending + c.num_ack_pending;
      }
      if (busy === 0) return;
      if (Date.now() > end) throw new Error(`consumers still have ${busy} messages after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await nc.close();
  }
}
