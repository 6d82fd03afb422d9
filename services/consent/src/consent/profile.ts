// The fixed URLs and codes of Samsyn's Consent (docs/consent.md); record systems depend on them, never rename one.
export const SIP_CASE_EXTENSION = 'https://samsyn.se/fhir/StructureDefinition/sip-case';
export const REGISTERED_GUARDIANS_EXTENSION =
  'https://samsyn.se/fhir/StructureDefinition/registered-guardians';

export const CONSENT_SCOPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/consentscope';
export const CONSENT_SCOPE_CODE = 'patient-privacy';
export const LOINC_SYSTEM = 'http://loinc.org';
/** LOINC 59284-0 "Patient Consent". */
export const CONSENT_CATEGORY_CODE = '59284-0';
export const ACT_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
/** Opt-in: nothing is shared unless the consent permits it (SPEC §3). */
export const POLICY_RULE_CODE = 'OPTIN';
export const PARTICIPATION_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
/** IRCP "information recipient": an organisation the person's information may go to. */
export const RECIPIENT_ROLE_CODE = 'IRCP';
export const ROLE_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';

/**
 * Who may consent for the person, as RelatedPerson.relationship in v3-RoleCode:
 * GUARD = vårdnadshavare (guardian of a child); RESPRSN = god man or förvaltare (court-appointed legal
 * representative of an adult); POWATT and its specialisations = framtidsfullmakt (power of attorney).
 */
export const GUARDIAN_CODE = 'GUARD';
export const REPRESENTATIVE_CODES = ['RESPRSN', 'POWATT', 'DPOWATT', 'HPOWATT', 'SPOWATT'] as const;

/** Consent statuses a record system may create with; `inactive` is reached only by revoking (update). */
export const CREATE_STATUSES = ['active', 'rejected', 'draft', 'proposed'] as const;
export type CreateStatus = (typeof CREATE_STATUSES)[number];
export type ConsentStatus = CreateStatus | 'inactive';

/** Under this age (at the time of consent) the guardians consent for the person. */
export const ADULT_AGE = 18;
