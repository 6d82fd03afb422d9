// E-mail notifications through a real SMTP server started in the test (smtp-server as the receiver): per-unit and
// per-user preferences, digest, retry with backoff, and a final failed state that never loses the notification.
import type { AddressInfo } from 'node:net';
import type { Communication, OperationOutcome, Parameters } from '@samsyn/fhir';
import { eventually, type Harness, ORGS, startHarness } from '@samsyn/testkit';
import { eq } from 'drizzle-orm';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailDeliveries } from '../src/db/schema.ts';
import { createNotificationService } from '../src/service.ts';
import { initiated, publish, text, waitFor } from './support.ts';

interface Received {
  to: string[];
  raw: string;
}
const received: Received[] = [];
/** Delivery attempts per recipient address, including the refused ones. */
const attempts = new Map<string, number>();

const smtp = new SMTPServer({
  disabledCommands: ['STARTTLS', 'AUTH'],
  authOptional: true,
  logger: false,
  onRcptTo(address, _session, callback) {
    const to = address.address;
    attempts.set(to, (attempts.get(to) ?? 0) + 1);
    // "broken" always refuses; "flaky" refuses the first two tries (a mail server that is down for a while).
    if (to.startsWith('broken') || (to.startsWith('flaky') && (attempts.get(to) ?? 0) <= 2)) {
      const err = new Error('Mailbox temporarily unavailable') as Error & { responseCode: number };
      err.responseCode = 451;
      callback(err);
      return;
    }
    callback();
  },
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      received.push({
        to: session.envelope.rcptTo.map((r) => r.address),
        raw: Buffer.concat(chunks).toString('utf8'),
      });
      callback();
    });
  },
});

let h: Harness;
beforeAll(async () => {
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  h = await startHarness({
    label: 'notifyemail',
    factories: [createNotificationService],
    env: {
      NOTIFICATION_SMTP_URL: `smtp://127.0.0.1:${port}`,
      NOTIFICATION_EMAIL_BACKOFF_MS: '100,200',
      NOTIFICATION_WORKER_POLL_MS: '50',
      NOTIFICATION_PUBLIC_URL: 'https://samsyn.example.se',
    },
  });
});
afterAll(async () => {
  await h?.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

async function prefer(
  org: string,
  params: Record<string, string | number>,
  user?: string,
): Promise<Response> {
  return h.request('/fhir/Communication/$email-preference', {
    method: 'POST',
    org,
    ...(user ? { claims: { user } } : {}),
    body: JSON.stringify({
      resourceType: 'Parameters',
      parameter: Object.entries(params).map(([name, v]) =>
        typeof v === 'number'
          ? { name, valueInteger: v }
          : name === 'address'
            ? { name, valueString: v }
            : { name, valueCode: v },
      ),
    }),
  });
}

const emailState = (c: Communication | undefined) =>
  c?.extension?.find((e) => e.url.endsWith('/email-delivery'))?.valueCode;

function decoded(raw: string): string {
  // Quoted-printable soft breaks and escapes, enough to read the Swedish text back.
  return Buffer.from(
    raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => `%${hex}`),
    'latin1',
  )
    .toString('latin1')
    .replace(/(%[0-9A-F]{2})+/g, (m) => decodeURIComponent(m));
}

describe('e-mail preferences', () => {
  it('are stored per unit and per user, read back, and validated', async () => {
    let res = await prefer(ORGS.municipalitySocial, {
      address: 'socialtjanst@kommun.example.se',
      mode: 'immediate',
    });
    expect(res.status).toBe(200);
    res = await prefer(
      ORGS.municipalitySocial,
      { address: 'handlaggare@kommun.example.se', mode: 'immediate', for: 'user' },
      'SE2120000415-9001',
    );
    const params = (await res.json()) as Parameters;
    expect(params.parameter).toHaveLength(2);
    res = await h.request('/fhir/Communication/$email-preference', { org: ORGS.municipalitySocial });
    expect(((await res.json()) as Parameters).parameter?.[0]?.part).toContainEqual({
      name: 'address',
      valueString: 'socialtjanst@kommun.example.se',
    });
    res = await prefer(ORGS.municipalitySocial, { address: 'not-an-address', mode: 'weekly' });
    expect(res.status).toBe(400);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.issue.map((i) => i.diagnostics).join(' ')).toMatch(/address.*e-mail address/);
    expect(outcome.issue.map((i) => i.diagnostics).join(' ')).toMatch(/mode/);
  });
});

