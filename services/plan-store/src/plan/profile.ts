// What a SIP CarePlan must look like (SPEC §5) and what Samsyn reads out of it: the case, the person, the lead,
// the participants, the follow-up date. Shape problems are a 400 that lists them all.
import {
  checkHsaId,
  checkPersonIdentifier,
  dt,
  type FhirErrorDetail,
  InvalidRequest,
  isHsaSystem,
} from '@samsyn/fhir';
import { z } from 'zod';
import { ACTIVITY_ACTOR_EXT, FOLLOW_UP_EXT, TEAM_ROLE_SYSTEM } from './codes.ts';
import { r4Problems } from './r4.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Statuses a client may set; closing goes through $close so the reason is recorded. */
export const WRITABLE_STATUSES = ['draft', 'active'] as const;

const reference = dt.reference;
const extensions = z.array(z.looseObject({ url: z.string().min(1) })).optional();

const activitySchema = z.looseObject({
  detail: z
    .looseObject({
      extension: extensions,
      status: z.string(),
      performer: z.array(reference).optional(),
      scheduledPeriod: dt.period.optional(),
      goal: z.array(reference).optional(),
    })
    .optional(),
});

const containedSchema = z.looseObject({ resourceType: z.string(), id: dt.fhirId });

export const carePlanSchema = z.looseObject({
  resourceType: z.literal('CarePlan'),
  id: z.string().optional(),
  status: z.enum(WRITABLE_STATUSES, {
    error: `status must be one of ${WRITABLE_STATUSES.join(', ')} (close a plan with $close)`,
  }),
  intent: z.literal('plan', { error: "intent must be 'plan'" }),
  subject: z.looseObject(
    { identifier: dt.identifier },
    { error: 'subject must name the person by identifier' },
  ),
  author: reference.optional(),
  period: dt.period.optional(),
  supportingInfo: z.array(reference).optional(),
  contained: z.array(containedSchema).optional(),
  careTeam: z.array(reference).optional(),
  goal: z.array(reference).optional(),
  activity: z.array(activitySchema).optional(),
  extension: extensions,
});
export type CarePlanBody = z.infer<typeof carePlanSchema>;

export interface PlanFacts {
  caseId: string;
  patient: { system: string; value: string };
  leadOrg?: string;
  participantOrgs: string[];
  followUpDue?: string;
  periodStart?: Date;
  periodEnd?: Date;
  language?: string;
}

export interface ReadPlan {
  /** The plan as stored: without id and meta, which Samsyn owns. */
  resource: Record<string, unknown>;
  status: (typeof WRITABLE_STATUSES)[number];
  facts: PlanFacts;
  plan: CarePlanBody;
}

type Ref = z.infer<typeof reference>;

/** `value` if it is an array, else none: for parts of contained resources no schema has checked. */
function list<T>(value: T[] | undefined): NonNullable<T>[] {
  return Array.isArray(value)
    ? value.filter((v): v is NonNullable<T> => typeof v === 'object' && v !== null)
    : [];
}

/** The HSA-id a reference names by identifier, if any. */
export function hsaOf(ref: Ref | undefined): string | undefined {
  const id = ref?.identifier;
  return id && isHsaSystem(id.system) && typeof id.value === 'string' ? id.value : undefined;
}

export function extensionValue<T = unknown>(
  holder: { extension?: { url: string }[] | undefined } | undefined,
  url: string,
): T | undefined {
  const ext = holder?.extension?.find((e) => e.url === url) as Record<string, unknown> | undefined;
  if (!ext) return undefined;
  const key = Object.keys(ext).find((k) => k.startsWith('value'));
  return key ? (ext[key] as T) : undefined;
}

export interface TeamMember {
  role?: string;
  org?: string;
  onBehalfOf?: string;
  display?: string;
  reference?: string;
}

/** The contained CareTeam the plan points to, as a list of members with their SIP role. */
export function careTeamMembers(plan: CarePlanBody): TeamMember[] {
  const ref = plan.careTeam?.[0]?.reference;
  const team = plan.contained?.find((r) => r.resourceType === 'CareTeam' && `#${r.id}` === ref) as
    | {
        participant?: {
          role?: { coding?: { system?: string; code?: string }[] }[];
          member?: Ref;
          onBehalfOf?: Ref;
        }[];
      }
    | undefined;
  // Contained resources are only shape-checked at the top level; read them defensively.
  return list(team?.participant).map((p) => {
    const role = list(p.role)
      .flatMap((r) => list(r?.coding))
      .find((c) => c?.system === TEAM_ROLE_SYSTEM)?.code;
    const org = hsaOf(p.member);
    const onBehalfOf = hsaOf(p.onBehalfOf);
    return {
      ...(role ? { role } : {}),
      ...(org && (p.member?.type === 'Organization' || !p.member?.type) ? { org } : {}),
      ...(onBehalfOf ? { onBehalfOf } : {}),
      ...(p.member?.display ? { display: p.member.display } : {}),
      ...(p.member?.reference ? { reference: p.member.reference } : {}),
    };
  });
}

export function activityActor(activity: z.infer<typeof activitySchema>): string | undefined {
  return extensionValue<{ code?: string }>(activity.detail, ACTIVITY_ACTOR_EXT)?.code;
}

