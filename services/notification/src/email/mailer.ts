// Sends the queued e-mails over SMTP (nodemailer): one per notification, or one digest per address; a failure is
// retried with backoff and, after the last try, marked failed on the notification. Nothing is lost: rows stay.

import { PollLoop } from '@samsyn/bus';
import type { Db } from '@samsyn/db';
import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import nodemailer, { type Transporter } from 'nodemailer';
import { communications, emailDeliveries } from '../db/schema.ts';
import { NOTIFICATION_TYPES, type NotificationType } from '../notify/rules.ts';

export interface MailerOptions {
  db: Db;
  smtpUrl?: string;
  from: string;
  publicUrl: string;
  backoffMs: number[];
  pollMs: number;
  log: {
    warn(o: object, m: string): void;
    error(o: object, m: string): void;
    debug(o: object, m: string): void;
  };
  /** Called on each failed send: 'retry' while tries remain, 'gave-up' after the last (counted as a metric). */
  onFailure?: (reason: 'retry' | 'gave-up') => void;
  /** Called with the notifications whose e-mail state changed (for live updates). */
  onStateChanged?: (changed: { id: string; recipientOrg: string }[]) => void;
}

type Delivery = typeof emailDeliveries.$inferSelect;

export class Mailer {
  private readonly transport: Transporter | undefined;
  private readonly loop: PollLoop;

  constructor(private readonly options: MailerOptions) {
    this.transport = options.smtpUrl
      ? nodemailer.createTransport(options.smtpUrl, {
          connectionTimeout: 5000,
          greetingTimeout: 5000,
          socketTimeout: 10_000,
        } as never)
      : undefined;
    this.loop = new PollLoop({
      work: () => this.sendDue(),
      pollMs: options.pollMs,
      onError: (err) => options.log.error({ err: err.message }, 'e-mail worker failed; will retry'),
    });
  }

  get enabled(): boolean {
    return this.transport !== undefined;
  }

  start(): void {
    if (this.transport) this.loop.start();
  }

  kick(): void {
    this.loop.kick();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    this.transport?.close();
  }

  /** Sends one batch of due e-mails; returns how many deliveries it settled (sent, retried or failed). */
  async sendDue(now = new Date()): Promise<number> {
    const { db } = this.options;
    const transport = this.transport;
    if (!transport) return 0;
    const changed = await db.transaction(async (tx) => {
      // Locked rows are skipped, so replicas never send the same e-mail twice at once.
      const due = await tx
        .select()
        .from(emailDeliveries)
        .where(and(eq(emailDeliveries.state, 'pending'), lte(emailDeliveries.nextAttemptAt, now)))
        .orderBy(asc(emailDeliveries.nextAttemptAt))
        .limit(25)
        .for('update', { skipLocked: true });
      if (due.length === 0) return [];
      // A due digest line takes every other pending digest line for the same address with it.
      const digestAddresses = [...new Set(due.filter((d) => d.digest).map((d) => d.address))];
      const companions =
        digestAddresses.length > 0
          ? await tx
              .select()
              .from(emailDeliveries)
              .where(
                and(
                  eq(emailDeliveries.state, 'pending'),
                  eq(emailDeliveries.digest, true),
                  inArray(emailDeliveries.address, digestAddresses),
                ),
              )
              .for('update', { skipLocked: true })
          : [];
      const all = new Map<string, Delivery>([...due, ...companions].map((d) => [d.id, d]));
      const groups: Delivery[][] = [];
      for (const d of all.values()) if (!d.digest) groups.push([d]);
      for (const address of digestAddresses)
        groups.push([...all.values()].filter((d) => d.digest && d.address === address));
      const notes = await tx
        .select()
        .from(communications)
        .where(inArray(communications.id, [...new Set([...all.values()].map((d) => d.communicationId))]));
      const byId = new Map(notes.map((n) => [n.id, n]));
      for (const group of groups) {
        const items = group.map((d) => byId.get(d.communicationId)).filter((n) => n !== undefined);
        const first = group[0];
        if (!first || items.length === 0) continue;
        const ids = group.map((d) => d.id);
        try {
          await transport.sendMail({
            from: this.options.from,
            to: first.address,
            ...this.compose(items, first.digest),
          });
          await tx
            .update(emailDeliveries)
            .set({
              state: 'sent',
              sentAt: new Date(),
              attempts: sql`${emailDeliveries.attempts} + 1`,
              lastError: null,
            })
            .where(inArray(emailDeliveries.id, ids));
        } catch (err) {
          const attempts = first.attempts + 1;
          const { backoffMs } = this.options;
          const failed = attempts > backoffMs.length;
          const message = (err as Error).message.slice(0, 500);
          this.options.onFailure?.(failed ? 'gave-up' : 'retry');
          this.options.log.warn(
            { err: message, to: first.address, attempts, failed },
            failed ? 'e-mail failed for good' : 'e-mail failed; will retry',
          );
          await tx
            .update(emailDeliveries)
            .set({
              attempts: sql`${emailDeliveries.attempts} + 1`,
              lastError: message,
              ...(failed
                ? { state: 'failed' }
                : { nextAttemptAt: new Date(Date.now() + (backoffMs[attempts - 1] ?? 60_000)) }),
            })
            .where(inArray(emailDeliveries.id, ids));
        }
      }
      const commIds = [...new Set([...all.values()].map((d) => d.communicationId))];
      // The notification shows the worst outcome of its e-mails: failed, else pending, else sent.
      const updated = await tx
        .update(communications)
        .set({
          emailState: sql`(select case when bool_or(state = 'failed') then 'failed' when bool_or(state = 'pending') then 'pending' else 'sent' end
            from ${emailDeliveries} where ${emailDeliveries.communicationId} = ${communications.id})`,
          versionId: sql`${communications.versionId} + 1`,
          lastUpdated: new Date(),
        })
        .where(inArray(communications.id, commIds))
        .returning({ id: communications.id, recipientOrg: communications.recipientOrg });
      return updated;
    });
    if (changed.length > 0) this.options.onStateChanged?.(changed);
    return changed.length;
  }

  private compose(
    items: { category: string; text: string; link: string | null; sentAt: Date }[],
    digest: boolean,
  ): { subject: string; text: string } {
    const title = (c: string) => NOTIFICATION_TYPES[c as NotificationType] ?? 'Notis';
    const url = (link: string | null) => `${this.options.publicUrl.replace(/\/$/, '')}${link ?? '/inbox'}`;
    const footer =
      '\n\n--\nDetta meddelande är skickat av Samsyn. Det innehåller inga personuppgifter; logga in för att se ärendet.';
    if (!digest || items.length === 1) {
      const [n] = items;
      if (!n) return { subject: 'Samsyn', text: '' };
      return {
        subject: `Samsyn: ${title(n.category)}`,
        text: `${n.text}\n\nÖppna i Samsyn: ${url(n.link)}${footer}`,
      };
    }
    const lines = items.map((n) => `• ${title(n.category)}: ${n.text}\n  ${url(n.link)}`);
    return {
      subject: `Samsyn: ${items.length} nya notiser`,
      text: `Sammanställning av nya notiser till er enhet:\n\n${lines.join('\n\n')}${footer}`,
    };
  }
}
