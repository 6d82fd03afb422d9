// Which e-mails a new notification calls for: the unit's mailbox and each staff member who asked (SPEC §9).
import { randomUUID } from 'node:crypto';
import type { Tx } from '@samsyn/db';
import { inArray } from 'drizzle-orm';
import {
  type CommunicationRow,
  communications,
  type EmailPreferenceRow,
  emailDeliveries,
  emailPreferences,
} from '../db/schema.ts';

/** The e-mail preferences of these recipient organisations (a query to send with the notifications' insert). */
export function emailPreferencesOf(tx: Tx, orgs: readonly string[]) {
  return tx
    .select()
    .from(emailPreferences)
    .where(inArray(emailPreferences.org, [...new Set(orgs)]));
}

/**
 * Queues the e-mails for freshly stored notifications, in their transaction, so none is lost; `prefs` are the
 * recipients' preferences (emailPreferencesOf).
 */
export async function planEmails(
  tx: Tx,
  rows: CommunicationRow[],
  prefs: readonly EmailPreferenceRow[],
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  const wanted = prefs.filter((p) => p.mode !== 'off');
  if (wanted.length === 0) return;
  const deliveries: (typeof emailDeliveries.$inferInsert)[] = [];
  const withEmail: string[] = [];
  for (const row of rows) {
    const forRow = wanted.filter(
      (p) =>
        p.org === row.recipientOrg &&
        (p.userId === '' || !row.recipientUser || p.userId === row.recipientUser),
    );
    const seen = new Set<string>();
    for (const p of forRow) {
      const address = p.address.toLowerCase();
      if (seen.has(address)) continue;
      seen.add(address);
      const digest = p.mode === 'digest';
      deliveries.push({
        id: randomUUID(),
        communicationId: row.id,
        address: p.address,
        digest,
        nextAttemptAt: digest ? new Date(now.getTime() + p.digestMinutes * 60_000) : now,
      });
    }
    if (seen.size > 0) withEmail.push(row.id);
  }
  if (deliveries.length === 0) return;
  await tx.insert(emailDeliveries).values(deliveries).onConflictDoNothing();
  await tx.update(communications).set({ emailState: 'pending' }).where(inArray(communications.id, withEmail));
}