/** Reads and checks a CarePlan body; every shape problem is reported in one 400. */
export function readCarePlan(body: Record<string, unknown>): ReadPlan {
  const parsed = carePlanSchema.safeParse(body);
  if (!parsed.success) {
    throw new InvalidRequest(
      'invalid-careplan',
      parsed.error.issues.map((issue) => {
        const path = ['CarePlan', ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))]
          .join('.')
          .replace(/\.\[/g, '[');
        return { diagnostics: `${path}: ${issue.message}`, expression: [path], code: 'invalid' as const };
      }),
    );
  }
  const plan = parsed.data;
  const problems: FhirErrorDetail[] = [];
  const problem = (expression: string, diagnostics: string) =>
    problems.push({ diagnostics: `${expression}: ${diagnostics}`, expression: [expression], code: 'value' });

  const pid = plan.subject.identifier;
  const checked = checkPersonIdentifier(pid.system ?? '', pid.value ?? '');
  if (!checked.ok) problem('CarePlan.subject.identifier', checked.reason);

  const caseRefs = (plan.supportingInfo ?? [])
    .map((r) => /^Task\/([^/]+)$/.exec(r.reference ?? '')?.[1])
    .filter((id): id is string => id !== undefined);
  const caseId = caseRefs[0];
  if (caseRefs.length !== 1 || !caseId || !UUID_RE.test(caseId)) {
    problem(
      'CarePlan.supportingInfo',
      'must reference the SIP initiative exactly once as Task/<id> (the case the plan belongs to)',
    );
  }

  const orgs = new Set<string>();
  const checkOrg = (expression: string, ref: Ref | undefined, required: boolean) => {
    if (!ref) return;
    const id = ref.identifier;
    if (!id || !isHsaSystem(id.system)) {
      if (required)
        problem(
          expression,
          'must name the organisation by HSA-id (identifier system urn:oid:1.2.752.29.4.19)',
        );
      return;
    }
    const hsa = checkHsaId(id.value ?? '');
    if (!hsa.ok) problem(`${expression}.identifier.value`, hsa.reason);
    else orgs.add(hsa.value);
  };
  checkOrg('CarePlan.author', plan.author, true);
  for (const [i, a] of (plan.activity ?? []).entries()) {
    for (const [j, p] of (a.detail?.performer ?? []).entries()) {
      checkOrg(`CarePlan.activity[${i}].detail.performer[${j}]`, p, false);
    }
  }

  const containedIds = new Set<string>();
  for (const [i, r] of (plan.contained ?? []).entries()) {
    if (
      !['Goal', 'CareTeam', 'Patient', 'RelatedPerson', 'Practitioner', 'Organization'].includes(
        r.resourceType,
      )
    )
      problem(`CarePlan.contained[${i}]`, `a ${r.resourceType} cannot be contained in a SIP plan`);
    if (containedIds.has(r.id)) problem(`CarePlan.contained[${i}].id`, `'${r.id}' is used twice`);
    containedIds.add(r.id);
  }
  const local = (expression: string, ref: Ref | undefined, type: string) => {
    const target = ref?.reference?.startsWith('#') ? ref.reference.slice(1) : undefined;
    if (!target || !plan.contained?.some((r) => r.id === target && r.resourceType === type))
      problem(expression, `must reference a contained ${type} as #<id>`);
  };
  for (const [i, g] of (plan.goal ?? []).entries()) local(`CarePlan.goal[${i}]`, g, 'Goal');
  if ((plan.careTeam?.length ?? 0) > 1) problem('CarePlan.careTeam', 'a SIP plan has one care team');
  for (const [i, t] of (plan.careTeam ?? []).entries()) local(`CarePlan.careTeam[${i}]`, t, 'CareTeam');
  for (const [i, a] of (plan.activity ?? []).entries()) {
    for (const [j, g] of (a.detail?.goal ?? []).entries()) {
      local(`CarePlan.activity[${i}].detail.goal[${j}]`, g, 'Goal');
    }
  }
  const members = careTeamMembers(plan);
  for (const m of members) {
    if (m.org && checkHsaId(m.org).ok) orgs.add(m.org);
    if (m.onBehalfOf && checkHsaId(m.onBehalfOf).ok) orgs.add(m.onBehalfOf);
  }

  const followUpDue = extensionValue<string>(plan, FOLLOW_UP_EXT);
  if (
    followUpDue !== undefined &&
    (typeof followUpDue !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(followUpDue))
  )
    problem('CarePlan.extension(sip-follow-up-date)', 'valueDate must be a full date, YYYY-MM-DD');

  if (problems.length > 0) throw new InvalidRequest('invalid-careplan', problems);

  const { id: _id, meta: _meta, ...resource } = body;
  const structural = r4Problems(resource);
  if (structural.length > 0) throw new InvalidRequest('invalid-careplan', structural);
  const leadOrg = hsaOf(plan.author);
  return {
    resource,
    status: plan.status,
    plan,
    facts: {
      caseId: caseId as string,
      patient: { system: pid.system as string, value: checked.ok ? checked.value : '' },
      ...(leadOrg ? { leadOrg } : {}),
      participantOrgs: [...orgs].sort(),
      ...(followUpDue ? { followUpDue } : {}),
      ...(plan.period?.start ? { periodStart: new Date(plan.period.start) } : {}),
      ...(plan.period?.end ? { periodEnd: new Date(plan.period.end) } : {}),
      ...(preferredLanguage(plan) ? { language: preferredLanguage(plan) as string } : {}),
    },
  };
}

/** The person's preferred language: from the contained Patient the care team names as the person. */
export function preferredLanguage(plan: CarePlanBody): string | undefined {
  const patients = (plan.contained ?? []).filter((r) => r.resourceType === 'Patient') as {
    communication?: { preferred?: boolean; language?: { coding?: { code?: string }[] } }[];
  }[];
  const comms = patients.flatMap((p) => list(p.communication));
  const chosen = comms.find((c) => c?.preferred === true) ?? comms[0];
  const code = list(chosen?.language?.coding).find((c) => typeof c?.code === 'string')?.code;
  return typeof code === 'string' && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(code) ? code : undefined;
}
