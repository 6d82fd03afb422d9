// Use case: the invited unit answers its invitation — accept, reject (a summoned principal names a substitute),
// or forward to another unit of the same principal (SPEC §4).
import { randomUUID } from 'node:crypto';
import { enqueue } from '@samsyn/bus';
import { events } from '@samsyn/contracts';
import type { Db, Tx } from '@samsyn/db';
import {
  BusinessRuleViolation,
  checkHsaId,
  Forbidden,
  InvalidRequest,
  NotFound,
  requireIfMatch,
  StateConflict,
} from '@samsyn/fhir';
import { and, eq, sql } from 'drizzle-orm';
import { lockCase, SOURCE } from '../case/transition.ts';
import { samePrincipal } from '../case-coverage/coverage.ts';
import type { InvitationConfig } from '../config.ts';
import { type CaseRow, type InvitationRow, invitations, outbox } from '../db/schema.ts';
import { cancelInvitationTimers, scheduleInvitationTimers } from '../deadlines/schedule.ts';

export type InvitationAnswer =
  | { kind: 'accept' }
  | { kind: 'reject'; reason: string; substituteOrg?: string }
  | { kind: 'forward'; toOrg: string };

export interface AnswerContext {
  callerOrg: string;
  callerUser: string;
  /** More writes for the answer's own transaction (the access-log entry). */
  onCommit?: (tx: Tx, row: CaseRow) => Promise<void>;
  ifMatch?: string;
  traceparent?: string;
  config: InvitationConfig;
  now?: Date;
}

const ENDED = new Set(['closed', 'cancelled']);

export async function answerInvitation(
  db: Db,
  invitationId: string,
  answer: InvitationAnswer,
  ctx: AnswerContext,
): Promise<{ invitation: InvitationRow; row: CaseRow; created?: InvitationRow }> {
  const now = ctx.now ?? new Date();
  /** The answer itself, inside the transaction that also logs it. */
  const apply = async (tx: Tx) => {
    const [found] = await tx.select().from(invitations).where(eq(invitations.id, invitationId)).limit(1);
    const row = found ? await lockCase(tx, found.caseId) : undefined;
    if (!found || !row || (found.org !== ctx.callerOrg && row.requesterOrg !== ctx.callerOrg)) {
      throw new NotFound('Task', invitationId);
    }
    const [inv] = await tx.select().from(invitations).where(eq(invitations.id, invitationId)).for('update');
    if (!inv) throw new NotFound('Task', invitationId);
    if (inv.org !== ctx.callerOrg) {
      throw new Forbidden(`Only the invited unit ${inv.org} may answer this invitation`);
    }
    if (ctx.ifMatch !== undefined) requireIfMatch(ctx.ifMatch, inv.versionId);
    if (ENDED.has(row.status)) {
      throw new StateConflict(
        'case-ended',
        `The case is '${row.status}'; its invitations can no longer be answered`,
      );
    }
    if (inv.status !== 'requested') {
      throw new StateConflict(
        'already-answered',
        `The invitation is already '${inv.status}'; it can be answered once`,
      );
    }
    const base = {
      caseId: row.id,
      invitationId: inv.id,
      org: inv.org,
      kind: inv.kind as 'summoned' | 'invited',
      at: now.toISOString(),
    };
    const meta = {
      aggregate: row.id,
      source: SOURCE,
      time: now,
      ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
    };
    const bump = { versionId: sql`${invitations.versionId} + 1`, lastUpdated: now };

    if (answer.kind === 'accept') {
      const [updated] = await tx
        .update(invitations)
        .set({ status: 'accepted', answeredAt: now, answeredBy: ctx.callerUser, ...bump })
        .where(eq(invitations.id, inv.id))
        .returning();
      await cancelInvitationTimers(tx, inv.id, now);
      await enqueue(tx, outbox, events.invitationAccepted, { ...base, requesterOrg: row.requesterOrg }, meta);
      return { invitation: updated as InvitationRow, row };
    }

    if (answer.kind === 'reject') {
      if (!answer.reason.trim()) {
        throw new InvalidRequest('reason-required', 'Task.statusReason.text: say why the unit declines');
      }
      let substitute: InvitationRow | undefined;
      if (inv.kind === 'summoned') {
        // SPEC §4: a summoned principal cannot reject without naming the unit that will come.
        if (!answer.substituteOrg) {
          throw new BusinessRuleViolation(
            'substitute-required',
            'A summoned principal cannot reject without naming the unit that will come: add Task.output with type substitute and the HSA-id of that unit',
          );
        }
        substitute = await createSubstitute(tx, row, inv, answer.substituteOrg, ctx, now);
      } else if (answer.substituteOrg) {
        substitute = await createSubstitute(tx, row, inv, answer.substituteOrg, ctx, now);
      }
      const [updated] = await tx
        .update(invitations)
        .set({
          status: 'rejected',
          reason: answer.reason.trim(),
          substituteOrg: answer.substituteOrg ?? null,
          answeredAt: now,
          answeredBy: ctx.callerUser,
          ...bump,
        })
        .where(eq(invitations.id, inv.id))
        .returning();
      await cancelInvitationTimers(tx, inv.id, now);
      await enqueue(
        tx,
        outbox,
        events.invitationRejected,
        {
          ...base,
          requesterOrg: row.requesterOrg,
          reason: answer.reason.trim().slice(0, 500),
          ...(answer.substituteOrg ? { substituteOrg: answer.substituteOrg } : {}),
        },
        meta,
      );
      if (substitute) {
        await enqueue(
          tx,
          outbox,
          events.invitationCreated,
          {
            caseId: row.id,
            invitationId: substitute.id,
            org: substitute.org,
            kind: substitute.kind as 'summoned' | 'invited',
            at: now.toISOString(),
            requesterOrg: row.requesterOrg,
            cause: 'substitute',
            replaces: inv.id,
          },
          meta,
        );
      }
      return { invitation: updated as InvitationRow, row, ...(substitute ? { created: substitute } : {}) };
    }

    // Forward: the owner changes, the status stays requested.
    const toOrg = checkedOrg(answer.toOrg, 'Task.owner.identifier.value');
    if (!samePrincipal(toOrg, inv.org)) {
      throw new BusinessRuleViolation(
        'forward-other-principal',
        `An invitation may be forwarded only within the same principal: ${toOrg} does not belong to the principal of ${inv.org}`,
      );
    }
    await assertNotInCase(tx, row, toOrg);
    const [updated] = await tx
      .update(invitations)
      .set({
        org: toOrg,
        forwardedFrom: sql`array_append(${invitations.forwardedFrom}, ${inv.org})`,
        ...bump,
      })
      .where(eq(invitations.id, inv.id))
      .returning();
    await cancelInvitationTimers(tx, inv.id, now);
    await scheduleInvitationTimers(tx, row, updated as InvitationRow, ctx.config, now);
    await enqueue(
      tx,
      outbox,
      events.invitationForwarded,
      { ...base, toOrg, requesterOrg: row.requesterOrg },
      meta,
    );
    return { invitation: updated as InvitationRow, row };
  };
  return db.transaction(async (tx) => {
    const result = await apply(tx);
    // The access-log entry of the change commits with it.
    await ctx.onCommit?.(tx, result.row);
    return result;
  });
}