describe('sending', () => {
  it('e-mails the unit mailbox and the staff member in Swedish with a link and no person data, and shows it was sent', async () => {
    const c = initiated();
    await publish(h, 'caseInitiated', c);
    const n = await waitFor(h, ORGS.municipalitySocial, 'invitation-received', c.caseId);
    const mails = await eventually(
      async () => {
        const mine = received.filter((r) => r.raw.includes(c.caseId));
        return mine.length >= 2 ? mine : undefined;
      },
      20_000,
      'two e-mails',
    );
    expect(mails.flatMap((m) => m.to).sort()).toEqual([
      'handlaggare@kommun.example.se',
      'socialtjanst@kommun.example.se',
    ]);
    const body = decoded(mails[0]?.raw ?? '');
    expect(body).toMatch(/Subject: .*Samsyn/);
    expect(body).toContain(text(n));
    expect(body).toContain(`https://samsyn.example.se/inbox/case/${c.caseId}`);
    expect(body).not.toMatch(/Tolvan|191212121212/);
    const sent = await eventually(
      async () => {
        const res = await h.request(`/fhir/Communication/${n.id}`, { org: ORGS.municipalitySocial });
        const now = (await res.json()) as Communication;
        return emailState(now) === 'sent' ? now : undefined;
      },
      20_000,
      'email state sent',
    );
    expect(emailState(sent)).toBe('sent');
  });

  it('sends nothing to a unit that turned e-mail off', async () => {
    await prefer(ORGS.municipalityOtherUnit, { address: 'av@kommun.example.se', mode: 'off' });
    const c = initiated();
    c.invitations = [{ invitationId: crypto.randomUUID(), org: ORGS.municipalityOtherUnit, kind: 'invited' }];
    await publish(h, 'caseInitiated', c);
    const n = await waitFor(h, ORGS.municipalityOtherUnit, 'invitation-received', c.caseId);
    await new Promise((r) => setTimeout(r, 500));
    expect(received.some((r) => r.to.includes('av@kommun.example.se'))).toBe(false);
    expect(emailState(n)).toBeUndefined();
  });

  it('collects notifications into one digest e-mail per interval', async () => {
    await prefer(ORGS.outsider, { address: 'digest@region.example.se', mode: 'digest', digestMinutes: 60 });
    const cases = [initiated(), initiated(), initiated()];
    for (const c of cases) {
      c.invitations = [{ invitationId: crypto.randomUUID(), org: ORGS.outsider, kind: 'invited' }];
      await publish(h, 'caseInitiated', c);
      await waitFor(h, ORGS.outsider, 'invitation-received', c.caseId);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(received.some((r) => r.to.includes('digest@region.example.se'))).toBe(false);
    // The hour passes.
    await h.database.db
      .update(emailDeliveries)
      .set({ nextAttemptAt: new Date() })
      .where(eq(emailDeliveries.address, 'digest@region.example.se'));
    const digest = await eventually(
      async () => received.find((r) => r.to.includes('digest@region.example.se')),
      20_000,
      'digest',
    );
    const body = decoded(digest.raw);
    expect(body).toMatch(/3 nya notiser/);
    for (const c of cases) expect(body).toContain(c.caseId);
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((r) => r.to.includes('digest@region.example.se'))).toHaveLength(1);
  });
});

describe('a failing SMTP server', () => {
  it('is retried with backoff until it takes the e-mail', async () => {
    await prefer(ORGS.regionWard, { address: 'flaky@region.example.se', mode: 'immediate' });
    const c = initiated();
    await publish(h, 'invitationAccepted', {
      caseId: c.caseId,
      invitationId: crypto.randomUUID(),
      org: ORGS.municipalityHomeCare,
      kind: 'summoned',
      at: '2026-11-21T09:00:00.000Z',
      requesterOrg: ORGS.regionWard,
    });
    const n = await waitFor(h, ORGS.regionWard, 'invitation-accepted', c.caseId);
    await eventually(
      async () => received.find((r) => r.to.includes('flaky@region.example.se')),
      20_000,
      'flaky',
    );
    expect(attempts.get('flaky@region.example.se')).toBe(3);
    await eventually(
      async () => {
        const res = await h.request(`/fhir/Communication/${n.id}`, { org: ORGS.regionWard });
        return emailState((await res.json()) as Communication) === 'sent' ? true : undefined;
      },
      20_000,
      'sent after retries',
    );
  });

  it('after the last try shows the e-mail as failed and keeps the notification in the inbox', async () => {
    await prefer(ORGS.municipalityHomeCare, { address: 'broken@kommun.example.se', mode: 'immediate' });
    const c = initiated();
    await publish(h, 'caseInitiated', c);
    const n = await waitFor(h, ORGS.municipalityHomeCare, 'invitation-received', c.caseId);
    const failed = await eventually(
      async () => {
        const res = await h.request(`/fhir/Communication/${n.id}`, { org: ORGS.municipalityHomeCare });
        const now = (await res.json()) as Communication;
        return emailState(now) === 'failed' ? now : undefined;
      },
      20_000,
      'failed',
    );
    expect(text(failed)).toBe(text(n));
    // One first try and one retry per backoff step (100 ms, 200 ms), then it stops.
    await new Promise((r) => setTimeout(r, 500));
    const [row] = await h.database.db
      .select()
      .from(emailDeliveries)
      .where(eq(emailDeliveries.communicationId, n.id as string));
    expect(row?.state).toBe('failed');
    expect(row?.attempts).toBe(3);
    expect(row?.lastError).toMatch(/451|temporarily unavailable/i);
    // Operators see it too: two failed tries that will be retried and one that gave up (the alert's metric).
    const metrics = await (await h.app.request('http://samsyn.test/metrics')).text();
    const count = (reason: string) =>
      Number(
        new RegExp(
          `samsyn_notification_failures_total\\{[^}]*channel="email"[^}]*reason="${reason}"[^}]*\\} (\\d+)`,
        ).exec(metrics)?.[1] ?? 0,
      );
    expect(count('gave-up')).toBeGreaterThanOrEqual(1);
    expect(count('retry')).toBeGreaterThanOrEqual(2);
  });
});
