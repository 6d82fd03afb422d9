// The subscription topics Samsyn offers (case, invitation, plan changes) and how an event becomes a numbered
// subscription event for every matching Subscription (R4 Subscriptions Backport IG, topic-based).
import type { ConsumedEvent } from '@samsyn/bus';
import type { EventName, EventPayload } from '@samsyn/contracts';
import type { Tx } from '@samsyn/db';
import { CASE_STATUS_SYSTEM, HSA_SYSTEM, TASK_CODE_SYSTEM } from '@samsyn/fhir';
import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { type SubscriptionRow, subscriptionEvents, subscriptions } from '../db/schema.ts';

export const TOPIC_BASE = 'https://samsyn.se/fhir/SubscriptionTopic';
export const TOPICS = {
  case: `${TOPIC_BASE}/sip-case`,
  invitation: `${TOPIC_BASE}/sip-invitation`,
  plan: `${TOPIC_BASE}/sip-plan`,
} as const;
export type TopicKey = keyof typeof TOPICS;

/** Filter parameters each topic accepts (Subscription filter criteria, `<Type>?<name>=<value>`). */
export const TOPIC_FILTERS: Record<TopicKey, { resourceType: string; params: readonly string[] }> = {
  case: { resourceType: 'Task', params: ['_id', 'business-status', 'requester'] },
  invitation: { resourceType: 'Task', params: ['_id', 'part-of', 'owner', 'status'] },
  plan: { resourceType: 'CarePlan', params: ['_id', 'status', 'author'] },
};

/** One change a topic reports: the focus resource, its snapshot and the facts filters are matched against. */
export interface TopicChange {
  topic: TopicKey;
  focus: string;
  snapshot: Record<string, unknown>;
  facts: Record<string, string>;
}

const CASE_TASK_STATUS: Record<string, string> = {
  'awaiting-consent': 'requested',
  closed: 'completed',
  cancelled: 'cancelled',
};

function caseTask(caseId: string, businessStatus: string, requester?: string): TopicChange {
  return {
    topic: 'case',
    focus: `Task/${caseId}`,
    snapshot: {
      resourceType: 'Task',
      id: caseId,
      status: CASE_TASK_STATUS[businessStatus] ?? 'in-progress',
      intent: 'order',
      code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'sip-initiative' }] },
      businessStatus: { coding: [{ system: CASE_STATUS_SYSTEM, code: businessStatus }] },
      ...(requester ? { requester: { identifier: { system: HSA_SYSTEM, value: requester } } } : {}),
    },
    facts: { _id: caseId, 'business-status': businessStatus, ...(requester ? { requester } : {}) },
  };
}

function invitationTask(caseId: string, invitationId: string, owner: string, status: string): TopicChange {
  return {
    topic: 'invitation',
    focus: `Task/${invitationId}`,
    snapshot: {
      resourceType: 'Task',
      id: invitationId,
      status,
      intent: 'order',
      code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'sip-invitation' }] },
      partOf: [{ reference: `Task/${caseId}` }],
      owner: { identifier: { system: HSA_SYSTEM, value: owner } },
    },
    facts: { _id: invitationId, 'part-of': `Task/${caseId}`, owner, status },
  };
}

function carePlan(planId: string, status: 'active' | 'completed', lead?: string): TopicChange {
  return {
    topic: 'plan',
    focus: `CarePlan/${planId}`,
    snapshot: {
      resourceType: 'CarePlan',
      id: planId,
      status,
      intent: 'plan',
      // The person is never in an event; the subscriber reads the CarePlan itself for the subject.
      subject: {
        extension: [
          { url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'masked' },
        ],
      },
      ...(lead ? { author: { identifier: { system: HSA_SYSTEM, value: lead } } } : {}),
    },
    facts: { _id: planId, status, ...(lead ? { author: lead } : {}) },
  };
}

