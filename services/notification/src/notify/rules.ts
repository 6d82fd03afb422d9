// Which events become which notifications, to whom, with what Swedish text: one rule per event (SPEC §4, §9).
// Pure: the handler gives it the event and the case's known parties, and stores what it returns.
import type { EventName, EventPayload } from '@samsyn/contracts';

/** Every notification type; codes of https://samsyn.se/fhir/CodeSystem/sip-notification-type. */
export const NOTIFICATION_TYPES = {
  'invitation-received': 'Inbjudan eller kallelse till SIP',
  'invitation-forwarded': 'Inbjudan vidarebefordrad till er',
  'invitation-accepted': 'Inbjudan accepterad',
  'invitation-rejected': 'Inbjudan avböjd',
  'invitation-redirected': 'Inbjudan vidarebefordrad av mottagaren',
  'invitation-reminder': 'Påminnelse: obesvarad inbjudan',
  'invitation-escalated': 'Obesvarad inbjudan',
  'summons-deadline': 'Kallelse inom tre dagar',
  'consent-given': 'Samtycke lämnat',
  'consent-revoked': 'Samtycke återkallat',
  'consent-refused': 'Samtycke nekat',
  'meeting-booked': 'SIP-möte bokat',
  'meeting-changed': 'SIP-möte ändrat',
  'meeting-cancelled': 'SIP-möte inställt',
  'meeting-reminder': 'Påminnelse: SIP-möte',
  'meeting-held': 'SIP-möte genomfört',
  'kallelse-ready': 'Kallelse till personen',
  deviation: 'Avvikelse',
  'plan-established': 'Plan fastställd',
  'plan-revised': 'Plan ändrad',
  'plan-followed-up': 'Plan följd upp',
  'plan-closed': 'Plan avslutad',
  'plan-shared': 'Plan lämnad till personen',
  'plan-delivery-failed': 'Planen kunde inte levereras',
  'follow-up-due': 'Uppföljning närmar sig',
  'follow-up-overdue': 'Uppföljning försenad',
  'activity-overdue': 'Insats förfallen',
  'case-closed': 'SIP avslutad',
  'case-cancelled': 'SIP avbruten',
} as const;
export type NotificationType = keyof typeof NOTIFICATION_TYPES;
export const NOTIFICATION_TYPE_CODES = Object.keys(NOTIFICATION_TYPES) as NotificationType[];

export interface Party {
  org: string;
  role: string;
}

export interface Draft {
  type: NotificationType;
  recipientOrg: string;
  recipientUser?: string;
  senderOrg?: string;
  caseId: string;
  /** The resource the notification is about (Task/…, Appointment/…, CarePlan/…, Flag/…). */
  about: string;
  priority: 'routine' | 'urgent';
  text: string;
  link: string;
  /** What makes two notifications the same one (besides type and recipient): a second event about it is a duplicate. */
  meaning: string;
}

const STOCKHOLM = new Intl.DateTimeFormat('sv-SE', {
  dateStyle: 'long',
  timeStyle: 'short',
  timeZone: 'Europe/Stockholm',
});
const STOCKHOLM_DATE = new Intl.DateTimeFormat('sv-SE', { dateStyle: 'long', timeZone: 'Europe/Stockholm' });

export function swedishTime(iso: string): string {
  return STOCKHOLM.format(new Date(iso));
}
export function swedishDate(isoOrDate: string): string {
  return STOCKHOLM_DATE.format(
    new Date(/^\d{4}-\d{2}-\d{2}$/.test(isoOrDate) ? `${isoOrDate}T12:00:00Z` : isoOrDate),
  );
}

export function caseLink(caseId: string): string {
  return `/inbox/case/${caseId}`;
}

const MEETING_MODE: Record<'physical' | 'video' | 'phone', string> = {
  physical: 'på plats',
  video: 'via video',
  phone: 'per telefon',
};

const REJECTION_REASON_MAX = 200;

type Rule<N extends EventName> = (
  data: EventPayload<N>,
  parties: readonly Party[],
  eventId: string,
) => Draft[];
type Rules = { [N in EventName]?: Rule<N> };

