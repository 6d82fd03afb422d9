// The staff inbox web pages under /inbox. The pages are a client of the public FHIR API: every read and every
// answer goes over HTTP to the same /fhir base with the signed-in user's bearer token (kept in an HttpOnly
// cookie), so the invitation service stays the only owner of invitations and meetings.
import type { Appointment, Bundle, Communication, OperationOutcome, Task } from '@samsyn/fhir';
import { HSA_SYSTEM } from '@samsyn/fhir';
import type { DevTokenMinter } from '@samsyn/platform';
import { type Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { KALLELSE_LANGUAGES } from '../kallelse/letter.ts';
import { type CaseView, casePage, type DemoOrg, inboxPage, signInPage } from './views.ts';

export const INBOX_COOKIE = 'samsyn_inbox';
const TASK_OUTPUT_SYSTEM = 'https://samsyn.se/fhir/CodeSystem/sip-task-output';
const ATTENDANCE_EXTENSION = 'https://samsyn.se/fhir/StructureDefinition/attendance';
const HSA_RE = /^SE\d{10}-[A-Za-z0-9]{1,31}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Demo units offered by the development sign-in (the units of the test fixtures and the examples). */
export const DEMO_ORGS: DemoOrg[] = [
  { org: 'SE2321000032-1001', name: 'Region Exempel, medicinavdelning 3' },
  { org: 'SE2120000415-2001', name: 'Exempels kommun, hemtjänst norr' },
  { org: 'SE2120000415-2002', name: 'Exempels kommun, hemtjänst söder' },
  { org: 'SE2120000415-3001', name: 'Exempels kommun, socialtjänst vuxen' },
  { org: 'SE2321000099-7777', name: 'Annan region, vårdcentral' },
];

export interface InboxDeps {
  devTokens?: DevTokenMinter;
  /** Where the FHIR API is reached from the server (default: the origin the browser used + /fhir). */
  fhirBase?: string;
}

interface Who {
  org: string;
  name?: string;
  token: string;
}

function claimsOf(token: string): { org?: string; name?: string; exp?: number } | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { org?: string; name?: string };
  } catch {
    return undefined;
  }
}

class SignedOut extends Error {}

