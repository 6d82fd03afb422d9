// Reads an initiative Task (SPEC §5) into a command, with every problem reported at once as a 400.
import {
  ageAt,
  ageBand,
  checkHsaId,
  checkPersonIdentifier,
  codesIn,
  dt,
  type FhirErrorDetail,
  InvalidRequest,
  isHsaSystem,
  parseWith,
  TASK_CODE_SYSTEM,
  TASK_INPUT_SYSTEM,
  TRIGGER_SYSTEM,
} from '@samsyn/fhir';
import { z } from 'zod';

export const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
export const DISCHARGE_READY_EXTENSION = 'https://samsyn.se/fhir/StructureDefinition/discharge-ready-at';

const containedPatient = z.looseObject({
  resourceType: z.literal('Patient'),
  id: dt.fhirId,
  meta: dt.meta.optional(),
  identifier: z.array(dt.identifier).min(1, 'the person needs a personnummer or samordningsnummer'),
  name: z.array(dt.humanName).optional(),
  birthDate: dt.fhirDate.optional(),
  communication: z.array(z.looseObject({ language: dt.codeableConcept })).optional(),
  telecom: z.array(dt.contactPoint).optional(),
  address: z.array(dt.address).optional(),
});

const taskInput = z.looseObject({
  type: dt.codeableConcept,
  valueReference: dt.reference.optional(),
});

export const initiativeShape = z.looseObject({
  resourceType: z.literal('Task'),
  id: z.unknown().optional(),
  identifier: z.array(dt.identifier).optional(),
  status: z.literal('requested', { message: "an initiative is created with status 'requested'" }),
  intent: z.literal('order', { message: "an initiative has intent 'order'" }),
  code: dt.codeableConcept,
  contained: z
    .array(z.looseObject({ resourceType: z.string() }))
    .min(1, 'the person must be a contained Patient'),
  for: dt.reference,
  requester: dt.reference,
  reasonCode: dt.codeableConcept,
  description: z.string().max(4000).optional(),
  authoredOn: dt.fhirDateTime.optional(),
  extension: z
    .array(z.looseObject({ url: z.string(), valueDateTime: dt.fhirDateTime.optional() }))
    .optional(),
  input: z.array(taskInput).min(1, 'name at least one organisation to summon or invite'),
});

export interface Invitee {
  org: string;
  kind: 'summoned' | 'invited';
}

export interface InitiateCaseCommand {
  requesterOrg: string;
  identifier?: { system: string; value: string };
  patient: { system: string; value: string; birthDate: string };
  /** meta.security confidentiality R on the contained Patient: skyddad identitet (SPEC §3). */
  protectedIdentity: boolean;
  trigger: 'discharge' | 'other';
  dischargeReadyAt?: Date;
  invitees: Invitee[];
  /** The Task as received, kept for reads (Samsyn-owned fields are overwritten on output). */
  resource: Record<string, unknown>;
}