function unique(orgs: readonly (string | undefined)[]): string[] {
  return [...new Set(orgs.filter((o): o is string => o !== undefined))];
}
function partyOrgs(parties: readonly Party[], except?: string): string[] {
  return unique(parties.map((p) => p.org)).filter((o) => o !== except);
}
function requesterOf(parties: readonly Party[]): string | undefined {
  return parties.find((p) => p.role === 'requester')?.org;
}
function leadOf(parties: readonly Party[]): string | undefined {
  return parties.find((p) => p.role === 'lead')?.org;
}

function many(
  orgs: readonly string[],
  draft: Omit<Draft, 'recipientOrg'> | ((org: string) => Omit<Draft, 'recipientOrg'>),
): Draft[] {
  return orgs.map((org) => ({ ...(typeof draft === 'function' ? draft(org) : draft), recipientOrg: org }));
}

function invitationReceivedText(
  kind: 'summoned' | 'invited',
  requesterOrg: string,
  discharge: boolean,
): string {
  const what =
    kind === 'summoned'
      ? 'Er enhet är kallad till en samordnad individuell plan (SIP).'
      : 'Er enhet är inbjuden till en samordnad individuell plan (SIP).';
  const urgency = discharge
    ? ' Personen är utskrivningsklar: kallelse till SIP-möte ska ske inom tre dagar.'
    : '';
  return `${what} Initiativet kommer från ${requesterOrg}.${urgency} Svara på inbjudan i Samsyn.`;
}

