// Live updates for open inboxes: a core-NATS ping per unit when its notifications change, so every replica's
// SSE streams hear about changes made by any replica (no JetStream: a missed ping is caught up by a reload).
import type { Bus } from '@samsyn/bus';

export interface LiveChange {
  id: string;
  change: 'created' | 'updated';
}

export class LiveHub {
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  constructor(private readonly bus: Bus) {}

  private subject(org: string): string {
    return this.bus.naming.subject(`samsyn.live.communication.${org}`);
  }

  publish(org: string, change: LiveChange): void {
    if (this.bus.nc.isClosed()) return;
    this.bus.nc.publish(this.subject(org), this.encoder.encode(JSON.stringify(change)));
  }

  /** Calls `onChange` for each change to `org`'s notifications until the returned function is called. */
  subscribe(org: string, onChange: (change: LiveChange) => void): () => void {
    const sub = this.bus.nc.subscribe(this.subject(org), {
      callback: (err, msg) => {
        if (err) return;
        try {
          onChange(JSON.parse(this.decoder.decode(msg.data)) as LiveChange);
        } catch {
          // A malformed ping is ignored; the stream stays open.
        }
      },
    });
    return () => sub.unsubscribe();
  }

  /** Waits until the subscription is registered at the server (so a test's next event is not missed). */
  flush(): Promise<void> {
    return this.bus.nc.flush();
  }
}