/** Validates shape and meaning of an initiative; throws one InvalidRequest listing every problem. */
export function readInitiative(body: Record<string, unknown>, now = new Date()): InitiateCaseCommand {
  const task = parseWith('Task', initiativeShape, body);
  const problems: FhirErrorDetail[] = [];
  const problem = (expression: string, diagnostics: string, code: FhirErrorDetail['code'] = 'invalid') =>
    problems.push({ diagnostics: `${expression}: ${diagnostics}`, expression: [expression], code });

  if (!codesIn(task.code, TASK_CODE_SYSTEM).includes('sip-initiative')) {
    problem(
      'Task.code',
      `must be ${TASK_CODE_SYSTEM}|sip-initiative; invitations are created by Samsyn`,
      'value',
    );
  }

  // The person: Task.for points at the contained Patient (SPEC §5).
  const ref = task.for.reference;
  const patientRaw = ref?.startsWith('#')
    ? task.contained.find((r) => r.resourceType === 'Patient' && r.id === ref.slice(1))
    : undefined;
  let patient: { system: string; value: string; birthDate: string } | undefined;
  let protectedIdentity = false;
  if (!patientRaw) {
    problem('Task.for', 'must reference the contained Patient, e.g. { "reference": "#p" }', 'required');
  } else {
    const parsed = containedPatient.safeParse(patientRaw);
    if (!parsed.success) {
      for (const i of parsed.error.issues) problem(`Task.contained[Patient].${i.path.join('.')}`, i.message);
    } else {
      protectedIdentity = (parsed.data.meta?.security ?? []).some(
        (c) => c.system === CONFIDENTIALITY_SYSTEM && c.code === 'R',
      );
      const ids = parsed.data.identifier.filter((i) => i.system && i.value);
      const checked = ids.map((i) => ({
        id: i,
        result: checkPersonIdentifier(i.system as string, i.value as string, now),
      }));
      const valid = checked.find((c) => c.result.ok);
      if (!valid || !valid.result.ok) {
        const reasons = checked.map((c) => (c.result.ok ? '' : c.result.reason)).filter(Boolean);
        problem(
          'Task.contained[Patient].identifier',
          reasons.length > 0
            ? reasons.join('; ')
            : 'needs a personnummer or samordningsnummer with system and value',
          'value',
        );
      } else {
        patient = {
          system: valid.id.system as string,
          value: valid.result.value,
          birthDate: valid.result.birthDate,
        };
      }
    }
  }

  const requester = task.requester.identifier;
  let requesterOrg: string | undefined;
  if (!requester?.value || !isHsaSystem(requester.system)) {
    problem(
      'Task.requester.identifier',
      'must be the HSA-id of the initiating unit (system urn:oid:1.2.752.29.4.19)',
      'required',
    );
  } else {
    const hsa = checkHsaId(requester.value);
    if (hsa.ok) requesterOrg = hsa.value;
    else problem('Task.requester.identifier.value', hsa.reason, 'value');
  }

  const triggers = codesIn(task.reasonCode, TRIGGER_SYSTEM);
  const trigger = triggers[0];
  if (trigger !== 'discharge' && trigger !== 'other') {
    problem('Task.reasonCode', `must carry ${TRIGGER_SYSTEM} with code discharge or other`, 'value');
  }
  const dischargeExt = task.extension?.find((e) => e.url === DISCHARGE_READY_EXTENSION);
  const dischargeReadyAt = dischargeExt?.valueDateTime ? new Date(dischargeExt.valueDateTime) : undefined;
  if (dischargeReadyAt && trigger !== 'discharge') {
    problem(
      'Task.extension',
      'a ready-for-discharge time is only meaningful with trigger discharge',
      'invariant',
    );
  }
  if (dischargeReadyAt && dischargeReadyAt.getTime() > now.getTime() + 5 * 60_000) {
    problem('Task.extension', 'the ready-for-discharge time lies in the future', 'value');
  }

  const invitees: Invitee[] = [];
  task.input.forEach((input, i) => {
    const at = `Task.input[${i}]`;
    const kinds = codesIn(input.type, TASK_INPUT_SYSTEM);
    const kind = kinds[0];
    if (kind !== 'summoned' && kind !== 'invited') {
      problem(`${at}.type`, `must carry ${TASK_INPUT_SYSTEM} with code summoned or invited`, 'value');
      return;
    }
    const id = input.valueReference?.identifier;
    if (!id?.value || !isHsaSystem(id.system)) {
      problem(`${at}.valueReference.identifier`, 'must be the HSA-id of the invited unit', 'required');
      return;
    }
    const hsa = checkHsaId(id.value);
    if (!hsa.ok) {
      problem(`${at}.valueReference.identifier.value`, hsa.reason, 'value');
      return;
    }
    if (hsa.value === requesterOrg) {
      problem(
        `${at}.valueReference.identifier.value`,
        'the initiating unit takes part already; do not invite it',
        'invariant',
      );
      return;
    }
    if (invitees.some((x) => x.org === hsa.value)) {
      problem(`${at}.valueReference.identifier.value`, `${hsa.value} is named twice`, 'invariant');
      return;
    }
    invitees.push({ org: hsa.value, kind });
  });

  const identifiers = (task.identifier ?? []).filter((i) => i.system && i.value);
  if ((task.identifier ?? []).length > identifiers.length) {
    problem('Task.identifier', 'every identifier needs both system and value', 'required');
  }

  if (
    problems.length > 0 ||
    !patient ||
    !requesterOrg ||
    !trigger ||
    (trigger !== 'discharge' && trigger !== 'other')
  ) {
    throw new InvalidRequest(
      problems.some(
        (p) => p.diagnostics.includes('personnummer') || p.diagnostics.includes('samordningsnummer'),
      )
        ? 'invalid-personnummer'
        : 'invalid-resource',
      problems,
    );
  }
  const first = identifiers[0];
  return {
    requesterOrg,
    ...(first ? { identifier: { system: first.system as string, value: first.value as string } } : {}),
    patient,
    protectedIdentity,
    trigger,
    ...(dischargeReadyAt ? { dischargeReadyAt } : {}),
    invitees,
    resource: body,
  };
}

/** Age band of the person at `at`, the only trace of the birth date that leaves this service. */
export function personAgeBand(birthDate: string, at: Date) {
  return ageBand(ageAt(birthDate, at));
}
