// Who may see a meeting and its names, and who takes part in it, derived from the case (SPEC §3, §7).
import type { DbOrTx } from '@samsyn/db';
import { and, eq, gt, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import {
  type AppointmentParticipant,
  type CaseRow,
  caseConsents,
  cases,
  type InvitationRow,
  invitations,
} from '../db/schema.ts';

/** A case is visible to the unit that initiated it and to every unit invited to it (SPEC §7). */
export function caseVisibleTo(org: string) {
  return or(
    eq(cases.requesterOrg, org),
    sql`exists (select 1 from ${invitations} where ${invitations.caseId} = ${cases.id} and ${invitations.org} = ${org})`,
  );
}

export async function canSeeCase(tx: DbOrTx, row: CaseRow, org: string): Promise<boolean> {
  if (row.requesterOrg === org) return true;
  const [hit] = await tx
    .select({ id: invitations.id })
    .from(invitations)
    .where(and(eq(invitations.caseId, row.id), eq(invitations.org, org)))
    .limit(1);
  return hit !== undefined;
}

/**
 * Whether the person's active consent covers `org` at `at`: only then may it see who the person brings
 * (relatives' names). The initiating unit always sees what it sent.
 */
export async function seesPersonData(
  tx: DbOrTx,
  row: CaseRow,
  org: string,
  at = new Date(),
): Promise<boolean> {
  return (await casesShowingPersonData(tx, [row], org, at)).has(row.id);
}

/** Of `rows`, the ids of the cases whose person data `org` may see at `at`. */
export async function casesShowingPersonData(
  tx: DbOrTx,
  rows: Pick<CaseRow, 'id' | 'requesterOrg'>[],
  org: string,
  at = new Date(),
): Promise<Set<string>> {
  const shown = new Set(rows.filter((r) => r.requesterOrg === org).map((r) => r.id));
  const others = rows.filter((r) => !shown.has(r.id)).map((r) => r.id);
  if (others.length === 0) return shown;
  const consents = await tx
    .select({ caseId: caseConsents.caseId })
    .from(caseConsents)
    .where(
      and(
        inArray(caseConsents.caseId, others),
        eq(caseConsents.status, 'active'),
        lte(caseConsents.periodStart, at),
        or(isNull(caseConsents.periodEnd), gt(caseConsents.periodEnd, at)),
        sql`${org} = any(${caseConsents.coveredOrgs})`,
      ),
    );
  for (const c of consents) shown.add(c.caseId);
  return shown;
}

/** Invitations whose unit is still expected: not rejected (a substitute took over) and not cancelled. */
export function openInvitations(list: InvitationRow[]): InvitationRow[] {
  return list
    .filter((i) => i.status === 'requested' || i.status === 'accepted')
    .sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime());
}

/**
 * The organisations of a booked meeting follow the case: the initiator and every open invitation, so a
 * substitute or a forwarded invitation joins and the unit that left drops out. Answers and attendance already
 * given are kept; the person and relatives are as booked.
 */
export function meetingParticipants(
  stored: AppointmentParticipant[],
  row: CaseRow,
  list: InvitationRow[],
): AppointmentParticipant[] {
  const previous = new Map(stored.filter((p) => p.type === 'org' && p.org).map((p) => [p.org, p]));
  const initiator = previous.get(row.requesterOrg);
  const orgs: AppointmentParticipant[] = [
    { type: 'org', org: row.requesterOrg, answer: initiator?.answer ?? 'accepted' },
    ...openInvitations(list)
      .filter((i) => i.org !== row.requesterOrg)
      .map((i) => {
        const before = previous.get(i.org);
        return {
          type: 'org' as const,
          org: i.org,
          kind: i.kind as 'summoned' | 'invited',
          answer: before?.answer ?? 'needs-action',
          ...(before?.attendance ? { attendance: before.attendance } : {}),
        };
      }),
  ];
  if (initiator?.attendance) (orgs[0] as AppointmentParticipant).attendance = initiator.attendance;
  return [...orgs, ...stored.filter((p) => p.type !== 'org')];
}
