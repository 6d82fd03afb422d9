// Every event Samsyn publishes: subject, versioned CloudEvents type and the zod schema of its body (SPEC §6).
// Events carry ids and codes, never names or personnummer; statistics receives no personal data at all.
import { z } from 'zod';

export const hsaId = z
  .string()
  .regex(/^SE\d{10}-[A-Za-z0-9]{1,31}$/, 'must be an HSA-id such as SE2321000032-1001');
const uuid = z.uuid();
const instant = z.iso.datetime({ offset: true });

/** Age band only (SPEC §8 target groups); the birth date itself never travels. */
export const ageBand = z.enum(['child', 'adult', 'older']);
export const trigger = z.enum(['discharge', 'other']);
export const inviteeKind = z.enum(['summoned', 'invited']);

export interface EventDefinition<S extends z.ZodType = z.ZodType> {
  /** NATS subject without namespace: sip.<aggregate>.<event>. */
  subject: string;
  /** CloudEvents type, versioned: se.samsyn.<aggregate>.<event>.v<N>. */
  type: string;
  version: number;
  /** Logical stream (owning service) the subject belongs to. */
  stream: StreamName;
  schema: S;
}

export const STREAMS = {
  INVITATION: {
    owner: 'invitation',
    subjects: ['sip.case.>', 'sip.invitation.>', 'sip.meeting.>', 'sip.deviation.>', 'sip.deadline.>'],
  },
  CONSENT: { owner: 'consent', subjects: ['sip.consent.>'] },
  /** Access-log entries from every service, read by consent (which stores them as AuditEvent). */
  AUDIT: { owner: 'consent', subjects: ['sip.audit.>'] },
  PLAN: { owner: 'plan-store', subjects: ['sip.plan.>'] },
  NOTIFICATION: { owner: 'notification', subjects: ['sip.notification.>'] },
  STATISTICS: { owner: 'statistics', subjects: ['sip.statistics.>'] },
} as const;
export type StreamName = keyof typeof STREAMS;

/** Dead letters of every consumer land here: samsyn.dlq.<stream>.<consumer>. */
export const DEAD_LETTER_STREAM = 'DEADLETTER';
export const DEAD_LETTER_PREFIX = 'samsyn.dlq';

function define<S extends z.ZodType>(
  subject: string,
  stream: StreamName,
  version: number,
  schema: S,
): EventDefinition<S> {
  return { subject, type: `se.samsyn.${subject.replace(/^sip\./, '')}.v${version}`, version, stream, schema };
}

export const caseInitiatedV1 = z.object({
  caseId: uuid,
  requesterOrg: hsaId,
  trigger,
  /** Ready-for-discharge notice time, when trigger is discharge (Lag 2017:612: summons within 3 days). */
  dischargeReadyAt: instant.optional(),
  initiatedAt: instant,
  person: z.object({
    ageBand,
    municipality: z
      .string()
      .regex(/^\d{4}$/)
      .optional(),
  }),
  invitations: z
    .array(z.object({ invitationId: uuid, org: hsaId, kind: inviteeKind }))
    .min(1, 'an initiative invites at least one organisation'),
});

export const caseStatus = z.enum([
  'awaiting-consent',
  'invited',
  'scheduled',
  'held',
  'planned',
  'followed-up',
  'closed',
  'cancelled',
]);

export type CaseStatus = z.infer<typeof caseStatus>;

/** Every case state change (SPEC §4: each transition is an event). */
export const caseTransitionedV1 = z.object({
  caseId: uuid,
  from: caseStatus,
  to: caseStatus,
  /** Why, for cancellations and closures: consent-refused, consent-withdrawn, person-declined, withdrawn, … */
  reason: z
    .string()
    .regex(/^[a-z-]+$/)
    .optional(),
  byOrg: hsaId.optional(),
  at: instant,
});

const invitationRef = { caseId: uuid, invitationId: uuid, org: hsaId, kind: inviteeKind, at: instant };

/** A new invitation after the initiative: the substitute unit a rejecting summoned principal named. */
export const invitationCreatedV1 = z.object({
  ...invitationRef,
  requesterOrg: hsaId,
  cause: z.enum(['substitute']),
  /** The invitation this one replaces. */
  replaces: uuid,
});
export const invitationAcceptedV1 = z.object({ ...invitationRef, requesterOrg: hsaId });
export const invitationRejectedV1 = z.object({
  ...invitationRef,
  requesterOrg: hsaId,
  reason: z.string().min(1).max(500),
  /** A summoned principal must name the unit that comes instead (SPEC §4). */
  substituteOrg: hsaId.optional(),
});
/** A wrong recipient passed the invitation to another unit of the same principal: the owner changes (SPEC §4). */
export const invitationForwardedV1 = z.object({ ...invitationRef, toOrg: hsaId, requesterOrg: hsaId });

