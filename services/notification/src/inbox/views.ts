// The staff inbox's HTML (Swedish, server-rendered with hono/html, which escapes every interpolation). Built for
// keyboard use and screen readers: real buttons and labels, a skip link, focus outlines, a live region, and
// colours with at least 4.5:1 contrast.
import type { Appointment, Communication, Task } from '@samsyn/fhir';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { NOTIFICATION_TYPES, type NotificationType, swedishTime } from '../notify/rules.ts';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const STYLE = `
:root { color-scheme: light; --ink: #1a1a1a; --muted: #4a4a4a; --accent: #0b4f8a; --accent-ink: #ffffff;
  --urgent: #a4141b; --line: #c8c8c8; --unread: #eef4fb; }
* { box-sizing: border-box; }
body { font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff;
  margin: 0; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; }
header { background: var(--accent); color: var(--accent-ink); padding: .75rem 1.5rem; display: flex;
  justify-content: space-between; align-items: center; flex-wrap: wrap; gap: .5rem; }
header a, header button { color: var(--accent-ink); }
main { padding: 1rem 1.5rem; max-width: 70rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
:focus-visible { outline: 3px solid #f2a900; outline-offset: 2px; }
button, .button { font: inherit; background: var(--accent); color: var(--accent-ink); border: 0; border-radius: 4px;
  padding: .4rem .8rem; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary { background: #fff; color: var(--accent); border: 2px solid var(--accent); }
label { display: block; font-weight: 600; margin-top: .5rem; }
input, select, textarea { font: inherit; padding: .35rem; border: 1px solid #6b6b6b; border-radius: 4px; max-width: 100%; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 1rem 0; padding: .75rem 1rem; }
ul.notes { list-style: none; padding: 0; }
ul.notes li { border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin: .5rem 0; }
ul.notes li.unread { background: var(--unread); border-left: 6px solid var(--accent); }
.meta { color: var(--muted); font-size: .9rem; }
.urgent { color: var(--urgent); font-weight: 700; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; margin-top: .5rem; }
.actions form { display: inline; }
.filters { display: flex; gap: 1rem; flex-wrap: wrap; align-items: end; }
.notice { border: 2px solid var(--accent); padding: .75rem 1rem; border-radius: 6px; }
.error { border-color: var(--urgent); color: var(--urgent); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`;

export function layout(title: string, body: Html, who?: { org: string; name?: string }): Html {
  return html`<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} – Samsyn</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<a class="skip" href="#innehall">Hoppa till innehållet</a>
<header>
  <span><strong>Samsyn</strong> – inkorg för samordnad individuell plan</span>
  ${
    who
      ? html`<span>Inloggad för ${who.name ? `${who.name}, ` : ''}${who.org}
      <form method="post" action="/inbox/signout" style="display:inline"><button class="secondary" type="submit">Logga ut</button></form></span>`
      : ''
  }
</header>
<main id="innehall">
${body}
</main>
</body>
</html>`;
}

export interface DemoOrg {
  org: string;
  name: string;
}

export function signInPage(orgs: DemoOrg[], devSignIn: boolean, error?: string): Html {
  return layout(
    'Logga in',
    html`<h1>Logga in i Samsyn</h1>
${error ? html`<p class="notice error" role="alert">${error}</p>` : ''}
${
  devSignIn
    ? html`<form method="post" action="/inbox/signin">
  <fieldset>
    <legend>Utvecklingsinloggning (endast test och utveckling)</legend>
    <label for="org">Enhet</label>
    <select id="org" name="org">
      ${orgs.map((o) => html`<option value="${o.org}">${o.name} (${o.org})</option>`)}
    </select>
    <label for="user">Ditt namn</label>
    <input id="user" name="name" autocomplete="name" value="Handläggare">
    <p><button type="submit">Logga in som vald enhet</button></p>
  </fieldset>
</form>`
    : ''
}
<form method="post" action="/inbox/signin">
  <fieldset>
    <legend>Logga in med en åtkomsttoken</legend>
    <label for="token">Åtkomsttoken (Bearer JWT)</label>
    <textarea id="token" name="token" rows="4" cols="60" required></textarea>
    <p><button type="submit">Logga in med token</button></p>
  </fieldset>
</form>`,
  );
}

const STATE_LABEL: Record<string, string> = { unread: 'Oläst', read: 'Läst', done: 'Klar' };
const EMAIL_LABEL: Record<string, string> = {
  pending: 'E-post skickas',
  sent: 'E-post skickad',
  failed: 'E-post kunde inte skickas',
};

