// Use case: a staff member marks a notification read or done (or unread again); the version moves on each change.
import type { Db } from '@samsyn/db';
import { requireIfMatch } from '@samsyn/fhir';
import { and, eq, sql } from 'drizzle-orm';
import { type CommunicationRow, communications } from '../db/schema.ts';
import { findOwnRow, type InboxState } from '../read-communication/communication.ts';

export interface MarkContext {
  org: string;
  user: string;
  ifMatch?: string;
  now?: Date;
}

export async function markCommunication(
  db: Db,
  id: string,
  state: InboxState,
  ctx: MarkContext,
): Promise<{ row: CommunicationRow; changed: boolean }> {
  const current = await findOwnRow(db, id, ctx.org);
  if (ctx.ifMatch !== undefined) requireIfMatch(ctx.ifMatch, current.versionId);
  if (current.inboxState === state) return { row: current, changed: false };
  const [row] = await db
    .update(communications)
    .set({
      inboxState: state,
      stateChangedBy: ctx.user,
      versionId: sql`${communications.versionId} + 1`,
      lastUpdated: ctx.now ?? new Date(),
    })
    .where(
      and(
        eq(communications.id, id),
        eq(communications.recipientOrg, ctx.org),
        // Optimistic: a concurrent change in between makes this a no-op, answered with the newer version.
        eq(communications.versionId, current.versionId),
      ),
    )
    .returning();
  if (row) return { row, changed: true };
  return { row: await findOwnRow(db, id, ctx.org), changed: false };
}
