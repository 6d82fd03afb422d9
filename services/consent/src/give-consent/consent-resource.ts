// Reads a Consent a record system sends (docs/consent.md) into a command; every shape problem is one 400.
import {
  ageAt,
  checkHsaId,
  checkPersonIdentifier,
  codesIn,
  dt,
  type FhirErrorDetail,
  InvalidRequest,
  isHsaSystem,
  PERSONNUMMER_SYSTEM,
  parseWith,
  SAMORDNINGSNUMMER_SYSTEM,
} from '@samsyn/fhir';
import { z } from 'zod';
import {
  ACT_CODE_SYSTEM,
  CONSENT_CATEGORY_CODE,
  CONSENT_SCOPE_CODE,
  CONSENT_SCOPE_SYSTEM,
  CREATE_STATUSES,
  type CreateStatus,
  GUARDIAN_CODE,
  LOINC_SYSTEM,
  PARTICIPATION_TYPE_SYSTEM,
  POLICY_RULE_CODE,
  RECIPIENT_ROLE_CODE,
  REGISTERED_GUARDIANS_EXTENSION,
  REPRESENTATIVE_CODES,
  ROLE_CODE_SYSTEM,
  SIP_CASE_EXTENSION,
} from '../consent/profile.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const extensionShape = z.looseObject({
  url: z.string().min(1),
  valueReference: dt.reference.optional(),
  valueInteger: z.number().int().optional(),
});

const actorShape = z.looseObject({ role: dt.codeableConcept, reference: dt.reference });

const periodShape = z.looseObject({
  start: dt.fhirDateTime.optional(),
  end: dt.fhirDateTime.optional(),
});

const exclusionShape = z.looseObject({
  type: z.literal('deny', {
    message: "a nested provision records what the person does not want shared, so its type is 'deny'",
  }),
  code: z.array(dt.codeableConcept).min(1, 'say what is not to be shared in code[].text'),
  actor: z.array(actorShape).optional(),
  period: periodShape.optional(),
  provision: z
    .undefined({ message: 'exclusions are one level deep; nest no provision inside them' })
    .optional(),
});

const provisionShape = z.looseObject({
  type: z.literal('permit', { message: "the top provision permits sharing with the actors: type 'permit'" }),
  period: periodShape,
  actor: z.array(actorShape).min(1, 'name at least one organisation the consent covers'),
  provision: z.array(exclusionShape).optional(),
});

export const consentShape = z.looseObject({
  resourceType: z.literal('Consent'),
  id: z.unknown().optional(),
  meta: z.unknown().optional(),
  extension: z.array(extensionShape).optional(),
  status: z.string(),
  scope: dt.codeableConcept,
  category: z.array(dt.codeableConcept).min(1),
  patient: dt.reference,
  dateTime: dt.fhirDateTime.optional(),
  performer: z.array(dt.reference).optional(),
  organization: z.array(dt.reference).optional(),
  policyRule: dt.codeableConcept.optional(),
  contained: z.array(z.looseObject({ resourceType: z.string(), id: z.string().optional() })).optional(),
  provision: provisionShape,
});

export type GrantorKind = 'person' | 'guardian' | 'representative';

export interface Grantor {
  kind: GrantorKind;
  /** Who, to tell two guardians apart and to name them in messages: identifier, else name. */
  key: string;
  label: string;
  at: string;
}

export interface Exclusion {
  text: string;
  orgs: string[];
}

export interface ConsentCommand {
  caseId: string;
  status: CreateStatus;
  patient: { system: string; value: string; birthDate: string };
  /** Completed years when the consent was given (Consent.dateTime, else now). */
  ageAtConsent: number;
  consentTime: Date;
  registeredGuardians?: number;
  grantors: Grantor[];
  coveredOrgs: string[];
  periodStart: Date;
  periodEnd?: Date;
  exclusions: Exclusion[];
  /** The Consent to store: as sent, with the person identifier normalised and dateTime filled in. */
  resource: Record<string, unknown>;
}

const RELATIONSHIP_CODES: readonly string[] = [GUARDIAN_CODE, ...REPRESENTATIVE_CODES];

