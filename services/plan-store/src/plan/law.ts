// SPEC §3 as validation: a plan may only become active when it states everything the law requires of a SIP
// (SoL 2 kap. 7 §, HSL 16 kap. 4 §). Every missing element is reported at once, so it can be fixed in one go.
import { BusinessRuleViolation, type FhirErrorDetail } from '@samsyn/fhir';
import { FOLLOW_UP_EXT, NO_OTHER_ACTOR_MEASURES_EXT } from './codes.ts';
import { activityActor, type CarePlanBody, careTeamMembers, extensionValue, hsaOf } from './profile.ts';

export interface LawContext {
  /** Today in Europe/Stockholm (YYYY-MM-DD): a follow-up cannot be agreed for a day that has passed. */
  today: string;
}

/** The elements the law requires that `plan` lacks (empty when it may be active). */
export function missingForActive(plan: CarePlanBody, ctx: LawContext): FhirErrorDetail[] {
  const missing: FhirErrorDetail[] = [];
  const need = (expression: string, diagnostics: string) =>
    missing.push({ diagnostics, expression: [expression], code: 'required' });

  const activities = (plan.activity ?? []).filter((a) => a.detail);
  if (activities.length === 0) {
    need('CarePlan.activity', 'needed activities: the plan states no activity (insats) at all');
  }
  activities.forEach((a, i) => {
    const actor = activityActor(a);
    if (!actor) {
      need(
        `CarePlan.activity[${i}].detail.extension`,
        `activity ${i + 1}: say whose activity it is (sip-activity-actor: principal, other-actor or person)`,
      );
    } else if (actor !== 'person' && !a.detail?.performer?.some((p) => hsaOf(p))) {
      need(
        `CarePlan.activity[${i}].detail.performer`,
        `activity ${i + 1}: name the organisation responsible for it (performer by HSA-id)`,
      );
    }
  });

  const members = careTeamMembers(plan);
  const principals = [
    ...new Set(members.filter((m) => m.role === 'principal' && m.org).map((m) => m.org as string)),
  ];
  if (!plan.careTeam?.length) {
    need('CarePlan.careTeam', 'the care team: who takes part (a contained CareTeam)');
  }
  if (principals.length === 0) {
    need(
      'CarePlan.contained(CareTeam).participant',
      'the principals: the care team names no principal unit (role sip-team-role#principal)',
    );
  }
  const principalActivityOrgs = new Set(
    activities
      .filter((a) => activityActor(a) === 'principal')
      .flatMap((a) => (a.detail?.performer ?? []).map(hsaOf))
      .filter((o): o is string => o !== undefined),
  );
  for (const org of principals) {
    if (!principalActivityOrgs.has(org)) {
      need(
        'CarePlan.activity',
        `the activities of each principal: principal ${org} is responsible for no activity in the plan`,
      );
    }
  }

  const hasOtherActorMeasure = activities.some((a) => activityActor(a) === 'other-actor');
  if (!hasOtherActorMeasure && extensionValue<boolean>(plan, NO_OTHER_ACTOR_MEASURES_EXT) !== true) {
    need(
      'CarePlan.activity',
      "other actors' measures: add them as activities (sip-activity-actor other-actor), or state that there are none (extension sip-no-other-actor-measures = true)",
    );
  }

  const lead = hsaOf(plan.author);
  if (!lead) {
    need(
      'CarePlan.author',
      'the lead principal (huvudansvar): author must name the lead organisation by HSA-id',
    );
  } else if (principals.length > 0 && !principals.includes(lead)) {
    need('CarePlan.author', `the lead principal: ${lead} is not a principal unit of the care team`);
  }

  const followUp = extensionValue<string>(plan, FOLLOW_UP_EXT);
  if (!followUp) {
    need('CarePlan.extension(sip-follow-up-date)', 'the follow-up date: when the plan will be followed up');
  } else if (followUp < ctx.today) {
    need('CarePlan.extension(sip-follow-up-date)', `the follow-up date ${followUp} has already passed`);
  }
  return missing;
}

/** Throws a 422 listing every missing element unless `plan` may be active. */
export function requireLawfulActivePlan(plan: CarePlanBody, ctx: LawContext): void {
  const missing = missingForActive(plan, ctx);
  if (missing.length > 0) {
    throw new BusinessRuleViolation('plan-incomplete', [
      {
        diagnostics: `The plan cannot become active: it lacks ${missing.length} element(s) the law requires (SPEC §3)`,
        code: 'business-rule',
      },
      ...missing,
    ]);
  }
}

/** Today's date in Sweden, as follow-up dates are agreed. */
export function swedishToday(now: Date): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm' }).format(now);
}