function checkedOrg(value: string, expression: string): string {
  const hsa = checkHsaId(value);
  if (!hsa.ok)
    throw new InvalidRequest('invalid-hsa-id', [
      { diagnostics: `${expression}: ${hsa.reason}`, expression: [expression] },
    ]);
  return hsa.value;
}

async function assertNotInCase(
  tx: Parameters<Parameters<Db['transaction']>[0]>[0],
  row: CaseRow,
  org: string,
) {
  if (org === row.requesterOrg) {
    throw new StateConflict('already-in-case', `${org} initiated this case and takes part already`);
  }
  const [existing] = await tx
    .select({ status: invitations.status })
    .from(invitations)
    .where(and(eq(invitations.caseId, row.id), eq(invitations.org, org)))
    .limit(1);
  if (existing)
    throw new StateConflict(
      'already-in-case',
      `${org} is already invited to this case (status '${existing.status}')`,
    );
}

async function createSubstitute(
  tx: Parameters<Parameters<Db['transaction']>[0]>[0],
  row: CaseRow,
  rejected: InvitationRow,
  substituteOrg: string,
  ctx: AnswerContext,
  now: Date,
): Promise<InvitationRow> {
  const org = checkedOrg(substituteOrg, 'Task.output.valueReference.identifier.value');
  if (rejected.kind === 'summoned' && !samePrincipal(org, rejected.org)) {
    throw new BusinessRuleViolation(
      'substitute-other-principal',
      `The substitute must be a unit of the same principal as ${rejected.org}; ${org} is not`,
    );
  }
  await assertNotInCase(tx, row, org);
  const substitute: InvitationRow = {
    id: randomUUID(),
    caseId: row.id,
    org,
    kind: rejected.kind,
    status: 'requested',
    reason: null,
    substituteOrg: null,
    replaces: rejected.id,
    forwardedFrom: [],
    answeredAt: null,
    answeredBy: null,
    versionId: 1,
    lastUpdated: now,
    createdAt: now,
  };
  await tx.insert(invitations).values(substitute);
  await scheduleInvitationTimers(tx, row, substitute, ctx.config, now);
  return substitute;
}