/** Validates shape and codes of a Consent to create; throws one InvalidRequest listing every problem. */
export function readConsent(body: Record<string, unknown>, now = new Date()): ConsentCommand {
  const consent = parseWith('Consent', consentShape, body);
  const problems: FhirErrorDetail[] = [];
  const problem = (expression: string, diagnostics: string, code: FhirErrorDetail['code'] = 'invalid') =>
    problems.push({ diagnostics: `${expression}: ${diagnostics}`, expression: [expression], code });

  const status = consent.status as CreateStatus;
  if (!CREATE_STATUSES.includes(status)) {
    problem(
      'Consent.status',
      consent.status === 'inactive'
        ? "a Consent is created 'active' (given), 'rejected' (refused), 'draft' or 'proposed'; it becomes 'inactive' only by revoking it with an update"
        : `must be one of ${CREATE_STATUSES.join(', ')} when created`,
      'value',
    );
  }

  // Fixed codes (docs/consent.md); ppc-1 needs policy or policyRule.
  if (!codesIn(consent.scope, CONSENT_SCOPE_SYSTEM).includes(CONSENT_SCOPE_CODE)) {
    problem('Consent.scope', `must be ${CONSENT_SCOPE_SYSTEM}|${CONSENT_SCOPE_CODE}`, 'value');
  }
  if (!consent.category.some((c) => codesIn(c, LOINC_SYSTEM).includes(CONSENT_CATEGORY_CODE))) {
    problem(
      'Consent.category',
      `must include ${LOINC_SYSTEM}|${CONSENT_CATEGORY_CODE} (Patient consent)`,
      'value',
    );
  }
  if (!codesIn(consent.policyRule, ACT_CODE_SYSTEM).includes(POLICY_RULE_CODE)) {
    problem('Consent.policyRule', `must be ${ACT_CODE_SYSTEM}|${POLICY_RULE_CODE}`, 'required');
  }

  // The case the consent belongs to.
  const caseExt = consent.extension?.filter((e) => e.url === SIP_CASE_EXTENSION) ?? [];
  const caseRef = caseExt[0]?.valueReference?.reference;
  const caseId = caseRef?.startsWith('Task/') ? caseRef.slice('Task/'.length) : undefined;
  if (caseExt.length !== 1 || !caseId || !UUID_RE.test(caseId)) {
    problem(
      `Consent.extension[${SIP_CASE_EXTENSION}]`,
      `exactly one extension with valueReference { "reference": "Task/<id of the SIP initiative>" } is required${caseRef ? `; got '${caseRef}'` : ''}`,
      'required',
    );
  }
  const guardiansExt = consent.extension?.find((e) => e.url === REGISTERED_GUARDIANS_EXTENSION);
  const registeredGuardians = guardiansExt?.valueInteger;
  if (
    guardiansExt &&
    (registeredGuardians === undefined || registeredGuardians < 1 || registeredGuardians > 2)
  ) {
    problem(
      `Consent.extension[${REGISTERED_GUARDIANS_EXTENSION}]`,
      'valueInteger must be 1 or 2 (the number of guardians registered for the child)',
      'value',
    );
  }

  // The person, by identifier (SPEC §5).
  const patientId = consent.patient.identifier;
  let patient: ConsentCommand['patient'] | undefined;
  if (!patientId?.system || !patientId.value) {
    problem(
      'Consent.patient.identifier',
      `the person is referenced by identifier: { "system": "${PERSONNUMMER_SYSTEM}", "value": "YYYYMMDDNNNC" }`,
      'required',
    );
  } else {
    const checked = checkPersonIdentifier(patientId.system, patientId.value, now);
    if (checked.ok)
      patient = { system: patientId.system, value: checked.value, birthDate: checked.birthDate };
    else problem('Consent.patient.identifier', checked.reason, 'value');
  }

  const consentTime = consent.dateTime ? new Date(consent.dateTime) : now;
  if (consent.dateTime && consentTime.getTime() > now.getTime() + 5 * 60_000) {
    problem('Consent.dateTime', 'lies in the future; it is when the consent was given', 'value');
  }
  let ageAtConsent: number | undefined;
  if (patient) {
    try {
      ageAtConsent = ageAt(patient.birthDate, consentTime);
    } catch {
      problem('Consent.dateTime', `lies before the person's birth date ${patient.birthDate}`, 'value');
    }
  }

  // Who gave it: the person, or contained RelatedPersons (guardians, representatives).
  const contained = consent.contained ?? [];
  const referenced = new Set<string>();
  const grantors: Grantor[] = [];
  (consent.performer ?? []).forEach((performer, i) => {
    const at = `Consent.performer[${i}]`;
    const ref = performer.reference;
    if (ref?.startsWith('#')) {
      referenced.add(ref.slice(1));
      const related = contained.find((r) => r.id === ref.slice(1));
      if (related?.resourceType !== 'RelatedPerson') {
        problem(at, `'${ref}' must point at a contained RelatedPerson`, 'invalid');
        return;
      }
      const grantor = readRelatedPerson(
        related,
        `Consent.contained[${contained.indexOf(related)}]`,
        now,
        problem,
      );
      if (grantor) grantors.push({ ...grantor, at });
      return;
    }
    const id = performer.identifier;
    const digits = (v: string | undefined) => v?.replace(/-/g, '');
    if (
      !ref &&
      id?.system &&
      id.value &&
      id.system === patientId?.system &&
      digits(id.value) === digits(patientId.value)
    ) {
      // The person themself; a bad number is reported once, on Consent.patient.
      grantors.push({
        kind: 'person',
        key: `${id.system}|${patient?.value ?? digits(id.value)}`,
        label: 'the person',
        at,
      });
      return;
    }
    problem(
      at,
      'a performer is either the person ({ "identifier": <the same identifier as Consent.patient> }) or a contained RelatedPerson ({ "reference": "#id" }) who is a guardian or legal representative',
      'invalid',
    );
  });
  contained.forEach((r, i) => {
    if (!r.id || !referenced.has(r.id)) {
      problem(
        `Consent.contained[${i}]`,
        'a contained resource must be referenced from Consent.performer',
        'invariant',
      );
    }
  });

  // Covered organisations: provision.actor with role IRCP and an HSA-id (SPEC §3).
  const coveredOrgs = readActors(consent.provision.actor, 'Consent.provision', problem);
  const { start, end } = consent.provision.period;
  if (!start)
    problem('Consent.provision.period.start', 'when the consent starts to apply is required', 'required');
  if (start && end && Date.parse(end) <= Date.parse(start)) {
    problem('Consent.provision.period.end', `must be after the start ${start}`, 'invariant');
  }

  // What the person does not want shared (SPEC §3: record it).
  const exclusions: Exclusion[] = [];
  (consent.provision.provision ?? []).forEach((nested, i) => {
    const at = `Consent.provision.provision[${i}]`;
    const texts = nested.code.map(
      (c) => c.text?.trim() || c.coding?.[0]?.display || c.coding?.[0]?.code || '',
    );
    texts.forEach((t, j) => {
      if (!t) problem(`${at}.code[${j}]`, 'say in text what is not to be shared', 'required');
    });
    const orgs = nested.actor ? readActors(nested.actor, at, problem) : [];
    for (const org of orgs) {
      if (coveredOrgs.length > 0 && !coveredOrgs.includes(org)) {
        problem(
          `${at}.actor`,
          `${org} is not one of the covered organisations, so nothing goes to it anyway`,
          'invariant',
        );
      }
    }
    exclusions.push({ text: texts.filter(Boolean).join('; '), orgs });
  });

  if (problems.length > 0 || !patient || ageAtConsent === undefined || !caseId || !start) {
    throw new InvalidRequest(
      problems.some((p) => /personnummer|samordningsnummer/.test(p.diagnostics))
        ? 'invalid-personnummer'
        : 'invalid-resource',
      problems,
    );
  }

  const resource = normalise(body, patient, consentTime);
  return {
    caseId: caseId.toLowerCase(),
    status,
    patient,
    ageAtConsent,
    consentTime,
    ...(registeredGuardians !== undefined ? { registeredGuardians } : {}),
    grantors,
    coveredOrgs,
    periodStart: new Date(start),
    ...(end ? { periodEnd: new Date(end) } : {}),
    exclusions,
    resource,
  };
}