export const meetingMode = z.enum(['physical', 'video', 'phone']);
const meetingRef = { caseId: uuid, appointmentId: uuid, at: instant };
export const meetingScheduledV1 = z.object({
  ...meetingRef,
  start: instant,
  end: instant,
  mode: meetingMode,
  orgs: z.array(hsaId).min(1),
  /** True when this replaces an earlier time or place (a change, not a first booking). */
  rescheduled: z.boolean(),
  /** Where or how to join, for the kallelse: a meeting place, a video link or a dial-in number (never the person's address). */
  location: z
    .object({
      place: z.string().max(300).optional(),
      url: z.url().max(2000).optional(),
      phone: z.string().max(40).optional(),
    })
    .optional(),
  /** BCP 47 code of the person's preferred language (a code, not a name), so the kallelse is written in it. */
  language: z.string().min(2).max(16).optional(),
  /** Display names of the participating units as the booking named them (organisations, not people). */
  orgNames: z.record(hsaId, z.string().min(1).max(200)).optional(),
  /** The person has a protected identity: letters go through the organisation, never directly (SPEC §3). */
  personProtected: z.boolean().optional(),
});
export const meetingCancelledV1 = z.object(meetingRef);
export const meetingHeldV1 = z.object({
  ...meetingRef,
  attendance: z.array(z.object({ org: hsaId, kind: inviteeKind.optional(), attended: z.boolean() })),
  personAttended: z.boolean().optional(),
});

/** An avvikelse: a summoned organisation that was absent, addressed to that organisation and the initiator. */
export const deviationReportedV1 = z.object({
  deviationId: uuid,
  caseId: uuid,
  org: hsaId,
  requesterOrg: hsaId,
  cause: z.enum(['absent-from-meeting', 'summons-deadline-missed', 'invitation-unanswered']),
  appointmentId: uuid.optional(),
  at: instant,
});

export const deadlineKind = z.enum([
  'discharge-summons',
  'invitation-reminder',
  'invitation-escalation',
  'meeting-reminder',
]);
/** A stored timer that fired: someone must act (SPEC §4 deadlines). */
export const deadlineDueV1 = z.object({
  timerId: uuid,
  caseId: uuid,
  kind: deadlineKind,
  dueAt: instant,
  firedAt: instant,
  /** Who must act: the unit reminded, or the initiator on escalation. */
  org: hsaId,
  invitationId: uuid.optional(),
  appointmentId: uuid.optional(),
});

const consentRef = { consentId: uuid, caseId: uuid, at: instant };
/** Consent covering named organisations for a period (SPEC §3); no person data, only the case and orgs. */
export const consentGivenV1 = z.object({
  ...consentRef,
  coveredOrgs: z.array(hsaId).min(1),
  periodStart: instant,
  periodEnd: instant.optional(),
  grantor: z.enum(['person', 'guardians', 'representative']),
});
export const consentRevokedV1 = z.object({ ...consentRef, byOrg: hsaId });
export const consentRefusedV1 = z.object({ ...consentRef, byOrg: hsaId });

/** Patientdatalagen access log entry. The person is a keyed pseudonym (HMAC), never the personnummer. */
export const auditRecordedV1 = z.object({
  auditId: uuid,
  action: z.enum(['C', 'R', 'U', 'D', 'E']),
  /** FHIR interaction: read, vread, search-type, create, update, patch, delete, history. */
  interaction: z.string(),
  outcome: z.enum(['0', '4', '8', '12']),
  userId: z.string().min(1),
  userName: z.string().optional(),
  orgUnit: hsaId,
  patientKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]{16,64}$/)
    .optional(),
  caseId: uuid.optional(),
  resource: z.string().optional(),
  query: z.string().max(2000).optional(),
  recordedAt: instant,
  service: z.string(),
});

const planRef = { planId: uuid, caseId: uuid, at: instant };
/** A calendar date (YYYY-MM-DD, Europe/Stockholm), as follow-up dates are agreed. */
const calendarDate = z.iso.date();
export const planClosureReason = z.enum(['goals-met', 'person-declined', 'moved', 'deceased', 'other']);
export type PlanClosureReason = z.infer<typeof planClosureReason>;
/** Who the plan involves, by id: routes notifications and feeds the per-organisation statistics. */
const planParties = {
  /** The organisation with overall responsibility (huvudansvar). */
  leadOrg: hsaId,
  /** Every organisation in the care team or responsible for an activity. */
  participantOrgs: z.array(hsaId).min(1),
  followUpDue: calendarDate,
};