export const RULES: Rules = {
  caseInitiated: (d) =>
    d.invitations.map((inv) => ({
      type: 'invitation-received',
      recipientOrg: inv.org,
      senderOrg: d.requesterOrg,
      caseId: d.caseId,
      about: `Task/${inv.invitationId}`,
      priority: d.trigger === 'discharge' ? 'urgent' : 'routine',
      text: invitationReceivedText(inv.kind, d.requesterOrg, d.trigger === 'discharge'),
      link: caseLink(d.caseId),
      meaning: inv.invitationId,
    })),
  invitationCreated: (d) => [
    {
      type: 'invitation-received',
      recipientOrg: d.org,
      senderOrg: d.requesterOrg,
      caseId: d.caseId,
      about: `Task/${d.invitationId}`,
      priority: 'routine',
      text: `${invitationReceivedText(d.kind, d.requesterOrg, false).replace(/ Svara på inbjudan i Samsyn\.$/, '')} Er enhet har angetts som ersättare för en kallad enhet som inte kan delta. Svara på inbjudan i Samsyn.`,
      link: caseLink(d.caseId),
      meaning: d.invitationId,
    },
  ],
  invitationAccepted: (d) => [
    {
      type: 'invitation-accepted',
      recipientOrg: d.requesterOrg,
      senderOrg: d.org,
      caseId: d.caseId,
      about: `Task/${d.invitationId}`,
      priority: 'routine',
      text: `${d.org} har accepterat ${d.kind === 'summoned' ? 'kallelsen' : 'inbjudan'} till SIP och kommer att delta.`,
      link: caseLink(d.caseId),
      meaning: d.invitationId,
    },
  ],
  invitationRejected: (d) => {
    const reason =
      d.reason.length > REJECTION_REASON_MAX ? `${d.reason.slice(0, REJECTION_REASON_MAX)}…` : d.reason;
    const substitute = d.substituteOrg ? ` I stället kommer ${d.substituteOrg}.` : '';
    return [
      {
        type: 'invitation-rejected',
        recipientOrg: d.requesterOrg,
        senderOrg: d.org,
        caseId: d.caseId,
        about: `Task/${d.invitationId}`,
        priority: d.kind === 'summoned' ? 'urgent' : 'routine',
        text: `${d.org} har avböjt ${d.kind === 'summoned' ? 'kallelsen' : 'inbjudan'} till SIP. Skäl: ”${reason}”.${substitute}`,
        link: caseLink(d.caseId),
        meaning: d.invitationId,
      },
    ];
  },
  invitationForwarded: (d) => [
    {
      type: 'invitation-forwarded',
      recipientOrg: d.toOrg,
      senderOrg: d.org,
      caseId: d.caseId,
      about: `Task/${d.invitationId}`,
      priority: 'routine',
      text: `En ${d.kind === 'summoned' ? 'kallelse' : 'inbjudan'} till samordnad individuell plan (SIP) har vidarebefordrats till er enhet från ${d.org}. Initiativet kommer från ${d.requesterOrg}. Svara på inbjudan i Samsyn.`,
      link: caseLink(d.caseId),
      meaning: `${d.invitationId}:${d.toOrg}`,
    },
    {
      type: 'invitation-redirected',
      recipientOrg: d.requesterOrg,
      senderOrg: d.org,
      caseId: d.caseId,
      about: `Task/${d.invitationId}`,
      priority: 'routine',
      text: `${d.org} har vidarebefordrat inbjudan till SIP till ${d.toOrg}, som nu ska svara.`,
      link: caseLink(d.caseId),
      meaning: `${d.invitationId}:${d.toOrg}`,
    },
  ],
  deadlineDue: (d) => {
    const about = d.invitationId
      ? `Task/${d.invitationId}`
      : d.appointmentId
        ? `Appointment/${d.appointmentId}`
        : `Task/${d.caseId}`;
    const base = {
      recipientOrg: d.org,
      caseId: d.caseId,
      about,
      link: caseLink(d.caseId),
      meaning: d.timerId,
    };
    switch (d.kind) {
      case 'invitation-reminder':
        return [
          {
            ...base,
            type: 'invitation-reminder',
            priority: 'routine',
            text: 'Påminnelse: er enhet har en obesvarad inbjudan till SIP. Svara på inbjudan i Samsyn.',
          },
        ];
      case 'invitation-escalation':
        return [
          {
            ...base,
            type: 'invitation-escalated',
            priority: 'urgent',
            text: 'En inbjudan till SIP som ni har skickat är fortfarande obesvarad efter fyra arbetsdagar. Kontakta den inbjudna enheten.',
          },
        ];
      case 'discharge-summons':
        return [
          {
            ...base,
            type: 'summons-deadline',
            priority: 'urgent',
            text: `Personen är utskrivningsklar. Kallelse till SIP-möte ska ha skett senast ${swedishTime(d.dueAt)} (lag 2017:612). Boka mötet i Samsyn.`,
          },
        ];
      case 'meeting-reminder':
        return [
          {
            ...base,
            type: 'meeting-reminder',
            priority: 'routine',
            text: 'Påminnelse: er enhet deltar i ett SIP-möte inom ett dygn.',
          },
        ];
      default: {
        const never: never = d.kind;
        throw new Error(`unknown deadline kind ${String(never)}`);
      }
    }
  },
  consentGiven: (d, parties) =>
    many(unique([...d.coveredOrgs, requesterOf(parties)]), {
      type: 'consent-given',
      caseId: d.caseId,
      about: `Consent/${d.consentId}`,
      priority: 'routine',
      text: `Samtycke till SIP är lämnat${d.periodEnd ? ` och gäller till och med ${swedishDate(d.periodEnd)}` : ''}. Samtycket omfattar ${d.coveredOrgs.length === 1 ? 'en enhet' : `${d.coveredOrgs.length} enheter`}.`,
      link: caseLink(d.caseId),
      meaning: d.consentId,
    }),
  consentRevoked: (d, parties) =>
    many(partyOrgs(parties, d.byOrg), {
      type: 'consent-revoked',
      senderOrg: d.byOrg,
      caseId: d.caseId,
      about: `Consent/${d.consentId}`,
      priority: 'urgent',
      text: 'Personen har återkallat sitt samtycke till SIP. Uppgifter om personen får inte längre delas mellan enheterna.',
      link: caseLink(d.caseId),
      meaning: d.consentId,
    }),
  consentRefused: (d, parties) =>
    many(partyOrgs(parties, d.byOrg), {
      type: 'consent-refused',
      senderOrg: d.byOrg,
      caseId: d.caseId,
      about: `Consent/${d.consentId}`,
      priority: 'routine',
      text: 'Personen har inte lämnat samtycke till SIP. Ärendet avbryts.',
      link: caseLink(d.caseId),
      meaning: d.consentId,
    }),
  meetingScheduled: (d, parties) => {
    const where = d.location?.place ? `, ${d.location.place}` : '';
    const when = `${swedishTime(d.start)} ${MEETING_MODE[d.mode]}${where}`;
    const meeting = many(unique(d.orgs), {
      type: d.rescheduled ? 'meeting-changed' : 'meeting-booked',
      caseId: d.caseId,
      about: `Appointment/${d.appointmentId}`,
      priority: 'routine',
      text: d.rescheduled
        ? `SIP-mötet har flyttats till ${when}.`
        : `Ett SIP-möte är bokat ${when}. Er enhet deltar.`,
      link: caseLink(d.caseId),
      meaning: `${d.appointmentId}:${d.start}`,
    });
    const requester = requesterOf(parties);
    const kallelse: Draft[] = requester
      ? [
          {
            type: 'kallelse-ready',
            recipientOrg: requester,
            caseId: d.caseId,
            about: `Appointment/${d.appointmentId}`,
            priority: d.personProtected ? 'urgent' : 'routine',
            text: d.personProtected
              ? 'Kallelsen till personen är klar att skrivas ut. Personen har skyddad identitet: Samsyn skickar ingenting till personen, er enhet lämnar kallelsen.'
              : 'Kallelsen till personen är klar att skrivas ut på personens språk. Lämna eller skicka den till personen.',
            link: `${caseLink(d.caseId)}#kallelse`,
            meaning: `${d.appointmentId}:${d.start}`,
          },
        ]
      : [];
    return [...meeting, ...kallelse];
  },
  meetingCancelled: (d, parties) =>
    many(partyOrgs(parties), {
      type: 'meeting-cancelled',
      caseId: d.caseId,
      about: `Appointment/${d.appointmentId}`,
      priority: 'routine',
      text: 'SIP-mötet är inställt. En ny tid meddelas när den är bokad.',
      link: caseLink(d.caseId),
      meaning: d.appointmentId,
    }),
  meetingHeld: (d, parties) =>
    many(unique([...d.attendance.map((a) => a.org), ...partyOrgs(parties)]), (org) => {
      const own = d.attendance.find((a) => a.org === org);
      const absent = d.attendance.filter((a) => !a.attended).length;
      return {
        type: 'meeting-held',
        caseId: d.caseId,
        about: `Appointment/${d.appointmentId}`,
        priority: 'routine',
        text: `SIP-mötet är genomfört och närvaron är registrerad.${own ? (own.attended ? ' Er enhet deltog.' : ' Er enhet var frånvarande.') : ''}${absent > 0 ? ` ${absent} ${absent === 1 ? 'enhet' : 'enheter'} var frånvarande.` : ''}`,
        link: caseLink(d.caseId),
        meaning: d.appointmentId,
      };
    }),
  deviationReported: (d) => {
    const cause = {
      'absent-from-meeting': 'var kallad men frånvarande vid SIP-mötet',
      'summons-deadline-missed': 'kallelsen till SIP-möte skedde inte inom tre dagar efter utskrivningsklar',
      'invitation-unanswered': 'har inte svarat på kallelsen till SIP',
    }[d.cause];
    const common = {
      type: 'deviation' as const,
      caseId: d.caseId,
      about: `Flag/${d.deviationId}`,
      priority: 'urgent' as const,
      link: caseLink(d.caseId),
      meaning: d.deviationId,
    };
    return [
      { ...common, recipientOrg: d.org, text: `Avvikelse: er enhet ${cause}.` },
      ...(d.requesterOrg !== d.org
        ? [{ ...common, recipientOrg: d.requesterOrg, text: `Avvikelse: ${d.org} ${cause}.` }]
        : []),
    ];
  },
  planEstablished: (d) =>
    many(unique([d.leadOrg, ...d.participantOrgs]), (org) => ({
      type: 'plan-established',
      caseId: d.caseId,
      about: `CarePlan/${d.planId}`,
      priority: 'routine',
      text: `Den samordnade individuella planen är fastställd (version ${d.version}).${org === d.leadOrg ? ' Er enhet har huvudansvaret.' : ` Huvudansvar: ${d.leadOrg}.`} Uppföljning senast ${swedishDate(d.followUpDue)}.`,
      link: caseLink(d.caseId),
      meaning: `${d.planId}:${d.version}`,
    })),
  planRevised: (d) =>
    many(unique([d.leadOrg, ...d.participantOrgs]), {
      type: 'plan-revised',
      caseId: d.caseId,
      about: `CarePlan/${d.planId}`,
      priority: 'routine',
      text: `Planen är ändrad (version ${d.version}) efter personens godkännande. Uppföljning senast ${swedishDate(d.followUpDue)}.`,
      link: caseLink(d.caseId),
      meaning: `${d.planId}:${d.version}`,
    }),
  planFollowedUp: (d) =>
    many(
      unique(d.participantOrgs).filter((o) => o !== d.byOrg),
      {
        type: 'plan-followed-up',
        senderOrg: d.byOrg,
        caseId: d.caseId,
        about: `CarePlan/${d.planId}`,
        priority: 'routine',
        text: `Planen är uppföljd${d.onTime ? '' : ' (efter utsatt datum)'}.${d.nextFollowUpDue ? ` Nästa uppföljning senast ${swedishDate(d.nextFollowUpDue)}.` : ''}`,
        link: caseLink(d.caseId),
        meaning: `${d.planId}:${d.followUpDue}`,
      },
    ),
  planClosed: (d) =>
    many(
      unique(d.participantOrgs).filter((o) => o !== d.byOrg),
      {
        type: 'plan-closed',
        senderOrg: d.byOrg,
        caseId: d.caseId,
        about: `CarePlan/${d.planId}`,
        priority: 'routine',
        text: `Planen är avslutad. Skäl: ${
          {
            'goals-met': 'målen är uppnådda',
            'person-declined': 'personen vill avsluta',
            moved: 'personen har flyttat',
            deceased: 'personen har avlidit',
            other: 'annat',
          }[d.reason]
        }.`,
        link: caseLink(d.caseId),
        meaning: d.planId,
      },
    ),
  planSharedWithPerson: (d, parties) =>
    many(partyOrgs(parties, d.byOrg), {
      type: 'plan-shared',
      senderOrg: d.byOrg,
      caseId: d.caseId,
      about: `CarePlan/${d.planId}`,
      priority: 'routine',
      text: `Personen har fått sin plan (version ${d.version}).`,
      link: caseLink(d.caseId),
      meaning: `${d.planId}:${d.version}`,
    }),
  planDeadlineDue: (d) => {
    const base = {
      recipientOrg: d.org,
      caseId: d.caseId,
      about: `CarePlan/${d.planId}`,
      link: caseLink(d.caseId),
      meaning: d.timerId,
    };
    switch (d.kind) {
      case 'follow-up-reminder':
        return [
          {
            ...base,
            type: 'follow-up-due',
            priority: 'routine',
            text: `Planen ska följas upp senast ${swedishDate(d.dueAt)}. Er enhet har huvudansvaret.`,
          },
        ];
      case 'follow-up-overdue':
        return [
          {
            ...base,
            type: 'follow-up-overdue',
            priority: 'urgent',
            text: `Uppföljningen av planen är försenad; den skulle ha skett senast ${swedishDate(d.dueAt)}.`,
          },
        ];
      case 'activity-overdue':
        return [
          {
            ...base,
            type: 'activity-overdue',
            priority: 'urgent',
            text: `En insats som er enhet ansvarar för har passerat sitt slutdatum (${swedishDate(d.dueAt)}). Genomför eller uppdatera insatsen.`,
          },
        ];
      default: {
        const never: never = d.kind;
        throw new Error(`unknown plan deadline kind ${String(never)}`);
      }
    }
  },
  planDeliveryFailed: (d, parties) =>
    many(unique([d.org, leadOf(parties)]), (org) => ({
      type: 'plan-delivery-failed',
      caseId: d.caseId,
      about: `CarePlan/${d.planId}`,
      priority: 'urgent',
      text:
        org === d.org
          ? `Planen (version ${d.version}) kunde inte levereras till er enhets journalsystem efter ${d.attempts} försök. Kontrollera systemets FHIR-adress.`
          : `Planen (version ${d.version}) kunde inte levereras till ${d.org} efter ${d.attempts} försök.`,
      link: caseLink(d.caseId),
      meaning: `${d.planId}:${d.version}:${d.org}`,
    })),
  caseTransitioned: (d, parties) => {
    if (d.to !== 'closed' && d.to !== 'cancelled') return [];
    const reason = d.reason ? CASE_END_REASON[d.reason] : undefined;
    return many(partyOrgs(parties, d.byOrg), {
      type: d.to === 'closed' ? 'case-closed' : 'case-cancelled',
      ...(d.byOrg ? { senderOrg: d.byOrg } : {}),
      caseId: d.caseId,
      about: `Task/${d.caseId}`,
      priority: 'routine',
      text:
        d.to === 'closed'
          ? 'SIP-ärendet är avslutat.'
          : `SIP-ärendet är avbrutet${reason ? `: ${reason}` : ''}. Inget mer behöver göras.`,
      link: caseLink(d.caseId),
      meaning: d.to,
    });
  },
};