function ext(c: Communication, suffix: string): string | undefined {
  return c.extension?.find((e) => e.url.endsWith(suffix))?.valueCode;
}
export function caseOf(c: Communication): string | undefined {
  return c.about
    ?.map((a) => a.reference ?? '')
    .find((r) => r.startsWith('Task/') && c.payload?.[1]?.contentAttachment?.url?.includes(r.slice(5)))
    ?.slice(5);
}

export function noteItem(c: Communication): Html {
  const state = ext(c, '/inbox-state') ?? 'unread';
  const email = ext(c, '/email-delivery');
  const type = c.category?.[0]?.coding?.[0]?.code ?? '';
  const title = NOTIFICATION_TYPES[type as NotificationType] ?? type;
  const link = c.payload?.[1]?.contentAttachment?.url;
  const path = link ? new URL(link, 'http://x').pathname + new URL(link, 'http://x').hash : undefined;
  const markButton = (to: string, label: string) =>
    html`<form method="post" action="/inbox/communication/${c.id}/mark"><input type="hidden" name="state" value="${to}"><button class="secondary" type="submit">${label}<span class="visually-hidden">: ${title}</span></button></form>`;
  return html`<li class="${state}" data-id="${c.id}" data-state="${state}">
  <div><strong>${title}</strong>${c.priority === 'urgent' ? html` <span class="urgent">Brådskande</span>` : ''}</div>
  <p>${c.payload?.[0]?.contentString ?? ''}</p>
  <div class="meta"><span data-field="state">${STATE_LABEL[state] ?? state}</span> · skickad <time datetime="${c.sent}">${c.sent ? swedishTime(c.sent) : ''}</time>${email ? html` · <span data-field="email">${EMAIL_LABEL[email] ?? email}</span>` : ''}</div>
  <div class="actions">
    ${path ? html`<a class="button" href="${path}">Öppna ärendet<span class="visually-hidden">: ${title}</span></a>` : ''}
    ${state === 'unread' ? markButton('read', 'Markera som läst') : ''}
    ${state !== 'done' ? markButton('done', 'Markera som klar') : markButton('unread', 'Markera som oläst')}
  </div>
</li>`;
}

export interface ListFilters {
  status?: string;
  category?: string;
  caseId?: string;
}

export function inboxPage(
  who: { org: string; name?: string },
  notes: Communication[],
  total: number,
  filters: ListFilters,
): Html {
  const selected = (a: string | undefined, b: string) => (a === b ? raw(' selected') : '');
  return layout(
    'Inkorg',
    html`<h1>Inkorg</h1>
<form class="filters" method="get" action="/inbox" role="search" aria-label="Filtrera notiser">
  <div><label for="f-status">Status</label>
    <select id="f-status" name="status">
      <option value="">Alla</option>
      <option value="unread"${selected(filters.status, 'unread')}>Olästa</option>
      <option value="read"${selected(filters.status, 'read')}>Lästa</option>
      <option value="done"${selected(filters.status, 'done')}>Klara</option>
    </select></div>
  <div><label for="f-type">Typ</label>
    <select id="f-type" name="category">
      <option value="">Alla typer</option>
      ${Object.entries(NOTIFICATION_TYPES).map(
        ([code, label]) => html`<option value="${code}"${selected(filters.category, code)}>${label}</option>`,
      )}
    </select></div>
  <div><label for="f-case">Ärende (id)</label>
    <input id="f-case" name="case" value="${filters.caseId ?? ''}" size="38" pattern="[0-9a-fA-F-]{36}" title="Ärendets id (36 tecken)"></div>
  <div><button type="submit">Filtrera</button></div>
</form>
<p id="count">${total} ${total === 1 ? 'notis' : 'notiser'}</p>
<div id="live" class="visually-hidden" aria-live="polite" role="status"></div>
<ul class="notes" id="notes" aria-label="Notiser">
${notes.map(noteItem)}
</ul>
${notes.length === 0 ? html`<p id="empty">Inga notiser.</p>` : ''}
<script>${raw(LIVE_SCRIPT)}</script>`,
    who,
  );
}

