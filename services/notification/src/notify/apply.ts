// Use case: an event arrives; the case's parties are updated and each notification it calls for is stored once,
// with its e-mails and subscription events, in the consumer's transaction (SPEC §6: applied once, replay-safe).
import { randomUUID } from 'node:crypto';
import type { ConsumedEvent, Handler, Handlers } from '@samsyn/bus';
import type { EventName } from '@samsyn/contracts';
import { pipeline, type Tx } from '@samsyn/db';
import { eq, sql } from 'drizzle-orm';
import { type CommunicationRow, caseParties, communications, meetings } from '../db/schema.ts';
import { emailPreferencesOf, planEmails } from '../email/plan.ts';
import { liveSubscriptions, recordTopicEvent, topicChanges } from '../subscription/topics.ts';
import { type Draft, NEEDS_PARTIES, NEEDS_REQUESTER, type Party, partiesIn, RULES } from './rules.ts';

/** The case is not known yet (its sip.case.initiated is still on its way): retried with backoff, not lost. */
export class CaseNotKnownYet extends Error {}

const ROLE_RANK: Record<string, number> = { participant: 0, invitee: 1, lead: 2, requester: 3 };

async function rememberParties(tx: Tx, caseId: string, parties: Party[]): Promise<void> {
  if (parties.length === 0) return;
  const byOrg = new Map<string, Party>();
  for (const p of parties) {
    const seen = byOrg.get(p.org);
    if (!seen || (ROLE_RANK[p.role] ?? 0) > (ROLE_RANK[seen.role] ?? 0)) byOrg.set(p.org, p);
  }
  await tx
    .insert(caseParties)
    .values([...byOrg.values()].map((p) => ({ caseId, org: p.org, role: p.role })))
    .onConflictDoUpdate({
      target: [caseParties.caseId, caseParties.org],
      set: { role: sql`excluded.role` },
      // Keep the strongest role: a requester stays requester when it is also named a participant.
      setWhere: sql`(case excluded.role when 'requester' then 3 when 'lead' then 2 when 'invitee' then 1 else 0 end)
        > (case ${caseParties.role} when 'requester' then 3 when 'lead' then 2 when 'invitee' then 1 else 0 end)`,
    });
}

/** Keeps the meeting as booked, for the citizen kallelse (place, language, units; never the person). */
async function rememberMeeting<N extends EventName>(
  tx: Tx,
  name: N,
  data: ConsumedEvent<N>['data'],
): Promise<void> {
  if (name === 'meetingScheduled') {
    const d = data as ConsumedEvent<'meetingScheduled'>['data'];
    const values = {
      caseId: d.caseId,
      start: new Date(d.start),
      end: new Date(d.end),
      mode: d.mode,
      location: d.location ?? null,
      language: d.language ?? null,
      orgs: d.orgs,
      orgNames: d.orgNames ?? null,
      personProtected: d.personProtected ?? false,
      status: 'booked',
      updatedAt: new Date(d.at),
    };
    await tx
      .insert(meetings)
      .values({ appointmentId: d.appointmentId, ...values })
      .onConflictDoUpdate({
        target: meetings.appointmentId,
        set: values,
        setWhere: sql`${meetings.updatedAt} <= excluded.updated_at`,
      });
  } else if (name === 'meetingCancelled' || name === 'meetingHeld') {
    const d = data as ConsumedEvent<'meetingCancelled'>['data'];
    await tx
      .update(meetings)
      .set({ status: name === 'meetingCancelled' ? 'cancelled' : 'held' })
      .where(eq(meetings.appointmentId, d.appointmentId));
  }
}

export function dedupeKey(draft: Pick<Draft, 'type' | 'recipientOrg' | 'meaning'>): string {
  return `${draft.type}|${draft.recipientOrg}|${draft.meaning}`;
}

/** Stores the notifications (once each, by meaning) and queues their e-mails; returns those that are new. */
export async function storeDrafts(
  tx: Tx,
  drafts: Draft[],
  source: { eventId: string; time: Date },
  now = new Date(),
): Promise<CommunicationRow[]> {
  if (drafts.length === 0) return [];
  const [inserted, prefs] = await pipeline([
    () =>
      tx
        .insert(communications)
        .values(
          drafts.map((d) => ({
            id: randomUUID(),
            recipientOrg: d.recipientOrg,
            recipientUser: d.recipientUser ?? null,
            senderOrg: d.senderOrg ?? null,
            category: d.type,
            caseId: d.caseId,
            about: d.about,
            priority: d.priority,
            text: d.text,
            link: d.link,
            sourceEventId: source.eventId,
            dedupeKey: dedupeKey(d),
            sentAt: source.time,
            lastUpdated: now,
          })),
        )
        .onConflictDoNothing({ target: communications.dedupeKey })
        .returning(),
    () =>
      emailPreferencesOf(
        tx,
        drafts.map((d) => d.recipientOrg),
      ),
  ]);
  await planEmails(tx, inserted, prefs, now);
  return inserted;
}

/**
 * Applies one event: the case's parties, the meeting, the subscription events, and the notifications it calls
 * for, which it returns (those stored now; a replayed meaning is not stored twice). Reads and writes that do not
 * wait on each other go out together (pipeline): about two round trips for an event.
 */
export async function applyEvent<N extends EventName>(
  name: N,
  event: ConsumedEvent<N>,
  tx: Tx,
): Promise<CommunicationRow[]> {
  const rule = RULES[name] as
    | ((data: ConsumedEvent<N>['data'], parties: readonly Party[], eventId: string) => Draft[])
    | undefined;
  const data = event.data as ConsumedEvent<N>['data'] & { caseId: string };
  const changes = topicChanges(name, event.data);
  const [, parties, subs] = await pipeline([
    () => rememberParties(tx, data.caseId, partiesIn(name, event.data)),
    () =>
      tx
        .select({ org: caseParties.org, role: caseParties.role })
        .from(caseParties)
        .where(eq(caseParties.caseId, data.caseId)),
    () => liveSubscriptions(tx, changes),
  ]);
  const requesterUnknown = NEEDS_REQUESTER.has(name) && !parties.some((p) => p.role === 'requester');
  if ((NEEDS_PARTIES.has(name) && parties.length === 0) || requesterUnknown) {
    throw new CaseNotKnownYet(`case ${data.caseId} is not known yet; waiting for its sip.case.initiated`);
  }
  await rememberMeeting(tx, name, event.data);
  if (subs && subs.length > 0)
    await recordTopicEvent(tx, event as ConsumedEvent, changes, subs, new Set(parties.map((p) => p.org)));
  if (!rule) return [];
  return storeDrafts(tx, rule(event.data, parties, event.attrs.id), {
    eventId: event.attrs.id,
    time: new Date(event.attrs.time),
  });
}

/**
 * The consumer handlers for every event this service listens to; `onStored` hears of the notifications an event
 * stored (before its transaction commits: act on them only after, e.g. in the consumer's afterApply).
 */
export function notificationHandlers(
  onStored: (event: ConsumedEvent, rows: CommunicationRow[]) => void = () => {},
): Handlers {
  const handlers: Record<string, Handler<EventName>> = {};
  for (const name of Object.keys(RULES) as EventName[]) {
    handlers[name] = async (event, tx) => onStored(event as ConsumedEvent, await applyEvent(name, event, tx));
  }
  return handlers as Handlers;
}