const CASE_END_REASON: Record<string, string> = {
  'consent-refused': 'personen har inte lämnat samtycke',
  'consent-withdrawn': 'personen har återkallat sitt samtycke',
  'consent-revoked': 'personen har återkallat sitt samtycke',
  'person-declined': 'personen vill inte ha en SIP',
  withdrawn: 'initiativet har dragits tillbaka',
};

/** Events whose recipients come from the case's parties: they need the case to be known first. */
export const NEEDS_PARTIES: ReadonlySet<EventName> = new Set<EventName>([
  'consentRevoked',
  'consentRefused',
  'meetingCancelled',
  'planSharedWithPerson',
  'caseTransitioned',
]);

/** Events that notify the case's initiator, who is known only from the case's own events. */
export const NEEDS_REQUESTER: ReadonlySet<EventName> = new Set<EventName>([
  'meetingScheduled',
  'consentGiven',
]);

/** The parties an event teaches: who takes part in the case, in which role. */
export function partiesIn<N extends EventName>(name: N, data: EventPayload<N>): Party[] {
  const d = data as Record<string, unknown>;
  switch (name) {
    case 'caseInitiated': {
      const c = data as EventPayload<'caseInitiated'>;
      return [
        { org: c.requesterOrg, role: 'requester' },
        ...c.invitations.map((i) => ({ org: i.org, role: 'invitee' })),
      ];
    }
    case 'invitationCreated':
    case 'invitationAccepted':
    case 'invitationRejected':
      return [
        { org: d.requesterOrg as string, role: 'requester' },
        { org: d.org as string, role: 'invitee' },
      ];
    case 'invitationForwarded':
      return [
        { org: d.requesterOrg as string, role: 'requester' },
        { org: d.toOrg as string, role: 'invitee' },
      ];
    case 'meetingScheduled':
      return (data as EventPayload<'meetingScheduled'>).orgs.map((org) => ({ org, role: 'participant' }));
    case 'consentGiven':
      return (data as EventPayload<'consentGiven'>).coveredOrgs.map((org) => ({ org, role: 'participant' }));
    case 'planEstablished':
    case 'planRevised': {
      const p = data as EventPayload<'planEstablished'>;
      return [
        { org: p.leadOrg, role: 'lead' },
        ...p.participantOrgs.map((org) => ({ org, role: 'participant' })),
      ];
    }
    case 'deviationReported':
      return [{ org: d.requesterOrg as string, role: 'requester' }];
    default:
      return [];
  }
}