/** Live updates: new notifications are added at the top and state changes applied, and announced politely. */
const LIVE_SCRIPT = `
(() => {
  const list = document.getElementById('notes');
  const live = document.getElementById('live');
  const params = new URLSearchParams(location.search);
  const filterStatus = params.get('status'), filterType = params.get('category'), filterCase = params.get('case');
  const labels = ${JSON.stringify({ types: NOTIFICATION_TYPES, states: STATE_LABEL, email: EMAIL_LABEL })};
  const source = new EventSource('/inbox/stream');
  source.addEventListener('communication', (e) => {
    const c = JSON.parse(e.data);
    const state = (c.extension || []).find((x) => x.url.endsWith('/inbox-state'))?.valueCode || 'unread';
    const email = (c.extension || []).find((x) => x.url.endsWith('/email-delivery'))?.valueCode;
    const type = c.category?.[0]?.coding?.[0]?.code || '';
    const about = (c.about || []).map((a) => a.reference || '');
    const existing = list.querySelector('li[data-id="' + c.id + '"]');
    if (existing) {
      existing.className = state;
      existing.dataset.state = state;
      existing.querySelector('[data-field="state"]').textContent = labels.states[state] || state;
      const mail = existing.querySelector('[data-field="email"]');
      if (mail && email) mail.textContent = labels.email[email] || email;
      return;
    }
    if ((filterStatus && filterStatus !== state) || (filterType && filterType !== type) ||
        (filterCase && !about.includes('Task/' + filterCase))) return;
    const li = document.createElement('li');
    li.className = state; li.dataset.id = c.id; li.dataset.state = state;
    const head = document.createElement('div');
    const strong = document.createElement('strong'); strong.textContent = labels.types[type] || type; head.append(strong);
    if (c.priority === 'urgent') { const u = document.createElement('span'); u.className = 'urgent'; u.textContent = ' Brådskande'; head.append(u); }
    const p = document.createElement('p'); p.textContent = c.payload?.[0]?.contentString || '';
    const meta = document.createElement('div'); meta.className = 'meta';
    const st = document.createElement('span'); st.dataset.field = 'state'; st.textContent = labels.states[state] || state;
    meta.append(st, ' · ny');
    const actions = document.createElement('div'); actions.className = 'actions';
    const link = c.payload?.[1]?.contentAttachment?.url;
    if (link) { const a = document.createElement('a'); a.className = 'button'; const u = new URL(link, location.href);
      a.href = u.pathname + u.hash; a.textContent = 'Öppna ärendet'; actions.append(a); }
    for (const [to, label] of [['read', 'Markera som läst'], ['done', 'Markera som klar']]) {
      const f = document.createElement('form'); f.method = 'post'; f.action = '/inbox/communication/' + c.id + '/mark';
      const i = document.createElement('input'); i.type = 'hidden'; i.name = 'state'; i.value = to;
      const b = document.createElement('button'); b.type = 'submit'; b.className = 'secondary'; b.textContent = label;
      f.append(i, b); actions.append(f);
    }
    li.append(head, p, meta, actions);
    list.prepend(li);
    document.getElementById('empty')?.remove();
    live.textContent = 'Ny notis: ' + (labels.types[type] || type) + '. ' + p.textContent;
  });
})();
`;

export interface CaseView {
  caseId: string;
  notes: Communication[];
  invitations: Task[];
  appointments: Appointment[];
  org: string;
  message?: string;
  error?: string;
  kallelseLanguages: { code: string; label: string }[];
  preferredLanguage?: string;
}

const TASK_STATUS: Record<string, string> = {
  requested: 'Väntar på svar',
  accepted: 'Accepterad',
  rejected: 'Avböjd',
  cancelled: 'Avbruten',
};
const MODE: Record<string, string> = { physical: 'På plats', video: 'Video', phone: 'Telefon' };

function invitationSection(t: Task, caseId: string): Html {
  const kind = t.input?.[0]?.type?.coding?.[0]?.code;
  const summoned = kind === 'summoned';
  return html`<section aria-labelledby="inv-${t.id}">
<h2 id="inv-${t.id}">Er ${summoned ? 'kallelse' : 'inbjudan'} till SIP</h2>
<p>Status: <strong data-field="invitation-status">${TASK_STATUS[t.status ?? ''] ?? t.status}</strong>.
${summoned ? 'Er enhet är kallad och ska delta (huvudman).' : 'Er enhet är inbjuden och kan delta.'}</p>
${
  t.status === 'requested'
    ? html`<div class="actions">
<form method="post" action="/inbox/case/${caseId}/answer">
  <input type="hidden" name="invitation" value="${t.id}"><input type="hidden" name="version" value="${t.meta?.versionId}">
  <input type="hidden" name="answer" value="accept">
  <button type="submit">Acceptera</button>
</form>
</div>
<form method="post" action="/inbox/case/${caseId}/answer">
  <fieldset><legend>Avböj</legend>
  <input type="hidden" name="invitation" value="${t.id}"><input type="hidden" name="version" value="${t.meta?.versionId}">
  <input type="hidden" name="answer" value="reject">
  <label for="reason-${t.id}">Skäl (obligatoriskt)</label>
  <textarea id="reason-${t.id}" name="reason" rows="2" cols="50" required maxlength="500"></textarea>
  ${
    summoned
      ? html`<label for="substitute-${t.id}">Enhet som kommer i stället (HSA-id, obligatoriskt för kallad huvudman)</label>
  <input id="substitute-${t.id}" name="substitute" required pattern="SE[0-9]{10}-[A-Za-z0-9]{1,31}" size="30">`
      : ''
  }
  <p><button type="submit">Avböj</button></p>
  </fieldset>
</form>
<form method="post" action="/inbox/case/${caseId}/answer">
  <fieldset><legend>Vidarebefordra till rätt enhet</legend>
  <input type="hidden" name="invitation" value="${t.id}"><input type="hidden" name="version" value="${t.meta?.versionId}">
  <input type="hidden" name="answer" value="forward">
  <label for="to-${t.id}">Enhetens HSA-id (samma huvudman)</label>
  <input id="to-${t.id}" name="to" required pattern="SE[0-9]{10}-[A-Za-z0-9]{1,31}" size="30">
  <p><button type="submit">Vidarebefordra</button></p>
  </fieldset>
</form>`
    : ''
}
</section>`;
}

