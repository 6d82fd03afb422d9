// The case-participant tables a service keeps in its own PostgreSQL schema (consent, plan-store), projected
// from the invitation stream so the service can tell who takes part in a case without asking invitation.
import { sql } from 'drizzle-orm';
import { check, index, type PgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export function caseProjectionTables(schema: PgSchema) {
  /** A SIP case this service knows of, with the unit that initiated it. */
  const cases = schema.table('sip_case', {
    id: uuid('id').primaryKey(),
    requesterOrg: text('requester_org').notNull(),
    /** From sip.case.initiated; null while only a later invitation event has been applied. */
    initiatedAt: timestamp('initiated_at', { withTimezone: true }),
  });
  /** One invited unit of a case (one per invitation); forwarding replaces the unit of its invitation. */
  const caseInvitees = schema.table(
    'case_invitee',
    {
      invitationId: uuid('invitation_id').primaryKey(),
      caseId: uuid('case_id').notNull(),
      org: text('org').notNull(),
      kind: text('kind').notNull(),
      /** Time of the event that set `org`; an older event never overwrites a newer one. */
      changedAt: timestamp('changed_at', { withTimezone: true }).notNull(),
    },
    (t) => [
      index('case_invitee_case_idx').on(t.caseId),
      index('case_invitee_org_idx').on(t.org),
      check('case_invitee_kind_ck', sql`${t.kind} in ('summoned','invited')`),
    ],
  );
  return { cases, caseInvitees };
}

export type CaseProjectionTables = ReturnType<typeof caseProjectionTables>;
