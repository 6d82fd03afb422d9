// Use case: the initiating unit withdraws its initiative; the case is cancelled with its open invitations.
import type { Db, Tx } from '@samsyn/db';
import { Forbidden, NotFound, requireIfMatch } from '@samsyn/fhir';
import { eq, sql } from 'drizzle-orm';
import { cancelOpenInvitations, participates } from '../case/invitations.ts';
import { lockCase, transitionCase } from '../case/transition.ts';
import { type CaseRow, cases } from '../db/schema.ts';
import { cancelInvitationTimers } from '../deadlines/schedule.ts';

export interface WithdrawContext {
  callerOrg: string;
  reason?: string;
  /** Why: the initiator withdrew (default), or the person ended the SIP. */
  code?: 'withdrawn' | 'person-declined';
  /** More writes for the withdrawal's own transaction (the access-log entry). */
  onCommit?: (tx: Tx, row: CaseRow) => Promise<void>;
  ifMatch?: string;
  traceparent?: string;
  now?: Date;
}

export async function withdrawCase(db: Db, caseId: string, ctx: WithdrawContext): Promise<CaseRow> {
  const now = ctx.now ?? new Date();
  return db.transaction(async (tx) => {
    const result = await (async () => {
      const row = await lockCase(tx, caseId);
      const visible = row !== undefined && (await participates(tx, row, ctx.callerOrg));
      if (!row || !visible) throw new NotFound('Task', caseId);
      if (row.requesterOrg !== ctx.callerOrg) {
        throw new Forbidden(`Only the initiating unit ${row.requesterOrg} may withdraw the initiative`);
      }
      if (ctx.ifMatch !== undefined) requireIfMatch(ctx.ifMatch, row.versionId);
      const updated = await transitionCase(tx, row, 'cancelled', {
        reason: ctx.code ?? 'withdrawn',
        byOrg: ctx.callerOrg,
        at: now,
        ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
      });
      for (const id of await cancelOpenInvitations(tx, row.id, now))
        await cancelInvitationTimers(tx, id, now);
      if (!ctx.reason) return updated;
      // The initiator's words are kept with the Task as it sent it (the reason code is 'withdrawn').
      const [withText] = await tx
        .update(cases)
        .set({
          resource: sql`${cases.resource} || ${JSON.stringify({ statusReason: { text: ctx.reason } })}::jsonb`,
        })
        .where(eq(cases.id, row.id))
        .returning();
      return withText ?? updated;
    })();
    // The access-log entry of the change commits with it.
    await ctx.onCommit?.(tx, result);
    return result;
  });
}
