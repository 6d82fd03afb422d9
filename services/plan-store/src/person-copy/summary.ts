// The person's own printable copy of the plan (SPEC §9): one HTML page in the person's language, right-to-left
// for Arabic and Farsi. Texts the participants wrote (goals in the person's own words, activities) are shown as written.
import type { CarePlan } from '@samsyn/fhir';
import { ACTIVITY_ACTOR_EXT, FOLLOW_UP_EXT, TEAM_ROLE_SYSTEM } from '../plan/codes.ts';
import { RTL_LANGUAGES, type SummaryLanguage, TEXTS } from './translations.ts';

type Ref = { reference?: string; display?: string; identifier?: { value?: string } };
type Contained = { resourceType: string; id?: string; [k: string]: unknown };
type Ext = {
  url: string;
  valueDate?: string;
  valueCoding?: { code?: string };
  valueReference?: Ref;
  extension?: Ext[];
};

/** Contained resources are shape-checked only at the top level: read their parts defensively. */
function arr<T>(value: T[] | undefined): NonNullable<T>[] {
  return Array.isArray(value)
    ? value.filter((v): v is NonNullable<T> => typeof v === 'object' && v !== null)
    : [];
}

function esc(text: unknown): string {
  return String(text ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Text the participants wrote, isolated so its own direction holds inside a right-to-left page. */
function own(text: unknown): string {
  const value = esc(text);
  return value ? `<bdi>${value}</bdi>` : '';
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? '');
}

export interface SummaryInput {
  plan: CarePlan;
  language: SummaryLanguage;
  now: Date;
}

export function renderSummary({ plan, language, now }: SummaryInput): string {
  const t = TEXTS[language];
  const dir = RTL_LANGUAGES.has(language) ? 'rtl' : 'ltr';
  const lang = language === 'sv-x-easy' ? 'sv' : language;
  const dateFmt = new Intl.DateTimeFormat(t.locale, { dateStyle: 'long', timeZone: 'Europe/Stockholm' });
  const day = (iso: string | undefined) =>
    iso ? dateFmt.format(new Date(iso.length === 10 ? `${iso}T12:00:00Z` : iso)) : '';
  const contained = (plan.contained ?? []) as unknown as Contained[];
  const byRef = (ref: Ref | undefined) => contained.find((c) => ref?.reference === `#${c.id}`);
  const orgName = (ref: Ref | undefined) => ref?.display ?? ref?.identifier?.value ?? '';

  const patient = contained.find((c) => c.resourceType === 'Patient') as
    | { name?: { text?: string; given?: string[]; family?: string }[] }
    | undefined;
  const name = arr(patient?.name)[0];
  const given = Array.isArray(name?.given) ? name.given.filter((g) => typeof g === 'string') : [];
  const personName = name?.text ?? [...given, name?.family].filter(Boolean).join(' ');
  const subject = (plan.subject as Ref | undefined)?.identifier?.value ?? '';

  const goals = contained.filter((c) => c.resourceType === 'Goal') as unknown as (Contained & {
    description?: { text?: string };
    extension?: Ext[];
  })[];
  const parentOf = (g: { extension?: Ext[] }) =>
    arr(
      arr(g.extension).find((e) => e?.url === 'http://hl7.org/fhir/StructureDefinition/goal-relationship')
        ?.extension,
    ).find((e) => e?.url === 'target')?.valueReference?.reference;
  const longTerm = goals.filter((g) => !parentOf(g));
  const goalHtml = longTerm
    .map((g) => {
      const subs = goals.filter((s) => parentOf(s) === `#${g.id}`);
      return `<li><p class="goal">${own(g.description?.text)}</p>${
        subs.length > 0
          ? `<p class="sub">${esc(t.subGoals)}</p><ul>${subs.map((s) => `<li>${own(s.description?.text)}</li>`).join('')}</ul>`
          : ''
      }</li>`;
    })
    .join('');

  type Activity = {
    detail?: {
      extension?: Ext[];
      code?: { text?: string; coding?: { display?: string }[] };
      description?: string;
      performer?: Ref[];
      scheduledPeriod?: { start?: string; end?: string };
      scheduledString?: string;
    };
  };
  const activities = ((plan.activity ?? []) as unknown as Activity[]).filter((a) => a.detail);
  const actorOf = (a: Activity) =>
    a.detail?.extension?.find((e) => e.url === ACTIVITY_ACTOR_EXT)?.valueCoding?.code;
  const what = (a: Activity) =>
    [a.detail?.code?.text ?? a.detail?.code?.coding?.[0]?.display, a.detail?.description]
      .filter(Boolean)
      .join(' – ');
  const when = (a: Activity) => {
    const p = a.detail?.scheduledPeriod;
    if (p?.start || p?.end) return `${day(p.start)} – ${day(p.end)}`;
    return a.detail?.scheduledString ?? '';
  };
  const table = (list: Activity[]) =>
    `<table><thead><tr><th>${esc(t.activity)}</th><th>${esc(t.responsible)}</th><th>${esc(t.when)}</th></tr></thead><tbody>${list
      .map(
        (a) =>
          `<tr><td>${own(what(a))}</td><td>${own((a.detail?.performer ?? []).map(orgName).join(', '))}</td><td>${own(when(a))}</td></tr>`,
      )
      .join('')}</tbody></table>`;
  const principal = activities.filter((a) => actorOf(a) === 'principal');
  const other = activities.filter((a) => actorOf(a) === 'other-actor');
  const ownActivities = activities.filter((a) => actorOf(a) === 'person');

  const team = byRef((plan.careTeam ?? [])[0] as Ref | undefined) as
    | {
        participant?: {
          role?: { coding?: { system?: string; code?: string }[] }[];
          member?: Ref;
          onBehalfOf?: Ref;
        }[];
      }
    | undefined;
  const teamHtml = arr(team?.participant)
    .map((p) => {
      const role = arr(p?.role)
        .flatMap((r) => arr(r?.coding))
        .find((c) => c?.system === TEAM_ROLE_SYSTEM)?.code as keyof typeof t.roles | undefined;
      const isPerson = p.member?.reference === '#person' || role === 'person';
      const who = isPerson ? personName || subject : orgName(p.member);
      const behalf = p.onBehalfOf ? ` (${own(orgName(p.onBehalfOf))})` : '';
      return `<li><span class="role">${esc(role ? t.roles[role] : '')}</span> ${own(who)}${behalf}</li>`;
    })
    .join('');

  const followUp = ((plan.extension ?? []) as Ext[]).find((e) => e.url === FOLLOW_UP_EXT)?.valueDate;
  const status = t.statuses[plan.status as keyof typeof t.statuses] ?? plan.status;

  return `<!doctype html>
<html lang="${esc(lang)}" dir="${dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(t.title)}</title>
<style>
  body { font-family: system-ui, "Noto Sans", "Noto Naskh Arabic", sans-serif; font-size: ${language === 'sv-x-easy' ? '1.25rem' : '1.05rem'}; line-height: 1.6; margin: 2rem auto; max-width: 48rem; padding: 0 1rem; color: #111; }
  h1 { font-size: 1.6rem; margin-bottom: .25rem; }
  h2 { font-size: 1.2rem; margin-top: 1.75rem; border-bottom: 1px solid #999; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border: 1px solid #999; padding: .35rem .5rem; text-align: start; vertical-align: top; }
  .meta { color: #444; }
  .role { font-weight: 600; }
  .rights { border: 2px solid #333; padding: .75rem 1rem; margin-top: 2rem; }
  button { font-size: 1rem; padding: .4rem 1rem; }
  @media print { button { display: none; } body { margin: 0; max-width: none; } }
</style>
</head>
<body>
<header>
<h1>${esc(t.title)}</h1>
<p class="intro">${esc(t.intro)}</p>
<p class="meta">${esc(t.person)}: <strong>${own(personName || subject)}</strong></p>
<p class="meta">${esc(t.status)}: <strong data-status="${esc(plan.status)}">${esc(status)}</strong></p>
<p class="meta">${esc(fill(t.version, { v: plan.meta?.versionId ?? '', date: day(plan.meta?.lastUpdated) }))}</p>
<p class="meta">${esc(t.lead)}: <strong>${own(orgName(plan.author as Ref | undefined))}</strong></p>
<button type="button" onclick="window.print()">${esc(t.print)}</button>
</header>
<main>
<section id="goals"><h2>${esc(t.goals)}</h2><ul>${goalHtml}</ul></section>
<section id="activities"><h2>${esc(t.activities)}</h2>${table(principal)}</section>
<section id="other-actors"><h2>${esc(t.otherActors)}</h2>${other.length > 0 ? table(other) : `<p>${esc(t.noneOther)}</p>`}</section>
<section id="own"><h2>${esc(t.yourOwn)}</h2><ul>${ownActivities.map((a) => `<li>${own(what(a))}${when(a) ? ` (${own(when(a))})` : ''}</li>`).join('')}</ul></section>
<section id="team"><h2>${esc(t.team)}</h2><ul>${teamHtml}</ul></section>
<section id="follow-up"><h2>${esc(t.followUp)}</h2><p><strong>${esc(followUp ? day(followUp) : t.noFollowUp)}</strong></p></section>
<p class="rights">${esc(t.rights)}</p>
</main>
<footer><p class="meta">${esc(fill(t.printed, { date: day(now.toISOString()) }))}</p></footer>
</body>
</html>
`;
}