/** The plan became active: it states everything SPEC §3 requires (sip.plan.established). */
export const planEstablishedV1 = z.object({
  ...planRef,
  version: z.number().int().positive(),
  ...planParties,
});
/** A change to an active plan took effect after the person approved it. */
export const planRevisedV1 = z.object({
  ...planRef,
  version: z.number().int().positive(),
  ...planParties,
  approvedAt: instant,
});
/** A follow-up was recorded; it either sets the next follow-up date or closes the plan (then sip.plan.closed follows). */
export const planFollowedUpV1 = z.object({
  ...planRef,
  /** The follow-up date that was due. */
  followUpDue: calendarDate,
  /** Held on or before the due date. */
  onTime: z.boolean(),
  nextFollowUpDue: calendarDate.optional(),
  byOrg: hsaId,
  participantOrgs: z.array(hsaId).min(1),
});
export const planClosedV1 = z.object({
  ...planRef,
  reason: planClosureReason,
  byOrg: hsaId,
  participantOrgs: z.array(hsaId).min(1),
});
/** The person received their copy of the plan (SPEC §1: plans are not shared with the person today). */
export const planSharedWithPersonV1 = z.object({
  ...planRef,
  version: z.number().int().positive(),
  /** BCP 47 code of the language the copy was produced in. */
  language: z.string().min(2).max(16),
  byOrg: hsaId,
});
export const planDeadlineKind = z.enum(['follow-up-reminder', 'follow-up-overdue', 'activity-overdue']);
/** A stored plan timer fired: a follow-up is near or late, or an activity passed its end date. */
export const planDeadlineDueV1 = z.object({
  timerId: uuid,
  planId: uuid,
  caseId: uuid,
  kind: planDeadlineKind,
  dueAt: instant,
  firedAt: instant,
  /** Who must act: the lead organisation, or the activity's responsible organisation. */
  org: hsaId,
  activityId: z.string().min(1).max(64).optional(),
});
/** Pushing the plan to a participant's own FHIR endpoint failed for good after its retries. */
export const planDeliveryFailedV1 = z.object({
  ...planRef,
  version: z.number().int().positive(),
  org: hsaId,
  attempts: z.number().int().positive(),
  /** What went wrong, without person data (status code, network error class). */
  error: z.string().min(1).max(500),
});

/** A participant's own rating of the SIP after closure (1–5), collected by statistics; no person data. */
export const ratingRecordedV1 = z.object({
  ratingId: uuid,
  caseId: uuid,
  rating: z.number().int().min(1).max(5),
  /** Who answered: the person, a relative, or a participating organisation. */
  respondent: z.enum(['person', 'relative', 'organisation']),
  org: hsaId,
  at: instant,
});

export const events = {
  caseInitiated: define('sip.case.initiated', 'INVITATION', 1, caseInitiatedV1),
  caseTransitioned: define('sip.case.transitioned', 'INVITATION', 1, caseTransitionedV1),
  invitationCreated: define('sip.invitation.created', 'INVITATION', 1, invitationCreatedV1),
  invitationAccepted: define('sip.invitation.accepted', 'INVITATION', 1, invitationAcceptedV1),
  invitationRejected: define('sip.invitation.rejected', 'INVITATION', 1, invitationRejectedV1),
  invitationForwarded: define('sip.invitation.forwarded', 'INVITATION', 1, invitationForwardedV1),
  meetingScheduled: define('sip.meeting.scheduled', 'INVITATION', 1, meetingScheduledV1),
  meetingCancelled: define('sip.meeting.cancelled', 'INVITATION', 1, meetingCancelledV1),
  meetingHeld: define('sip.meeting.held', 'INVITATION', 1, meetingHeldV1),
  deviationReported: define('sip.deviation.reported', 'INVITATION', 1, deviationReportedV1),
  deadlineDue: define('sip.deadline.due', 'INVITATION', 1, deadlineDueV1),
  consentGiven: define('sip.consent.given', 'CONSENT', 1, consentGivenV1),
  consentRevoked: define('sip.consent.revoked', 'CONSENT', 1, consentRevokedV1),
  consentRefused: define('sip.consent.refused', 'CONSENT', 1, consentRefusedV1),
  auditRecorded: define('sip.audit.recorded', 'AUDIT', 1, auditRecordedV1),
  planEstablished: define('sip.plan.established', 'PLAN', 1, planEstablishedV1),
  planRevised: define('sip.plan.revised', 'PLAN', 1, planRevisedV1),
  planFollowedUp: define('sip.plan.followed-up', 'PLAN', 1, planFollowedUpV1),
  planClosed: define('sip.plan.closed', 'PLAN', 1, planClosedV1),
  planSharedWithPerson: define('sip.plan.shared-with-person', 'PLAN', 1, planSharedWithPersonV1),
  planDeadlineDue: define('sip.plan.deadline-due', 'PLAN', 1, planDeadlineDueV1),
  planDeliveryFailed: define('sip.plan.delivery-failed', 'PLAN', 1, planDeliveryFailedV1),
  ratingRecorded: define('sip.statistics.rating-recorded', 'STATISTICS', 1, ratingRecordedV1),
} as const;

export type EventName = keyof typeof events;
export type EventPayload<N extends EventName> = z.infer<(typeof events)[N]['schema']>;
export type AnyEventDefinition = (typeof events)[EventName];

const byType = new Map<string, AnyEventDefinition>(Object.values(events).map((e) => [e.type, e]));
export function definitionForType(type: string): AnyEventDefinition | undefined {
  return byType.get(type);
}

export function dataschemaUri(def: EventDefinition): string {
  return `https://samsyn.se/schemas/events/${def.subject}/v${def.version}`;
}