function meetingSection(a: Appointment, view: CaseView): Html {
  const place = a.contained?.[0] as
    | { address?: { text?: string }; telecom?: { value?: string }[] }
    | undefined;
  const where = place?.address?.text ?? place?.telecom?.[0]?.value ?? '';
  const mode = a.appointmentType?.coding?.[0]?.code ?? '';
  const orgs = (a.participant ?? []).filter((p) => p.actor?.identifier?.value);
  const initiator = orgs.find(
    (p) => !p.type?.[0]?.coding?.some((c) => c.code === 'summoned' || c.code === 'invited'),
  );
  const mayRecord = initiator?.actor?.identifier?.value === view.org && a.status === 'booked';
  const attendanceOf = (p: (typeof orgs)[number]) =>
    (p as { extension?: { url: string; valueCode?: string }[] }).extension?.find((e) =>
      e.url.endsWith('/attendance'),
    )?.valueCode;
  return html`<section aria-labelledby="meeting-${a.id}">
<h2 id="meeting-${a.id}">SIP-möte</h2>
<p>${a.start ? swedishTime(a.start) : ''}, ${MODE[mode] ?? mode}${where ? `, ${where}` : ''}. Status: <strong>${a.status === 'fulfilled' ? 'Genomfört' : a.status === 'cancelled' ? 'Inställt' : 'Bokat'}</strong>.</p>
<ul>${orgs.map((p) => {
    const att = attendanceOf(p);
    return html`<li>${p.actor?.identifier?.value}${att ? html` – ${att === 'attended' ? 'deltog' : 'frånvarande'}` : ''}</li>`;
  })}</ul>
${
  mayRecord
    ? html`<form method="post" action="/inbox/case/${view.caseId}/attendance">
<fieldset><legend>Registrera närvaro</legend>
<input type="hidden" name="appointment" value="${a.id}"><input type="hidden" name="version" value="${a.meta?.versionId}">
${orgs.map((p, i) => {
  const org = p.actor?.identifier?.value ?? '';
  return html`<fieldset><legend>${org}</legend>
  <input type="radio" id="att-${i}-yes" name="att:${org}" value="attended" required><label for="att-${i}-yes" style="display:inline">Deltog</label>
  <input type="radio" id="att-${i}-no" name="att:${org}" value="absent"><label for="att-${i}-no" style="display:inline">Frånvarande</label>
  </fieldset>`;
})}
<p><button type="submit">Spara närvaro</button></p>
</fieldset></form>`
    : ''
}
<form method="get" action="/inbox/case/${view.caseId}/kallelse" id="kallelse">
<fieldset><legend>Kallelse till personen</legend>
<label for="lang-${a.id}">Språk</label>
<select id="lang-${a.id}" name="lang">
${view.kallelseLanguages.map((l) => html`<option value="${l.code}"${l.code === view.preferredLanguage ? raw(' selected') : ''}>${l.label}</option>`)}
</select>
<input type="hidden" name="appointment" value="${a.id}">
<p><button type="submit">Visa utskriftsbar kallelse</button></p>
</fieldset></form>
</section>`;
}

export function casePage(who: { org: string; name?: string }, view: CaseView): Html {
  return layout(
    'SIP-ärende',
    html`<p><a href="/inbox">← Tillbaka till inkorgen</a></p>
<h1>SIP-ärende <span class="meta">${view.caseId}</span></h1>
${view.message ? html`<p class="notice" role="status">${view.message}</p>` : ''}
${view.error ? html`<p class="notice error" role="alert">${view.error}</p>` : ''}
${view.invitations.map((t) => invitationSection(t, view.caseId))}
${view.appointments.map((a) => meetingSection(a, view))}
<h2>Notiser i ärendet</h2>
<ul class="notes">${view.notes.map(noteItem)}</ul>`,
    who,
  );
}
