// The plan's own codes and extensions (SPEC §5: code systems live under https://samsyn.se/fhir/CodeSystem/…).
import { type CodeSystem, codeSystem, SAMSYN_CS } from '@samsyn/fhir';

export const SD = 'https://samsyn.se/fhir/StructureDefinition';
/** CarePlan: the agreed date of the next follow-up (valueDate). Required in every active plan (SPEC §4). */
export const FOLLOW_UP_EXT = `${SD}/sip-follow-up-date`;
/** CarePlan: true states explicitly that no one other than the principals takes measures (SPEC §3). */
export const NO_OTHER_ACTOR_MEASURES_EXT = `${SD}/sip-no-other-actor-measures`;
/** CarePlan.activity.detail: whose activity it is (valueCoding from sip-activity-actor). */
export const ACTIVITY_ACTOR_EXT = `${SD}/sip-activity-actor`;
/** CarePlan: the person's approval of the revision that made this version: who, when, how (SPEC §3). */
export const APPROVAL_EXT = `${SD}/sip-person-approval`;
/** CarePlan: why the plan was closed (valueCoding from sip-plan-closure-reason). */
export const CLOSURE_EXT = `${SD}/sip-closure-reason`;

export const ACTIVITY_ACTOR_SYSTEM = `${SAMSYN_CS}/sip-activity-actor`;
export const TEAM_ROLE_SYSTEM = `${SAMSYN_CS}/sip-team-role`;
export const CLOSURE_SYSTEM = `${SAMSYN_CS}/sip-plan-closure-reason`;
export const APPROVER_SYSTEM = `${SAMSYN_CS}/sip-approver`;
export const APPROVAL_METHOD_SYSTEM = `${SAMSYN_CS}/sip-approval-method`;
export const DELIVERY_STATUS_SYSTEM = `${SAMSYN_CS}/sip-plan-delivery-status`;

export const ACTIVITY_ACTORS = ['principal', 'other-actor', 'person'] as const;
export type ActivityActor = (typeof ACTIVITY_ACTORS)[number];
export const TEAM_ROLES = [
  'principal',
  'other-actor',
  'contact-person',
  'person',
  'relative',
  'guardian',
  'representative',
] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];
export const CLOSURE_REASONS = ['goals-met', 'person-declined', 'moved', 'deceased', 'other'] as const;
export const APPROVERS = ['person', 'guardian', 'representative'] as const;
export const APPROVAL_METHODS = ['in-person', 'phone', 'video', 'letter', 'e-service'] as const;

export const PLAN_CODE_SYSTEMS: readonly CodeSystem[] = [
  codeSystem('sip-activity-actor', 'SIP activity actors', 'Whose activity (insats) a plan activity is.', [
    {
      code: 'principal',
      display: 'Principal (huvudman)',
      definition: 'The municipality or region is responsible.',
    },
    {
      code: 'other-actor',
      display: 'Other actor',
      definition: 'A measure taken by someone other than the municipality or region (SoL 2 kap. 7 §).',
    },
    { code: 'person', display: 'The person', definition: 'What the person does themself.' },
  ]),
  codeSystem('sip-team-role', 'SIP care team roles', 'How someone takes part in the plan.', [
    { code: 'principal', display: 'Principal unit', definition: 'A unit of the municipality or region.' },
    { code: 'other-actor', display: 'Other actor', definition: 'An organisation other than a principal.' },
    { code: 'contact-person', display: 'Contact person', definition: 'A named contact at an organisation.' },
    { code: 'person', display: 'The person', definition: 'The person the plan is for.' },
    {
      code: 'relative',
      display: 'Relative (närstående)',
      definition: 'A relative the person wants involved.',
    },
    { code: 'guardian', display: 'Guardian (vårdnadshavare)', definition: 'A guardian of a child.' },
    {
      code: 'representative',
      display: 'Legal representative',
      definition: 'God man or förvaltare acting for the person.',
    },
  ]),
  codeSystem('sip-plan-closure-reason', 'SIP plan closure reasons', 'Why a plan was closed.', [
    { code: 'goals-met', display: 'Goals met', definition: 'The goals of the plan are reached.' },
    { code: 'person-declined', display: 'Person declined', definition: 'The person ended the SIP.' },
    { code: 'moved', display: 'Moved', definition: 'The person moved out of the principals’ area.' },
    { code: 'deceased', display: 'Deceased', definition: 'The person died.' },
    { code: 'other', display: 'Other', definition: 'Another reason, stated in a note.' },
  ]),
  codeSystem('sip-approver', 'Who approved a plan revision', 'Who gave the approval the law requires.', [
    { code: 'person', display: 'The person', definition: 'The person the plan is for.' },
    { code: 'guardian', display: 'Guardian', definition: 'The guardian(s) of a child.' },
    { code: 'representative', display: 'Legal representative', definition: 'God man or förvaltare.' },
  ]),
  codeSystem('sip-approval-method', 'How an approval was given', 'The way the approval was received.', [
    { code: 'in-person', display: 'In person', definition: 'At a meeting.' },
    { code: 'phone', display: 'By phone', definition: 'In a phone call.' },
    { code: 'video', display: 'By video', definition: 'In a video meeting.' },
    { code: 'letter', display: 'By letter', definition: 'In a signed letter.' },
    { code: 'e-service', display: 'E-service', definition: 'Through a signed digital service.' },
  ]),
  codeSystem(
    'sip-plan-delivery-status',
    'Plan delivery states',
    'Where a push of the plan to a peer stands.',
    [
      { code: 'pending', display: 'Pending', definition: 'Not delivered yet; will be tried (again).' },
      { code: 'delivered', display: 'Delivered', definition: 'The peer accepted the plan.' },
      { code: 'failed', display: 'Failed', definition: 'Every attempt failed; someone must act.' },
      {
        code: 'superseded',
        display: 'Superseded',
        definition: 'A newer version replaced it before delivery.',
      },
      { code: 'withheld', display: 'Withheld', definition: 'Consent no longer covers the organisation.' },
    ],
  ),
];