type Problem = (expression: string, diagnostics: string, code?: FhirErrorDetail['code']) => void;

function readActors(actors: z.infer<typeof actorShape>[], at: string, problem: Problem): string[] {
  const orgs: string[] = [];
  actors.forEach((actor, i) => {
    const path = `${at}.actor[${i}]`;
    if (!codesIn(actor.role, PARTICIPATION_TYPE_SYSTEM).includes(RECIPIENT_ROLE_CODE)) {
      problem(
        `${path}.role`,
        `must be ${PARTICIPATION_TYPE_SYSTEM}|${RECIPIENT_ROLE_CODE} (information recipient)`,
        'value',
      );
      return;
    }
    const id = actor.reference.identifier;
    if (!id?.value || !isHsaSystem(id.system)) {
      problem(
        `${path}.reference.identifier`,
        'must be the HSA-id of the organisation (system urn:oid:1.2.752.29.4.19)',
        'required',
      );
      return;
    }
    const hsa = checkHsaId(id.value);
    if (!hsa.ok) {
      problem(`${path}.reference.identifier.value`, hsa.reason, 'value');
      return;
    }
    if (orgs.includes(hsa.value)) {
      problem(`${path}.reference.identifier.value`, `${hsa.value} is named twice`, 'invariant');
      return;
    }
    orgs.push(hsa.value);
  });
  return orgs;
}