export function inboxRoutes(deps: InboxDeps): Hono {
  const app = new Hono();

  const base = (c: Context) => deps.fhirBase ?? `${new URL(c.req.url).origin}/fhir`;

  function who(c: Context): Who {
    const token = getCookie(c, INBOX_COOKIE);
    const claims = token ? claimsOf(token) : undefined;
    if (!token || !claims?.org) throw new SignedOut();
    return { token, org: claims.org, ...(claims.name ? { name: claims.name } : {}) };
  }

  async function api(c: Context, user: Who, path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${user.token}`);
    if (!headers.has('accept')) headers.set('accept', 'application/fhir+json');
    const res = await fetch(`${base(c)}${path}`, { ...init, headers });
    if (res.status === 401) throw new SignedOut();
    return res;
  }

  async function entries<T>(c: Context, user: Who, path: string): Promise<{ items: T[]; total: number }> {
    const res = await api(c, user, path);
    if (res.status !== 200) return { items: [], total: 0 };
    const bundle = (await res.json()) as Bundle;
    const items = (bundle.entry ?? [])
      .filter((e) => e.search?.mode !== 'include')
      .map((e) => e.resource as T);
    return { items, total: bundle.total ?? items.length };
  }

  async function problem(res: Response): Promise<string> {
    try {
      const outcome = (await res.json()) as OperationOutcome;
      return outcome.issue?.map((i) => i.diagnostics).join('; ') || `HTTP ${res.status}`;
    } catch {
      return `HTTP ${res.status}`;
    }
  }

  app.onError((err, c) => {
    if (err instanceof SignedOut) {
      deleteCookie(c, INBOX_COOKIE, { path: '/inbox' });
      return c.redirect('/inbox/signin', 303);
    }
    throw err;
  });

  app.get('/inbox/signin', (c) => c.html(signInPage(DEMO_ORGS, deps.devTokens !== undefined)));

  app.post('/inbox/signin', async (c) => {
    const form = await c.req.parseBody();
    let token = typeof form.token === 'string' ? form.token.trim() : '';
    if (!token && deps.devTokens) {
      const org = typeof form.org === 'string' ? form.org : '';
      if (!HSA_RE.test(org)) {
        return c.html(signInPage(DEMO_ORGS, true, 'Välj en enhet med giltigt HSA-id.'), 400);
      }
      const name =
        typeof form.name === 'string' && form.name.trim() ? form.name.trim().slice(0, 100) : undefined;
      token = await deps.devTokens({ org, user: `${org.split('-')[0]}-9001`, ...(name ? { name } : {}) });
    }
    if (!token || !claimsOf(token)?.org) {
      return c.html(
        signInPage(DEMO_ORGS, deps.devTokens !== undefined, 'Token saknas eller är ogiltig.'),
        400,
      );
    }
    // The API decides whether the token is good: a token it refuses never becomes a session.
    const probe = await fetch(`${base(c)}/Communication?_count=0`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' },
    });
    if (probe.status !== 200) {
      return c.html(
        signInPage(DEMO_ORGS, deps.devTokens !== undefined, `Inloggningen nekades: ${await problem(probe)}`),
        401,
      );
    }
    setCookie(c, INBOX_COOKIE, token, {
      path: '/inbox',
      httpOnly: true,
      sameSite: 'Strict',
      secure: new URL(c.req.url).protocol === 'https:',
      maxAge: 12 * 3600,
    });
    return c.redirect('/inbox', 303);
  });

  app.post('/inbox/signout', (c) => {
    deleteCookie(c, INBOX_COOKIE, { path: '/inbox' });
    return c.redirect('/inbox/signin', 303);
  });

  app.get('/inbox', async (c) => {
    const user = who(c);
    const q = new URL(c.req.url).searchParams;
    const filters = {
      ...(q.get('status') ? { status: q.get('status') as string } : {}),
      ...(q.get('category') ? { category: q.get('category') as string } : {}),
      ...(q.get('case') && UUID_RE.test(q.get('case') as string) ? { caseId: q.get('case') as string } : {}),
    };
    const search = new URLSearchParams({ _count: '100' });
    if (filters.status) search.set('status', filters.status);
    if (filters.category) search.set('category', filters.category);
    if (filters.caseId) search.set('about', `Task/${filters.caseId}`);
    const { items, total } = await entries<Communication>(c, user, `/Communication?${search}`);
    return c.html(inboxPage(user, items, total, filters));
  });

  app.post('/inbox/communication/:id/mark', async (c) => {
    const user = who(c);
    const form = await c.req.parseBody();
    const state = typeof form.state === 'string' ? form.state : '';
    await api(c, user, `/Communication/${encodeURIComponent(c.req.param('id'))}/$mark`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'state', valueCode: state }] }),
    });
    const back = c.req.header('referer');
    const path = back ? new URL(back).pathname + new URL(back).search : '/inbox';
    return c.redirect(path.startsWith('/inbox') ? path : '/inbox', 303);
  });

  async function caseView(
    c: Context,
    user: Who,
    caseId: string,
    extra: Partial<CaseView> = {},
  ): Promise<CaseView> {
    const [notes, invitations, appointments] = await Promise.all([
      entries<Communication>(c, user, `/Communication?about=Task/${caseId}&_count=100`),
      entries<Task>(c, user, `/Task?part-of=Task/${caseId}&owner=${user.org}`),
      entries<Appointment>(c, user, `/Appointment?supporting-info=Task/${caseId}`),
    ]);
    return {
      caseId,
      org: user.org,
      notes: notes.items,
      invitations: invitations.items,
      appointments: appointments.items,
      kallelseLanguages: [{ code: '', label: 'Personens önskade språk' }, ...KALLELSE_LANGUAGES],
      ...extra,
    };
  }

  const OK_MESSAGES: Record<string, string> = {
    accept: 'Inbjudan är accepterad.',
    reject: 'Inbjudan är avböjd.',
    forward: 'Inbjudan är vidarebefordrad.',
    attendance: 'Närvaron är registrerad.',
  };

  app.get('/inbox/case/:caseId', async (c) => {
    const user = who(c);
    const caseId = c.req.param('caseId');
    if (!UUID_RE.test(caseId)) return c.notFound();
    const ok = new URL(c.req.url).searchParams.get('ok');
    const message = ok ? OK_MESSAGES[ok] : undefined;
    return c.html(casePage(user, await caseView(c, user, caseId, message ? { message } : {})));
  });

  app.post('/inbox/case/:caseId/answer', async (c) => {
    const user = who(c);
    const caseId = c.req.param('caseId');
    const form = await c.req.parseBody();
    const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string).trim() : '');
    const invitation = field('invitation');
    const answer = field('answer');
    let patch: unknown[] | undefined;
    let error: string | undefined;
    if (answer === 'accept') patch = [{ op: 'replace', path: '/status', value: 'accepted' }];
    else if (answer === 'reject') {
      if (!field('reason')) error = 'Ange ett skäl till att ni avböjer.';
      patch = [
        { op: 'replace', path: '/status', value: 'rejected' },
        { op: 'add', path: '/statusReason', value: { text: field('reason') } },
        ...(field('substitute')
          ? [
              {
                op: 'add',
                path: '/output',
                value: [
                  {
                    type: { coding: [{ system: TASK_OUTPUT_SYSTEM, code: 'substitute' }] },
                    valueReference: { identifier: { system: HSA_SYSTEM, value: field('substitute') } },
                  },
                ],
              },
            ]
          : []),
      ];
    } else if (answer === 'forward') {
      if (!HSA_RE.test(field('to'))) error = 'Ange mottagande enhets HSA-id, till exempel SE2120000415-2002.';
      patch = [
        { op: 'replace', path: '/owner', value: { identifier: { system: HSA_SYSTEM, value: field('to') } } },
      ];
    } else error = 'Välj ett svar.';
    if (!error && patch && UUID_RE.test(invitation)) {
      const res = await api(c, user, `/Task/${invitation}`, {
        method: 'PATCH',
        headers: {
          'content-type': 'application/json-patch+json',
          ...(field('version') ? { 'if-match': `W/"${field('version')}"` } : {}),
        },
        body: JSON.stringify(patch),
      });
      if (res.ok) return c.redirect(`/inbox/case/${caseId}?ok=${answer}`, 303);
      // After a forward the unit no longer owns the invitation, so the API's read-back answers 404 (SPEC §7):
      // if the invitation is gone from this unit's view, the forward took effect.
      if (answer === 'forward' && res.status === 404) {
        const after = await api(c, user, `/Task/${invitation}`);
        if (after.status === 404) return c.redirect(`/inbox/case/${caseId}?ok=forward`, 303);
      }
      error = `Svaret kunde inte sparas: ${await problem(res)}`;
    }
    return c.html(
      casePage(user, await caseView(c, user, caseId, { error: error ?? 'Okänd inbjudan.' })),
      400,
    );
  });

  app.post('/inbox/case/:caseId/attendance', async (c) => {
    const user = who(c);
    const caseId = c.req.param('caseId');
    const form = await c.req.parseBody();
    const id = typeof form.appointment === 'string' ? form.appointment : '';
    let error: string | undefined;
    if (UUID_RE.test(id)) {
      const current = await api(c, user, `/Appointment/${id}`);
      if (current.ok) {
        const appointment = (await current.json()) as Appointment;
        appointment.status = 'fulfilled';
        for (const p of appointment.participant ?? []) {
          const org = p.actor?.identifier?.value;
          const value = org ? form[`att:${org}`] : undefined;
          if (value === 'attended' || value === 'absent') {
            (p as { extension?: unknown[] }).extension = [{ url: ATTENDANCE_EXTENSION, valueCode: value }];
          }
        }
        const res = await api(c, user, `/Appointment/${id}`, {
          method: 'PUT',
          headers: {
            'content-type': 'application/fhir+json',
            'if-match': `W/"${appointment.meta?.versionId}"`,
          },
          body: JSON.stringify(appointment),
        });
        if (res.ok) return c.redirect(`/inbox/case/${caseId}?ok=attendance`, 303);
        error = `Närvaron kunde inte sparas: ${await problem(res)}`;
      } else error = `Mötet kunde inte läsas: ${await problem(current)}`;
    }
    return c.html(casePage(user, await caseView(c, user, caseId, { error: error ?? 'Okänt möte.' })), 400);
  });

  app.get('/inbox/case/:caseId/kallelse', async (c) => {
    const user = who(c);
    const q = new URL(c.req.url).searchParams;
    const search = new URLSearchParams({
      appointment: q.get('appointment') ?? '',
      language: q.get('lang') ?? '',
    });
    const res = await api(c, user, `/Communication/$kallelse?${search}`, {
      headers: { accept: 'text/html' },
    });
    if (res.status !== 200) {
      return c.html(
        casePage(
          user,
          await caseView(c, user, c.req.param('caseId'), {
            error: `Kallelsen kunde inte visas: ${await problem(res)}`,
          }),
        ),
        res.status as 400,
      );
    }
    return c.html(await res.text());
  });

  // Live updates for the open page: the API's $stream, passed through with the user's token.
  app.get('/inbox/stream', async (c) => {
    const user = who(c);
    const upstream = await api(c, user, '/Communication/$stream', {
      headers: { accept: 'text/event-stream' },
      signal: c.req.raw.signal,
    });
    return new Response(upstream.body, {
      status: upstream.status,
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' },
    });
  });

  return app;
}
