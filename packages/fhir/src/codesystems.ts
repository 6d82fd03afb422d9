// The SIP code systems (SPEC §5): fixed codes that record systems depend on. Add codes; never rename one.
import type { CodeSystem } from './types.ts';

export const SAMSYN_CS = 'https://samsyn.se/fhir/CodeSystem';
export const TASK_CODE_SYSTEM = `${SAMSYN_CS}/sip-task`;
export const TASK_INPUT_SYSTEM = `${SAMSYN_CS}/sip-task-input`;
export const TRIGGER_SYSTEM = `${SAMSYN_CS}/sip-trigger`;
export const CASE_STATUS_SYSTEM = `${SAMSYN_CS}/sip-case-status`;
export const NOTIFICATION_TYPE_SYSTEM = `${SAMSYN_CS}/sip-notification-type`;
export const ERROR_SYSTEM = `${SAMSYN_CS}/error`;

export const TASK_CODES = ['sip-initiative', 'sip-invitation'] as const;
export type TaskCode = (typeof TASK_CODES)[number];
export const INVITEE_KINDS = ['summoned', 'invited'] as const;
export type InviteeKind = (typeof INVITEE_KINDS)[number];
export const TRIGGERS = ['discharge', 'other'] as const;
export type Trigger = (typeof TRIGGERS)[number];
/** Case states in process order (SPEC §4); `cancelled` may follow any state before `closed`. */
export const CASE_STATUSES = [
  'awaiting-consent',
  'invited',
  'scheduled',
  'held',
  'planned',
  'followed-up',
  'closed',
  'cancelled',
] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export interface ConceptDef {
  code: string;
  display: string;
  definition: string;
}

/** A complete Samsyn CodeSystem (id under https://samsyn.se/fhir/CodeSystem/); services define theirs with it. */
export function codeSystem(
  id: string,
  title: string,
  description: string,
  concept: ConceptDef[],
): CodeSystem {
  return {
    resourceType: 'CodeSystem',
    id,
    url: `${SAMSYN_CS}/${id}`,
    version: '1.0.0',
    name: id
      .split('-')
      .map((p) => p[0]?.toUpperCase() + p.slice(1))
      .join(''),
    title,
    status: 'active',
    experimental: false,
    publisher: 'Samsyn',
    description,
    caseSensitive: true,
    content: 'complete',
    count: concept.length,
    concept,
  };
}