/** The topic changes an event stands for (none for events no topic covers). */
export function topicChanges<N extends EventName>(name: N, data: EventPayload<N>): TopicChange[] {
  switch (name) {
    case 'caseInitiated': {
      const d = data as EventPayload<'caseInitiated'>;
      return [
        caseTask(d.caseId, 'awaiting-consent', d.requesterOrg),
        ...d.invitations.map((i) => invitationTask(d.caseId, i.invitationId, i.org, 'requested')),
      ];
    }
    case 'caseTransitioned': {
      const d = data as EventPayload<'caseTransitioned'>;
      return [caseTask(d.caseId, d.to)];
    }
    case 'invitationCreated': {
      const d = data as EventPayload<'invitationCreated'>;
      return [invitationTask(d.caseId, d.invitationId, d.org, 'requested')];
    }
    case 'invitationAccepted': {
      const d = data as EventPayload<'invitationAccepted'>;
      return [invitationTask(d.caseId, d.invitationId, d.org, 'accepted')];
    }
    case 'invitationRejected': {
      const d = data as EventPayload<'invitationRejected'>;
      return [invitationTask(d.caseId, d.invitationId, d.org, 'rejected')];
    }
    case 'invitationForwarded': {
      const d = data as EventPayload<'invitationForwarded'>;
      return [invitationTask(d.caseId, d.invitationId, d.toOrg, 'requested')];
    }
    case 'planEstablished':
    case 'planRevised': {
      const d = data as EventPayload<'planEstablished'>;
      return [carePlan(d.planId, 'active', d.leadOrg)];
    }
    case 'planFollowedUp':
    case 'planSharedWithPerson': {
      const d = data as EventPayload<'planFollowedUp'>;
      return [carePlan(d.planId, 'active')];
    }
    case 'planClosed': {
      const d = data as EventPayload<'planClosed'>;
      return [carePlan(d.planId, 'completed')];
    }
    default:
      return [];
  }
}

export function matchesFilters(
  filters: readonly { name: string; value: string }[],
  facts: Record<string, string>,
): boolean {
  return filters.every((f) => f.value.split(',').includes(facts[f.name] ?? '\u0000'));
}

/** The live Subscriptions on the topics these changes touch (a query to send with the handler's others). */
export function liveSubscriptions(tx: Tx, changes: readonly TopicChange[]) {
  if (changes.length === 0) return undefined;
  return tx
    .select()
    .from(subscriptions)
    .where(
      and(
        inArray(subscriptions.topic, [...new Set(changes.map((c) => TOPICS[c.topic]))]),
        ne(subscriptions.status, 'off'),
      ),
    );
}

/**
 * Numbers the event for every live Subscription (from liveSubscriptions) on its topics whose owner takes part in
 * the case (`parties`, the case's organisations after this event).
 */
export async function recordTopicEvent(
  tx: Tx,
  event: ConsumedEvent,
  changes: readonly TopicChange[],
  subs: readonly SubscriptionRow[],
  parties: ReadonlySet<string>,
): Promise<void> {
  for (const sub of subs) {
    // A record system hears only about cases its unit takes part in (SPEC §7).
    if (!parties.has(sub.ownerOrg)) continue;
    for (const change of changes) {
      if (TOPICS[change.topic] !== sub.topic || !matchesFilters(sub.filters, change.facts)) continue;
      const [numbered] = await tx
        .update(subscriptions)
        .set({
          eventsSinceStart: sql`${subscriptions.eventsSinceStart} + 1`,
          // Deliver now, unless the endpoint is failing and the subscription is backing off.
          nextAttemptAt: sql`case when ${subscriptions.failures} = 0 then now() else ${subscriptions.nextAttemptAt} end`,
        })
        .where(eq(subscriptions.id, sub.id))
        .returning({ n: subscriptions.eventsSinceStart });
      if (!numbered) continue;
      await tx.insert(subscriptionEvents).values({
        subscriptionId: sub.id,
        eventNumber: numbered.n,
        sourceEventId: event.attrs.id,
        focus: change.focus,
        snapshot: change.snapshot,
        occurredAt: new Date(event.attrs.time),
      });
    }
  }
}