const relatedPersonShape = z.looseObject({
  resourceType: z.literal('RelatedPerson'),
  id: dt.fhirId,
  patient: dt.reference,
  relationship: z.array(dt.codeableConcept).optional(),
  identifier: z.array(dt.identifier).optional(),
  name: z.array(dt.humanName).optional(),
});

function readRelatedPerson(
  raw: unknown,
  at: string,
  now: Date,
  problem: Problem,
): Omit<Grantor, 'at'> | undefined {
  const parsed = relatedPersonShape.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues) problem(`${at}.${i.path.join('.')}`, i.message);
    return undefined;
  }
  const person = parsed.data;
  const codes = (person.relationship ?? []).flatMap((r) => codesIn(r, ROLE_CODE_SYSTEM));
  const role = codes.find((c) => RELATIONSHIP_CODES.includes(c));
  if (!role) {
    problem(
      `${at}.relationship`,
      `must carry ${ROLE_CODE_SYSTEM} ${GUARDIAN_CODE} (vårdnadshavare), RESPRSN (god man or förvaltare) or POWATT (framtidsfullmakt)`,
      'required',
    );
    return undefined;
  }
  const name = person.name?.[0];
  const label = name?.text?.trim() || [...(name?.given ?? []), name?.family].filter(Boolean).join(' ').trim();
  let key: string | undefined;
  for (const id of person.identifier ?? []) {
    if (!id.system || !id.value) continue;
    if (id.system === PERSONNUMMER_SYSTEM || id.system === SAMORDNINGSNUMMER_SYSTEM) {
      const checked = checkPersonIdentifier(id.system, id.value, now);
      if (!checked.ok) {
        problem(`${at}.identifier`, checked.reason, 'value');
        return undefined;
      }
      key ??= `${id.system}|${checked.value}`;
    } else key ??= `${id.system}|${id.value}`;
  }
  if (!key && !label) {
    problem(
      at,
      'a guardian or representative needs an identifier or a name, so it is known who consented',
      'required',
    );
    return undefined;
  }
  return {
    kind: role === GUARDIAN_CODE ? 'guardian' : 'representative',
    key: key ?? `name|${label.toLowerCase()}`,
    label: label || key || '',
  };
}

/** Samsyn owns id, meta and status; the identifier is stored normalised, and dateTime says when it was given. */
function normalise(
  body: Record<string, unknown>,
  patient: { system: string; value: string },
  consentTime: Date,
): Record<string, unknown> {
  const { id: _id, meta: _meta, status: _status, ...rest } = body;
  const sentPatient = (body.patient ?? {}) as Record<string, unknown>;
  return {
    ...rest,
    patient: {
      ...sentPatient,
      identifier: { ...(sentPatient.identifier as object), system: patient.system, value: patient.value },
    },
    dateTime: (body.dateTime as string | undefined) ?? consentTime.toISOString(),
  };
}