export const CODE_SYSTEMS: readonly CodeSystem[] = [
  codeSystem('sip-task', 'SIP task kinds', 'What a Samsyn Task is: the initiative or one invitation.', [
    {
      code: 'sip-initiative',
      display: 'SIP initiative',
      definition: 'Initiative to a coordinated individual plan; carries the case state.',
    },
    {
      code: 'sip-invitation',
      display: 'SIP invitation',
      definition: 'Invitation of one organisation to the SIP, part of the initiative.',
    },
  ]),
  codeSystem('sip-task-input', 'SIP invitee kinds', 'How an organisation is asked to take part.', [
    {
      code: 'summoned',
      display: 'Summoned (kallelse)',
      definition: 'A principal (municipality or region) that must take part.',
    },
    { code: 'invited', display: 'Invited (inbjudan)', definition: 'Another actor that may take part.' },
  ]),
  codeSystem('sip-trigger', 'SIP triggers', 'What started the initiative.', [
    {
      code: 'discharge',
      display: 'Ready for discharge',
      definition: 'Ready-for-discharge notice from inpatient care (Lag 2017:612).',
    },
    { code: 'other', display: 'Other need', definition: 'Any other need for coordination.' },
  ]),
  codeSystem(
    'sip-case-status',
    'SIP case states',
    'The state of a SIP case, in Task.businessStatus of the initiative.',
    [
      {
        code: 'awaiting-consent',
        display: 'Awaiting consent',
        definition: "Initiated; waiting for the person's consent.",
      },
      {
        code: 'invited',
        display: 'Invited',
        definition: 'Consent covers the invitees; invitations are out.',
      },
      { code: 'scheduled', display: 'Meeting scheduled', definition: 'A SIP meeting is booked.' },
      { code: 'held', display: 'Meeting held', definition: 'The SIP meeting took place.' },
      { code: 'planned', display: 'Plan active', definition: 'The plan is established and active.' },
      {
        code: 'followed-up',
        display: 'Followed up',
        definition: 'The plan has been followed up at least once.',
      },
      { code: 'closed', display: 'Closed', definition: 'The SIP is ended.' },
      {
        code: 'cancelled',
        display: 'Cancelled',
        definition:
          'Ended before closure: consent refused or withdrawn, person declines, initiative withdrawn.',
      },
    ],
  ),
  codeSystem(
    'sip-notification-type',
    'SIP notification types',
    'What a staff notification (Communication) is about.',
    [
      {
        code: 'invitation-received',
        display: 'Invitation received',
        definition: 'Your unit has been summoned or invited to a SIP.',
      },
      {
        code: 'invitation-forwarded',
        display: 'Invitation forwarded to you',
        definition: 'Another unit of your principal forwarded its invitation to your unit.',
      },
      {
        code: 'invitation-accepted',
        display: 'Invitation accepted',
        definition: 'A unit you invited accepted.',
      },
      {
        code: 'invitation-rejected',
        display: 'Invitation rejected',
        definition: 'A unit you invited rejected, with its reason (and substitute, if summoned).',
      },
      {
        code: 'invitation-redirected',
        display: 'Invitation redirected',
        definition: 'A unit you invited forwarded the invitation to another unit.',
      },
      {
        code: 'invitation-reminder',
        display: 'Invitation unanswered (reminder)',
        definition: 'Your unit has not answered an invitation after two working days.',
      },
      {
        code: 'invitation-escalated',
        display: 'Invitation unanswered (escalated)',
        definition: 'A unit you invited has not answered after four working days.',
      },
      {
        code: 'summons-deadline',
        display: 'Discharge summons deadline',
        definition:
          'The person is ready for discharge; the meeting must be summoned within three days (Lag 2017:612).',
      },
      {
        code: 'consent-given',
        display: 'Consent given',
        definition: 'The person consented; the consent covers the named units for a period.',
      },
      {
        code: 'consent-revoked',
        display: 'Consent revoked',
        definition: 'The person revoked consent; nothing more may be shared.',
      },
      {
        code: 'consent-refused',
        display: 'Consent refused',
        definition: 'The person did not consent; the case is cancelled.',
      },
      {
        code: 'meeting-booked',
        display: 'Meeting booked',
        definition: 'A SIP meeting your unit takes part in is booked.',
      },
      {
        code: 'meeting-changed',
        display: 'Meeting changed',
        definition: 'The SIP meeting moved to another time or place.',
      },
      {
        code: 'meeting-cancelled',
        display: 'Meeting cancelled',
        definition: 'The SIP meeting is cancelled.',
      },
      {
        code: 'meeting-reminder',
        display: 'Meeting reminder',
        definition: 'The SIP meeting is within a day.',
      },
      {
        code: 'meeting-held',
        display: 'Meeting held',
        definition: 'The meeting took place and attendance is recorded.',
      },
      {
        code: 'kallelse-ready',
        display: 'Kallelse ready',
        definition:
          'The letter summoning the person is ready to print in their language; with protected identity the unit delivers it.',
      },
      {
        code: 'deviation',
        display: 'Deviation',
        definition:
          'A deviation (avvikelse) was reported: absence, a missed summons deadline or an unanswered summons.',
      },
      {
        code: 'plan-established',
        display: 'Plan established',
        definition: 'The plan became active.',
      },
      {
        code: 'plan-revised',
        display: 'Plan revised',
        definition: 'A change to the active plan took effect.',
      },
      {
        code: 'plan-followed-up',
        display: 'Plan followed up',
        definition: 'A follow-up of the plan was recorded.',
      },
      {
        code: 'plan-closed',
        display: 'Plan closed',
        definition: 'The plan was closed.',
      },
      {
        code: 'plan-shared',
        display: 'Plan shared with the person',
        definition: 'The person received their copy of the plan.',
      },
      {
        code: 'plan-delivery-failed',
        display: 'Plan delivery failed',
        definition: 'The plan could not be pushed to a participant record system.',
      },
      {
        code: 'follow-up-due',
        display: 'Follow-up due',
        definition: 'The plan follow-up date is near.',
      },
      {
        code: 'follow-up-overdue',
        display: 'Follow-up overdue',
        definition: 'The plan follow-up date has passed.',
      },
      {
        code: 'activity-overdue',
        display: 'Activity overdue',
        definition: 'An activity your unit is responsible for passed its end date.',
      },
      {
        code: 'case-closed',
        display: 'Case closed',
        definition: 'The SIP case was closed.',
      },
      {
        code: 'case-cancelled',
        display: 'Case cancelled',
        definition: 'The SIP case was cancelled before closure.',
      },
    ],
  ),
  codeSystem('error', 'Samsyn error codes', 'Stable codes in OperationOutcome.issue.details.', [
    {
      code: 'invalid-resource',
      display: 'Invalid resource',
      definition: 'The resource does not have the required shape.',
    },
    {
      code: 'invalid-personnummer',
      display: 'Invalid person identifier',
      definition: 'A personnummer or samordningsnummer failed format, date or check-digit validation.',
    },
    {
      code: 'invalid-hsa-id',
      display: 'Invalid HSA-id',
      definition: 'An organisation identifier is not a valid HSA-id.',
    },
    {
      code: 'invalid-search',
      display: 'Invalid search',
      definition: 'Unknown search parameter or a malformed value.',
    },
    {
      code: 'not-found',
      display: 'Not found',
      definition: 'The resource does not exist or is not visible to the caller.',
    },
    { code: 'unauthenticated', display: 'Unauthenticated', definition: 'No valid bearer token.' },
    {
      code: 'forbidden',
      display: 'Forbidden',
      definition: "The token's scopes do not allow this interaction.",
    },
    { code: 'version-conflict', display: 'Version conflict', definition: 'If-Match missing or stale.' },
  ]),
];

export function findCodeSystem(id: string): CodeSystem | undefined {
  return CODE_SYSTEMS.find((cs) => cs.id === id);
}
